"""`formcheck analyze` (no cache, no rendering) against the bare one-pose MediaPipe
loop, each a whole process, on one or more clips; in one process
(--workers 1) and on every core (the default), so the gain of the chunks
shows. Runs alternate (bare, one, all, bare, one, all, ...) and each pair's
ratio is taken, the median of the pairs reported: on a shared machine a
burst of load then hits the runs it is compared with alike. Goal: all cores
>= 1.6x the bare loop on a long clip (>= 900 frames), >= 1.2x on a ~10 s clip.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO, load_average, parser, result_line, whole_process

VIDEOS = REPO.parent / "shared" / "videos"
DEFAULT_CLIPS = ["squatfather_squat_video.mp4", "nowva_squats.mp4"]  # 2495 frames (83 s); 365 frames (12 s)


def frames_of(clip: Path) -> int:
    import cv2

    return int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--clips", nargs="*", default=None, help=f"clips (default: {' '.join(DEFAULT_CLIPS)})")
    p.set_defaults(repeat=3)
    args = p.parse_args()
    clips = [Path(c) if Path(c).is_file() else VIDEOS / c for c in (args.clips or (
        [args.clip] if "--clip" in sys.argv else DEFAULT_CLIPS))]
    rows = []
    for clip in clips:
        with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp:
            report = str(Path(tmp) / "r.json")
            sides = {
                "bare": [str(REPO / "bench" / "bare_loop.py"), str(clip)],
                "one": ["-m", "formcheck", "analyze", str(clip), "--no-cache", "--json", report, "-q",
                        "--workers", "1"],
                "all": ["-m", "formcheck", "analyze", str(clip), "--no-cache", "--json", report, "-q"],
            }
            times = {k: [] for k in sides}
            loads = []
            for _ in range(max(1, args.repeat)):
                loads.append(load_average())
                for name, cmd in sides.items():
                    times[name].append(whole_process(cmd))
        ratio_all = statistics.median(b / a for b, a in zip(times["bare"], times["all"]))
        ratio_one = statistics.median(b / a for b, a in zip(times["bare"], times["one"]))
        n = frames_of(clip)
        rows.append((clip.name, n, ratio_all, ratio_one))
        print(f"{clip.name}: {n} frames, {args.repeat} alternating rounds, load average "
              f"{min(loads):.1f}-{max(loads):.1f} on {__import__('os').cpu_count()} cores")
        for name, label in (("bare", "bare one-pose loop"), ("one", "analyze --workers 1"), ("all", "analyze")):
            print(f"  {label:22s} " + "  ".join(f"{t:6.1f}" for t in times[name]) + " s")
        print(f"  analyze / bare throughput {ratio_all:.2f}x (median of pairs); in one process {ratio_one:.2f}x")
    for name, n, r_all, r_one in rows:
        print(result_line("analyze_vs_bare", clip=name, frames=n, ratio=r_all, one_process_ratio=r_one,
                          load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
