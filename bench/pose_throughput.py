"""Pose layer throughput: extract_track(use_cache=False) against the bare MediaPipe
loop on the same clip. Goal: ours at 0.95x the bare throughput or better."""

from __future__ import annotations

from pathlib import Path

from common import bare_loop, interleaved, load_average, parser, result_line, warm_up

GOAL = 0.95


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    from formcheck.pose import extract_track

    warm_up()
    timed = interleaved({
        "bare": lambda: bare_loop(args.clip),
        "ours": lambda: extract_track(args.clip, use_cache=False, quiet=True).frames,
    }, args.repeat)
    (t_bare, n_bare), (t_ours, n_ours) = timed["bare"], timed["ours"]
    if n_bare != n_ours:
        print(f"note: frame counts differ (bare {n_bare}, ours {n_ours}); comparing per frame")
    bare_ms, ours_ms = 1000 * t_bare / n_bare, 1000 * t_ours / n_ours
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
