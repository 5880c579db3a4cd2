"""Pose layer throughput in one process: extract_track(use_cache=False), formcheck's
LiteRT pipeline with the detector on every frame, against the bare MediaPipe loop
doing the same (two poses: its detector then runs on every frame too), on the
same clip. Goal: ours at 0.95x the bare throughput or better. (A model already
ran in this process, so the clip is not split across cores; analyze_vs_bare.py
measures that, against the fastest one-pose loop.)"""

from __future__ import annotations

from pathlib import Path

from common import against_bare, load_average, parser, result_line

GOAL = 0.95


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    from formcheck.pose import PoseSettings, extract_track

    bare_ms, ours_ms, n_ours = against_bare(
        args.clip, lambda: extract_track(args.clip, use_cache=False, quiet=True).frames, args.repeat,
        poses=PoseSettings().max_people)
    ratio = bare_ms / ours_ms  # our throughput as a share of the bare loop's
    print(f"{Path(args.clip).name}: {n_ours} frames, fastest of {args.repeat}")
    print(f"  bare MediaPipe loop   {bare_ms:7.2f} ms/frame  {1000 / bare_ms:6.1f} fps")
    print(f"  extract_track         {ours_ms:7.2f} ms/frame  {1000 / ours_ms:6.1f} fps")
    print(f"  ours / bare throughput {ratio:.3f}x (goal >= {GOAL}x: {'met' if ratio >= GOAL else 'NOT met'})")
    print(result_line("pose_throughput", clip=Path(args.clip).name, frames=n_ours, ours_ms_per_frame=ours_ms,
                      bare_ms_per_frame=bare_ms, ratio=ratio, goal=GOAL, load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
