"""Chunked pose inference gives the analysis of one continuous run.

For each clip: `formcheck pose` in one process (--workers 1) and in time
chunks (--workers N), each a fresh process, then both tracks analysed. The
two must agree: the same number of reps, rep bottoms within one frame, the
per-rep angles within 1 degree at the median (the largest difference is
printed), and the same verdict for every fault on every rep. Prints one
line per clip and exits 1 when any clip disagrees.

    python bench/chunk_equivalence.py [--clips A.mp4 B.mp4 ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
VIDEOS = Path(os.environ.get("FORMCHECK_SHARED", REPO.parent / "shared")) / "videos"
BOTTOM_FRAMES = 1
ANGLE_MEDIAN_DEG = 1.0


def pose(clip: Path, out: Path, workers: int) -> float:
    """Seconds `formcheck pose` took, no cache, in a process of its own."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "formcheck", "pose", str(clip), "-o", str(out), "--no-cache",
                           "-q", "--workers", str(workers)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{clip.name}: formcheck pose failed: {proc.stderr.strip()}")
    return time.perf_counter() - t0


def summary(analysis) -> dict:
    reps = []
    for r in analysis.reps:
        angles = {k: float(m.value) for k, m in r.metrics.items()
                  if m.unit == "deg" and m.measurable and m.value is not None and np.isfinite(m.value)}
        reps.append({"bottom": int(r.rep.bottom), "partial": bool(r.rep.partial), "angles": angles,
                     "findings": {c: f.verdict for c, f in sorted(r.findings.items())}})
    return {"reps": reps, "faults": sorted(f.code for f in analysis.faults), "warnings": list(analysis.warnings)}


def compare(one: dict, chunked: dict) -> dict:
    """Differences between the single-process and the chunked analysis."""
    a, b = one["reps"], chunked["reps"]
    out = {"reps": len(a), "reps_chunked": len(b), "bottom_max_frames": 0, "angle_median_deg": 0.0,
           "angle_max_deg": 0.0, "findings_differ": [], "ok": True}
    if len(a) != len(b):
        out["ok"] = False
        return out
    diffs = []
    for i, (ra, rb) in enumerate(zip(a, b)):
        out["bottom_max_frames"] = max(out["bottom_max_frames"], abs(ra["bottom"] - rb["bottom"]))
        for k in ra["angles"].keys() | rb["angles"].keys():
            if k in ra["angles"] and k in rb["angles"]:
                diffs.append(abs(ra["angles"][k] - rb["angles"][k]))
            else:
                out["findings_differ"].append(f"rep {i + 1}: {k} measured in one run only")
        for code in ra["findings"]:
            if ra["findings"][code] != rb["findings"].get(code):
                out["findings_differ"].append(f"rep {i + 1}: {code} {ra['findings'][code]} vs "
                                              f"{rb['findings'].get(code)}")
    if one["faults"] != chunked["faults"]:
        out["findings_differ"].append(f"clip faults {one['faults']} vs {chunked['faults']}")
    if diffs:
        out["angle_median_deg"], out["angle_max_deg"] = float(np.median(diffs)), float(np.max(diffs))
    out["ok"] = (out["bottom_max_frames"] <= BOTTOM_FRAMES and out["angle_median_deg"] <= ANGLE_MEDIAN_DEG
                 and not out["findings_differ"] and one["warnings"] == chunked["warnings"])
    if one["warnings"] != chunked["warnings"]:
        out["warnings_differ"] = [one["warnings"], chunked["warnings"]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="*", help="clip names in the shared videos folder, or paths (default: all)")
    ap.add_argument("--workers", type=int, default=2, help="workers of the chunked run (default 2)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from formcheck.analyze import analyze_track
    from formcheck.pose.track import PoseTrack

    clips = [Path(c) if Path(c).is_file() else VIDEOS / c for c in args.clips] if args.clips \
        else sorted(VIDEOS.glob("*.mp4"))
    results, load = {}, []
    with tempfile.TemporaryDirectory(prefix="formcheck-chunks-") as tmp:
        for clip in clips:
            load.append(os.getloadavg()[0])
            one, many = Path(tmp) / "one.npz", Path(tmp) / "many.npz"
            s_one = pose(clip, one, 1)
            s_many = pose(clip, many, args.workers)
            t_one, t_many = PoseTrack.load(one), PoseTrack.load(many)
            r = compare(summary(analyze_track(t_one)), summary(analyze_track(t_many)))
            r.update(frames=t_one.frames, chunks=int(t_many.meta.get("chunks", 1)), seconds_one=round(s_one, 2),
                     seconds_chunked=round(s_many, 2), same_frames=bool(np.array_equal(t_one.t, t_many.t)))
            r["ok"] = r["ok"] and r["same_frames"]
            results[clip.name] = r
            print(f"{clip.name:42s} {r['frames']:5d} frames {r['chunks']} chunks  reps {r['reps']}/{r['reps_chunked']}"
                  f"  bottoms <= {r['bottom_max_frames']} frame  angles median {r['angle_median_deg']:.2f}"
                  f" max {r['angle_max_deg']:.2f} deg  {s_one:5.1f} s / {s_many:5.1f} s  "
                  f"{'ok' if r['ok'] else 'DIFFERS ' + '; '.join(r['findings_differ'])}", flush=True)
    bad = [k for k, r in results.items() if not r["ok"]]
    worst = max((r["angle_max_deg"] for r in results.values()), default=0.0)
    print(f"{len(results) - len(bad)}/{len(results)} clips agree; largest per-rep angle difference {worst:.2f} deg; "
          f"load average {min(load, default=0):.1f}-{max(load, default=0):.1f} on {os.cpu_count()} cores")
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": results, "largest_angle_deg": worst}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
