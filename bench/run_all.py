"""Run every benchmark in bench/ on one clip and print their results as a table.

Each benchmark runs in its own process (so one cannot warm the caches of the
next) and ends with a `RESULT name=... key=value ...` line, which is all this
script reads. Benchmarks other front ends add are run when present.

    python bench/run_all.py [--clip VIDEO]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_CLIP

HERE = Path(__file__).resolve().parent
BENCHES = ["pose_throughput", "analyze_vs_bare", "backends", "cache_rerun", "batch_throughput", "live_latency", "web_vs_analyze"]


def parse_result(stdout: str) -> dict[str, str] | None:
    """The key=value pairs of the last RESULT line, or None when there is none."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        return None
    return dict(item.split("=", 1) for item in lines[-1].split()[1:] if "=" in item)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(DEFAULT_CLIP))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per benchmark")
    args = ap.parse_args()

    rows = []
    for name in BENCHES:
        script = HERE / f"{name}.py"
        if not script.is_file():
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(script), "--clip", args.clip],
                                  capture_output=True, text=True, timeout=args.timeout)
            result = parse_result(proc.stdout) if proc.returncode == 0 else None
            problem = "" if result else f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1]}"
        except subprocess.TimeoutExpired:
            result, problem = None, f"timed out after {args.timeout:g} s"
        rows.append((name, result, problem, time.perf_counter() - t0))

    print(f"\nclip: {args.clip}\n")
    print(f"{'benchmark':<18} {'ratio':>8}  {'took':>6}  details")
    for name, result, problem, took in rows:
        if result is None:
            print(f"{name:<18} {'-':>8}  {took:5.0f}s  FAILED ({problem})")
            continue
        key = next((k for k in ("ratio", "speedup") if k in result), None)
        headline = result[key] if key else "-"
        details = " ".join(f"{k}={v}" for k, v in result.items() if k not in ("name", "clip", key))
        print(f"{name:<18} {headline:>8}  {took:5.0f}s  {details}")
    print("\n(ratio: our throughput as a share of the bare MediaPipe loop for pose_throughput and "
          "analyze_vs_bare; cache_rerun: first run / re-run; others: see each script's docstring)")
    return 1 if any(r[1] is None for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
