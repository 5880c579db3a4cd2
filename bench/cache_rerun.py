"""A re-run served by the pose cache against the first run that fills it
(pose + analysis, in-process), plus the wall time of a cached re-run of the
real command (`formcheck analyze CLIP`, interpreter start-up included)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import load_average, parser, result_line, warm_up

RERUNS = 5  # cache hits are quick and jittery: take the fastest of several


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    from formcheck.analyze import analyze_track
    from formcheck.media.model import file_sha256
    from formcheck.pose import extract_track

    def run() -> float:
        file_sha256.cache_clear()  # a new process would hash the video and model again
        t0 = time.perf_counter()
        analyze_track(extract_track(args.clip, quiet=True))
        return time.perf_counter() - t0

    warm_up()
    first, rerun, cli = [], [], []
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as cache:
            os.environ["FORMCHECK_CACHE"] = cache  # an empty cache: the first run is a real miss
            first.append(run())
            rerun += [run() for _ in range(RERUNS)]
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "formcheck", "analyze", args.clip, "--quiet"],
                           check=True, capture_output=True, env=dict(os.environ))
            cli.append(time.perf_counter() - t0)
    speedup = min(first) / min(rerun)
    print(f"{Path(args.clip).name}, fastest of {args.repeat} first runs and {RERUNS * args.repeat} re-runs")
    print(f"  first run (pose inference + analysis)  {min(first):7.3f} s")
    print(f"  cached re-run (load track + analysis)  {min(rerun):7.3f} s")
    print(f"  re-run speed-up                        {speedup:7.1f}x")
    print(f"  `formcheck analyze` re-run, whole process {min(cli):.2f} s")
    print(result_line("cache_rerun", clip=Path(args.clip).name, first_s=min(first), rerun_s=min(rerun),
                      speedup=speedup, cli_rerun_s=min(cli), load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
