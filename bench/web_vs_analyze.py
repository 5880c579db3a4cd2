"""`formcheck serve`: time from upload to report against `formcheck analyze`
on the same clip, the idle server's memory, and 5 uploads at once.

Every side does the same work without the pose cache: pose inference,
analysis, report.json, CSV, pose track, HTML report and annotated video.
The baseline ("in-process") is that work as a warm Python process does it,
the floor any front end can reach; `formcheck analyze` as a user types it
(a fresh process: start-up and model load included) and the server (warm
workers; upload, queue, worker, status polling) are timed against it, in
turns. The server's default worker count is used (half the cores).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from common import REPO, interleaved, load_average, result_line, warm_up

DEFAULT = REPO.parent / "shared" / "videos" / "evk_lean_side01.mp4"  # 10 s, 100 frames, side view
POLL_S = 0.1


def in_process(clip: Path, out: Path) -> None:
    from formcheck.analyze import analyze_track
    from formcheck.outputs.writers import OutputOptions, write_outputs
    from formcheck.pose import extract_track

    track = extract_track(clip, use_cache=False, quiet=True)
    analysis = analyze_track(track)
    write_outputs(analysis, OutputOptions(json=out / "report.json", csv=out / "report_reps.csv",
                                          html=out / "report.html", video_out=out / "annotated.mp4"))
    track.save(out / "report_pose.npz")


def cli(clip: Path, out: Path) -> None:
    subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(clip), "--out", str(out),
                    "--video-out", str(out / "annotated.mp4"), "--no-cache", "-q"],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def upload(base: str, clip: Path) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{clip.name}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + clip.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/api/analyses", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def until_done(base: str, job_id: str) -> dict:
    while True:
        with urllib.request.urlopen(f"{base}/api/analyses/{job_id}", timeout=60) as r:
            s = json.load(r)
        if s["status"] in ("done", "failed"):
            return s
        time.sleep(POLL_S)


def served(base: str, clip: Path) -> None:
    code, body = upload(base, clip)
    assert code == 202, body
    s = until_done(base, body["id"])
    assert s["status"] == "done", s


def memory_kb(pid: int, children: bool = True) -> tuple[int, int]:
    """(RSS, PSS) in kB of a process and (unless told not to) all its descendants, from /proc."""
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    kb = int(rest.split()[0])
                    rss, pss = (rss + kb, pss) if key == "Rss" else (rss, pss + kb)
            for task in Path(f"/proc/{p}/task").iterdir() if children else ():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return rss, pss


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(DEFAULT))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--at-once", type=int, default=5, help="uploads sent together (default 5)")
    args = ap.parse_args()
    clip = Path(args.clip)
    work = Path(tempfile.mkdtemp(prefix="formcheck-bench-web-"))
    proc = subprocess.Popen([sys.executable, "-m", "formcheck", "serve", "--port", "0", "--data", str(work / "data"),
                             "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        base = re.search(r"(http://[\d.]+:\d+)/", proc.stdout.readline()).group(1)
        time.sleep(15)  # the workers load the model; an idle server is one that has
        idle_rss, idle_pss = memory_kb(proc.pid)
        server_rss, server_pss = memory_kb(proc.pid, children=False)
        warm_up()
        runs = iter(range(10_000))

        def fresh() -> Path:
            out = work / f"out{next(runs)}"
            out.mkdir()
            return out

        timed = interleaved({"in-process": lambda: in_process(clip, fresh()),
                             "analyze CLI": lambda: cli(clip, fresh()),
                             "server": lambda: served(base, clip)}, args.repeat)
        base_s = timed["in-process"][0]

        # N uploads at once: what each gets back and when each report is ready.
        results: list = [None] * args.at_once

        def one(k: int) -> None:
            t0 = time.perf_counter()
            code, body = upload(base, clip)
            s = until_done(base, body["id"]) if code == 202 else {"status": "refused", "error": body.get("error")}
            results[k] = (code, s["status"], time.perf_counter() - t0)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=one, args=(k,)) for k in range(args.at_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        together = time.perf_counter() - t0
        busy_rss, busy_pss = memory_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)

    print(f"{clip.name}, fastest of {args.repeat}, in turns; load {load_average():.2f}")
    for name, (secs, _) in timed.items():
        print(f"  {name:<12} {secs:6.2f} s  {secs / base_s:5.3f}x the in-process run")
    print(f"  idle server: RSS {idle_rss / 1024:.0f} MB, PSS {idle_pss / 1024:.0f} MB (server and workers); "
          f"the web process alone RSS {server_rss / 1024:.0f} MB, PSS {server_pss / 1024:.0f} MB")
    codes = sorted(r[0] for r in results)
    finished = sorted(r[2] for r in results)
    print(f"  {args.at_once} uploads at once: answers {codes}, statuses {sorted(r[1] for r in results)}; "
          f"reports ready after {', '.join(f'{s:.1f}' for s in finished)} s; all in {together:.1f} s "
          f"= {together / timed['server'][0]:.2f}x one upload; memory then RSS {busy_rss / 1024:.0f} MB")
    print(result_line("web_vs_analyze", clip=clip.name, in_process_s=base_s, cli_s=timed["analyze CLI"][0],
                      server_s=timed["server"][0], ratio=timed["server"][0] / base_s,
                      cli_ratio=timed["analyze CLI"][0] / base_s, idle_rss_mb=idle_rss / 1024,
                      idle_pss_mb=idle_pss / 1024, web_process_rss_mb=server_rss / 1024, at_once=args.at_once, at_once_s=together,
                      load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
