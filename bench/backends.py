"""The two pose backends clip by clip on the labeled clips: formcheck's own
BlazePose pipeline on LiteRT (the default) against MediaPipe's Tasks API in
VIDEO mode (the reference), and LiteRT with the detector every k-th frame
against every frame. Per clip: landmark agreement (median and 95th
percentile distance over the frames both saw a person, in torso lengths),
rep counts, clip findings, and how each count compares with the label.

Tracks come from the pose cache (the first run infers them: about as long
as the clips, times three). Needs the mediapipe extra.

    python bench/backends.py [--every 3] [--labels ../shared/videos/labels.jsonl]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from common import REPO, result_line

VIDEOS = REPO.parent / "shared" / "videos"
TORSO = ([11, 12], [23, 24])  # shoulders, hips


def agreement(a, b) -> tuple[float, float, int]:
    """(median, 95th percentile) landmark distance in torso lengths, frames compared."""
    both = a.detected & b.detected
    if not both.any():
        return float("nan"), float("nan"), 0
    pa, pb = a.image[both][:, :33, :2], b.image[both][:, :33, :2]
    torso = np.linalg.norm(pb[:, TORSO[0]].mean(1) - pb[:, TORSO[1]].mean(1), axis=1)
    d = np.linalg.norm(pa - pb, axis=2) / torso[:, None]
    d = d[np.isfinite(d)]
    return float(np.median(d)), float(np.percentile(d, 95)), int(both.sum())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--labels", default=str(VIDEOS / "labels.jsonl"))
    p.add_argument("--every", type=int, default=3, help="the cadence compared with every frame (default 3)")
    args = p.parse_args()

    from formcheck.analyze import analyze_track
    from formcheck.pose.extract import extract_track
    from formcheck.pose.run import PoseSettings

    labels = [json.loads(line) for line in Path(args.labels).read_text().splitlines() if line.strip()]
    folder = Path(args.labels).parent
    kinds = {"litert": PoseSettings(), "mediapipe": PoseSettings(backend="mediapipe"),
             f"litert_k{args.every}": PoseSettings(detect_every=args.every)}
    rows = []
    print(f"{'clip':36s} {'label':>5s} {'litert':>6s} {'mp':>4s} {'k':>3s}  {'mp: median':>10s} {'p95':>5s}"
          f"  {'k: median':>9s} {'p95':>5s}  findings litert / mediapipe / k")
    for lab in labels:
        clip = folder / lab["file"]
        tracks = {k: extract_track(clip, settings=s, quiet=True, warn=False) for k, s in kinds.items()}
        analyses = {k: analyze_track(tr) for k, tr in tracks.items()}
        reps = {k: len(a.complete_reps) for k, a in analyses.items()}
        faults = {k: ";".join(sorted(f.code for f in a.faults)) or "-" for k, a in analyses.items()}
        mp = agreement(tracks["litert"], tracks["mediapipe"])
        kk = agreement(tracks[f"litert_k{args.every}"], tracks["litert"])
        ok = lab.get("reps_ok", [lab["reps"]])
        rows.append({"clip": lab["file"], "ok": ok, "reps": reps, "faults": faults, "mp": mp, "k": kk})
        k = f"litert_k{args.every}"
        print(f"{lab['file'][:36]:36s} {lab['reps']:>5d} {reps['litert']:>6d} {reps['mediapipe']:>4d} {reps[k]:>3d}"
              f"  {mp[0]:>10.3f} {mp[1]:>5.3f}  {kk[0]:>9.3f} {kk[1]:>5.3f}  "
              f"{faults['litert']} / {faults['mediapipe']} / {faults[k]}")
    k = f"litert_k{args.every}"
    right = {name: sum(r["reps"][name] in r["ok"] for r in rows) for name in kinds}
    same_reps = sum(r["reps"]["litert"] == r["reps"]["mediapipe"] for r in rows)
    same_faults = sum(r["faults"]["litert"] == r["faults"]["mediapipe"] for r in rows)
    med = statistics.median(r["mp"][0] for r in rows if r["mp"][2])
    p95 = statistics.median(r["mp"][1] for r in rows if r["mp"][2])
    kmed = statistics.median(r["k"][0] for r in rows if r["k"][2])
    kp95 = statistics.median(r["k"][1] for r in rows if r["k"][2])
    n = len(rows)
    print(f"\nclips: {n}; rep count as labeled: litert {right['litert']}, mediapipe {right['mediapipe']}, "
          f"litert every {args.every} frames {right[k]}")
    print(f"litert vs mediapipe: same reps on {same_reps}, same findings on {same_faults}; landmark distance "
          f"(median over clips) median {med:.3f}, p95 {p95:.3f} torso lengths")
    print(f"detector every {args.every} frames vs every frame: median {kmed:.3f}, p95 {kp95:.3f} torso lengths; "
          f"same reps on {sum(r['reps'][k] == r['reps']['litert'] for r in rows)}, same findings on "
          f"{sum(r['faults'][k] == r['faults']['litert'] for r in rows)}")
    print(result_line("backends", clips=n, litert_right=right["litert"], mediapipe_right=right["mediapipe"],
                      same_reps=same_reps, same_findings=same_faults, median=med, p95=p95))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
