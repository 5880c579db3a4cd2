"""Whole analysis (pose inference without cache + kinematics, reps, faults, advice;
no rendering, no files) against the bare MediaPipe loop on the same clip."""

from __future__ import annotations

import time
from pathlib import Path

from common import against_bare, load_average, parser, result_line


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    from formcheck.analyze import analyze_track
    from formcheck.pose import extract_track

    analyze_s = []

    def ours() -> int:
        track = extract_track(args.clip, use_cache=False, quiet=True)
        t0 = time.perf_counter()
        analyze_track(track)
        analyze_s.append(time.perf_counter() - t0)
        return track.frames

    bare_ms, ours_ms, n_ours = against_bare(args.clip, ours, args.repeat)
    analysis_ms = 1000 * min(analyze_s) / n_ours
    ratio = bare_ms / ours_ms
    print(f"{Path(args.clip).name}: {n_ours} frames, fastest of {args.repeat}")
    print(f"  bare MediaPipe loop   {bare_ms:7.2f} ms/frame")
    print(f"  analyze (no cache)    {ours_ms:7.2f} ms/frame, of which analysis after pose {analysis_ms:.3f} ms/frame")
    print(f"  ours / bare throughput {ratio:.3f}x")
    print(result_line("analyze_vs_bare", clip=Path(args.clip).name, frames=n_ours, ours_ms_per_frame=ours_ms,
                      bare_ms_per_frame=bare_ms, analysis_ms_per_frame=analysis_ms, ratio=ratio, load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
