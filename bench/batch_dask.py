"""`formcheck batch` on Dask against the local process pool, same folder, same machine.

Cold (pose inference, --no-cache): clips per minute of `--scheduler local
--jobs 2` (two Dask workers) against `--jobs 2`, each the whole command in a
fresh process, so worker start-up and model loading count. On one machine
the two should be near parity: Dask is there to add machines, not speed.

Warm (pose tracks cached, so a clip is only its analysis and its files):
the engine's own cost per clip, as the extra wall time per clip over
`--jobs 2`, for a local cluster started by the command and for a scheduler
with two workers already running (what a lab's cluster looks like), where
only the tasks' round trips remain.
--clip is accepted so that run_all.py can call every benchmark alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from batch_throughput import pick_clips
from common import interleaved, parser, result_line


def batch(folder: Path, *extra: str) -> float:
    """One whole batch command; the seconds its workers spent analysing (the
    clips' own `seconds`: decoding or cache read, analysis, rendering)."""
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as out:
        subprocess.run([sys.executable, "-m", "formcheck", "batch", str(folder), "--out", out, "--quiet", *extra],
                       check=True, capture_output=True)
        clips = json.loads((Path(out) / "summary.json").read_text())["clips"]
    if any(c["status"] != "ok" for c in clips):
        raise SystemExit(f"a clip failed: {[c for c in clips if c['status'] != 'ok']}")
    return sum(c["seconds"] for c in clips)


@contextlib.contextmanager
def running_cluster(workers: int = 2):
    """A scheduler and single-threaded workers on 127.0.0.1, as `dask` starts them."""
    from distributed import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **quiet)]
    try:
        procs += [subprocess.Popen([*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                    "--no-dashboard"], **quiet) for _ in range(workers)]
        with Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait()


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=4, help="clips in the folder (default %(default)s)")
    p.add_argument("--copies", type=int, default=4,
                   help="links to each clip in the warm runs, for more clips per run (default %(default)s)")
    p.set_defaults(repeat=1)  # a cold run takes a minute or more; raise --repeat on a quiet machine
    args = p.parse_args()
    clips = pick_clips(args.clips)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-set-") as tmp:
        cold, warm = Path(tmp, "cold"), Path(tmp, "warm")
        cold.mkdir()
        warm.mkdir()
        for clip in clips:
            (cold / clip.name).symlink_to(clip)
            for i in range(args.copies):  # the same content: one cached track serves every copy
                (warm / f"{i}_{clip.name}").symlink_to(clip)
        batch(warm, "--jobs", "2")  # fills the pose cache for the warm runs
        cold_t = interleaved({"pool": lambda: batch(cold, "--jobs", "2", "--no-cache"),
                              "dask": lambda: batch(cold, "--scheduler", "local", "--jobs", "2", "--no-cache")},
                             args.repeat)
        with running_cluster() as address:
            batch(warm, "--scheduler", address)  # workers import formcheck once, as they would in a lab
            warm_t = interleaved({"pool": lambda: batch(warm, "--jobs", "2"),
                                  "local": lambda: batch(warm, "--scheduler", "local", "--jobs", "2"),
                                  "running": lambda: batch(warm, "--scheduler", address)}, args.repeat)
    n, m = len(clips), len(clips) * args.copies
    per_min = {k: 60 * n / s for k, (s, _) in cold_t.items()}
    extra_ms = {k: 1000 * (s - warm_t["pool"][0]) / m for k, (s, _) in warm_t.items() if k != "pool"}
    # Engine overhead: worker-slot time per clip not spent analysing it
    # (start-up, scheduling, sending files back, the client's writes).
    slot_ms = {k: 1000 * (2 * s - busy) / m for k, (s, busy) in warm_t.items()}
    print(f"{n} clips cold, {m} warm; fastest of {args.repeat}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    print(f"  cold --jobs 2:                 {cold_t['pool'][0]:6.1f} s  {per_min['pool']:6.2f} clips/min")
    print(f"  cold --scheduler local -j 2:   {cold_t['dask'][0]:6.1f} s  {per_min['dask']:6.2f} clips/min"
          f"  ({per_min['dask'] / per_min['pool']:.2f}x the pool's throughput)")
    print(f"  warm --jobs 2:                 {warm_t['pool'][0]:6.1f} s  {1000 * warm_t['pool'][0] / m:6.0f} ms/clip"
          f"  engine overhead {slot_ms['pool']:.0f} ms/clip")
    for key, label in (("local", "--scheduler local -j 2"), ("running", "running scheduler, 2 workers")):
        secs = warm_t[key][0]
        print(f"  warm {label + ':':<26}{secs:6.1f} s  {1000 * secs / m:6.0f} ms/clip"
              f"  ({warm_t['pool'][0] / secs:.2f}x the pool's throughput, {extra_ms[key]:+.0f} ms/clip)"
              f"  engine overhead {slot_ms[key]:.0f} ms/clip")
    print(result_line("batch_dask", clips=n, warm_clips=m, pool_clips_per_min=per_min["pool"],
                      dask_clips_per_min=per_min["dask"], ratio=per_min["dask"] / per_min["pool"],
                      local_extra_ms_per_clip=extra_ms["local"], running_extra_ms_per_clip=extra_ms["running"],
                      **{f"{k}_overhead_ms_per_clip": v for k, v in slot_ms.items()},
                      load=load_before))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
