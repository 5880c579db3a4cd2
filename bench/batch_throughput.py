"""`formcheck batch` over a folder of shared clips: clips/minute and frames/s
with --jobs 1 against --jobs 2 (pose inference included: --no-cache), and
the ratio (the aim is 1.8x or better on two free cores).

Each run is the whole command in a fresh process, so worker start-up and
model loading count, as they do for a user. CPU seconds per frame and the
load average are printed too: on a machine whose cores other work already
fills, a second job cannot add throughput, and those two numbers show it.
--clip is accepted so that run_all.py can call every benchmark alike; this
one always times a folder.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, interleaved, parser, result_line

VIDEOS = REPO.parent / "shared" / "videos"
# Short to medium clips (100-260 frames, 5-12 s) of varied sizes: the mix a coach uploads.
DEFAULT_SET = ["formfit_squat.mp4", "healthserv_squat.mp4", "hackdartmouth_squat.mp4", "kham_perfect_demo.mp4",
               "spotme_test_bad5.mp4", "kham_knee_over_toes.mp4", "evk_good_side01.mp4", "evk_lean_side01.mp4"]


def pick_clips(count: int) -> list[Path]:
    """The default set first, then the remaining shared clips, smallest files first."""
    others = sorted((p for p in VIDEOS.glob("*.mp4") if p.name not in DEFAULT_SET), key=lambda p: p.stat().st_size)
    return ([VIDEOS / name for name in DEFAULT_SET] + others)[:count]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for processes, workers included
    return usage.ru_utime + usage.ru_stime


def run_batch(folder: Path, jobs: int) -> tuple[int, float]:
    """One batch over the folder: (frames analysed, CPU seconds used)."""
    cpu = children_cpu()
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as out:
        subprocess.run([sys.executable, "-m", "formcheck", "batch", str(folder), "--out", out,
                        "--jobs", str(jobs), "--no-cache", "--quiet"], check=True, capture_output=True)
        clips = json.loads((Path(out) / "summary.json").read_text())["clips"]
    if any(c["status"] != "ok" for c in clips):
        raise SystemExit(f"a clip failed: {[c for c in clips if c['status'] != 'ok']}")
    return sum(c["frames"] for c in clips), children_cpu() - cpu


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=len(DEFAULT_SET), help="clips in the folder (default %(default)s)")
    p.add_argument("--jobs", type=int, nargs=2, default=[1, 2], metavar=("A", "B"),
                   help="the two --jobs values compared (default 1 2)")
    p.set_defaults(repeat=1)  # each run takes minutes; raise --repeat on a quiet machine
    args = p.parse_args()
    clips = pick_clips(args.clips)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-set-") as tmp:
        folder = Path(tmp)
        for clip in clips:
            (folder / clip.name).symlink_to(clip)
        timed = interleaved({jobs: (lambda jobs=jobs: run_batch(folder, jobs)) for jobs in args.jobs}, args.repeat)
    a, b = args.jobs
    (t_a, (frames, _)), (t_b, _) = timed[a], timed[b]
    ratio = t_a / t_b
    print(f"{len(clips)} clips, {frames} frames, fastest of {args.repeat}; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    for jobs, (secs, (_, cpu)) in timed.items():
        print(f"  --jobs {jobs}: {secs:6.1f} s  {60 * len(clips) / secs:6.2f} clips/min  {frames / secs:6.1f} frames/s"
              f"  {1000 * cpu / frames:5.1f} CPU ms/frame")
    print(f"  --jobs {b} / --jobs {a} throughput {ratio:.2f}x")
    print(result_line("batch_throughput", clips=len(clips), frames=frames, **{
        f"jobs{j}_clips_per_min": 60 * len(clips) / s for j, (s, _) in timed.items()}, **{
        f"jobs{j}_frames_per_s": frames / s for j, (s, _) in timed.items()}, **{
        f"jobs{j}_cpu_ms_per_frame": 1000 * c / frames for j, (_, (_, c)) in timed.items()},
        load=load_before, ratio=ratio))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
