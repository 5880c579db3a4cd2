"""`formcheck batch --scheduler`: the same batch on a real Dask cluster (a
scheduler and workers started here as separate processes, on 127.0.0.1
only): the same results as a local run, every clip finished once when a
worker is killed mid-clip, and one clear line for a cluster it cannot use."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from formcheck.cli.main import main  # noqa: E402
from test_batch import make_folder, summary  # noqa: E402

CLIPS = {"a.mp4": "evk_good_side01.mp4", "b.mp4": "mlsac_no_depth.mp4", "sub/c.mp4": "dnly09_gf_1_goodform.mp4"}
CLIP_FILES = ["done.json", "report.json", "report_pose.npz", "report_reps.csv"]
START_TIMEOUT = 180  # s for the processes to come up on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], log: Path, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    with open(log, "w") as fh:
        return subprocess.Popen([*prefix, sys.executable, "-m", "dask", *args], stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


@contextlib.contextmanager
def cluster(tmp_path: Path, workers: int = 2, worker_prefix: tuple[str, ...] = ()):
    """A scheduler and `workers` single-threaded workers without nannies (a
    killed worker stays dead); yields (address, {worker address: process})."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    procs = [_spawn(["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                    tmp_path / "scheduler.log")]
    try:
        for i in range(workers):
            procs.append(_spawn(["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                                 "--no-dashboard", "--name", f"w{i}"], tmp_path / f"worker{i}.log", worker_prefix))
        with Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT)
            pids = client.run(os.getpid)
        by_pid = {p.pid: p for p in procs}
        yield address, {addr: by_pid[pid] for addr, pid in pids.items()}
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def batch(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "formcheck", "batch", *args, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=900)
    return proc.returncode, out, err


def results(out: Path) -> dict[str, tuple]:
    """What a coach compares per clip: status, reps, findings, error."""
    return {rel: (c["status"], c.get("reps"), c.get("faults"), c.get("top_fault"), c.get("error"))
            for rel, c in summary(out).items()}


def test_a_cluster_batch_matches_a_local_one_and_resumes_the_same_way(tmp_path, videos):
    src = make_folder(tmp_path, videos, CLIPS)
    (src / "broken.mp4").write_bytes(os.urandom(4000))
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert main(["batch", str(src), "--out", str(local), "--jobs", "1", "--quiet"]) == 1  # broken.mp4 fails

    with cluster(tmp_path) as (address, _):
        code, stdout, stderr = finish(batch(str(src), "--out", str(remote), "--scheduler", address))
        assert code == 1, stderr
        assert results(remote) == results(local)
        assert set(results(remote)) == set(CLIPS) | {"broken.mp4"}
        assert results(remote)["broken.mp4"][0] == "failed" and "broken.mp4" in stdout
        for rel, c in summary(remote).items():
            if rel == "broken.mp4":
                assert c["folder"] == "" and not (remote / "clips" / "broken").exists()
                continue
            folder, twin = remote / c["folder"], local / summary(local)[rel]["folder"]
            assert sorted(p.name for p in folder.iterdir()) == CLIP_FILES
            # The very same report, written by the client from the worker's bytes.
            assert (folder / "report.json").read_text() == (twin / "report.json").read_text()
            assert (folder / "report_reps.csv").read_text() == (twin / "report_reps.csv").read_text()
            assert json.loads((folder / "done.json").read_text())["files"] == CLIP_FILES[1:]
        # The clips really went through the scheduler: one task each, each
        # run once and forgotten (counts are of transitions into each state).
        from distributed import Client

        with Client(address, timeout=30) as client:
            counts = client.run_on_scheduler(
                lambda dask_scheduler: dict(dask_scheduler.task_prefixes["formcheck"].state_counts))
        assert counts["processing"] == counts["forgotten"] == len(CLIPS) + 1, counts

        # Resume is the local one: finished clips skipped, the failed one redone; --force redoes all.
        code, _, stderr = finish(batch(str(src), "--out", str(remote), "--scheduler", address))
        again = summary(remote)
        assert code == 1 and {r for r, c in again.items() if c["run"] == "skipped"} == set(CLIPS), stderr
        (src / "broken.mp4").unlink()
        code, _, stderr = finish(batch(str(src), "--out", str(remote), "--scheduler", address, "--force"))
        assert code == 0, stderr
        assert all(c["run"] == "analysed" for c in summary(remote).values())
        assert results(remote) == {r: v for r, v in results(local).items() if r != "broken.mp4"}


def test_a_worker_killed_mid_clip_loses_no_clip(tmp_path, videos, real_track):
    from distributed import Client

    from formcheck.analyze import analyze_track

    src, out = make_folder(tmp_path, videos, CLIPS), tmp_path / "out"
    with cluster(tmp_path) as (address, workers):
        # --no-cache: each clip takes seconds of inference, long enough to be killed during.
        proc = batch(str(src), "--out", str(out), "--scheduler", address, "--no-cache")
        try:
            with Client(address, timeout=30) as client:
                deadline = time.monotonic() + START_TIMEOUT
                busy = []
                while not busy:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "no clip was ever started"
                    busy = [w for w, keys in client.processing().items() if keys]
                    time.sleep(0.05)
            victim = workers[busy[0]]
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            code, _, stderr = finish(proc)
            with Client(address, timeout=30) as client:
                counts = client.run_on_scheduler(
                    lambda dask_scheduler: dict(dask_scheduler.task_prefixes["formcheck"].state_counts))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
    assert code == 0, stderr
    assert counts["processing"] > len(CLIPS), counts  # the killed worker's clip was handed out again
    done = summary(out)
    assert set(done) == set(CLIPS)
    for rel, c in done.items():
        assert (c["status"], c["run"]) == ("ok", "analysed"), c
        assert c["reps"] == len(analyze_track(real_track(CLIPS[rel])).complete_reps), rel
    folders = sorted(out.glob("clips/*"))
    assert len(folders) == len(CLIPS)  # one folder per clip, each with one complete result
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == CLIP_FILES
        marker = json.loads((folder / "done.json").read_text())
        assert json.loads((folder / "report.json").read_text())["rep_count"] == marker["result"]["reps"]
    assert not list(out.rglob("*.part"))


def one_line_error(proc: subprocess.Popen) -> str:
    code, stdout, stderr = finish(proc)
    assert code == 2 and stdout == "", (code, stdout, stderr)
    assert len(stderr.strip().splitlines()) == 1, stderr
    return stderr


def test_an_unreachable_scheduler_is_one_line_before_any_work(tmp_path, videos):
    src, out = make_folder(tmp_path, videos, {"a.mp4": CLIPS["a.mp4"]}), tmp_path / "out"
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    err = one_line_error(batch(str(src), "--out", str(out), "--scheduler", address))
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert not out.exists()  # not even the output folder


def _can_hide_folders() -> bool:
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "none", "/mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_hide_folders(), reason="needs `unshare -m` (root) to give a worker its own mounts")
def test_a_worker_that_cannot_see_the_videos_stops_the_batch_with_one_line(tmp_path, videos):
    """The worker runs in its own mount namespace with an empty folder over
    the input folder: a machine without the shared filesystem."""
    src, out = make_folder(tmp_path, videos, CLIPS), tmp_path / "out"
    hide = ("unshare", "-m", "--propagation", "private", "sh", "-c", f'mount -t tmpfs none "{src}" && exec "$0" "$@"')
    with cluster(tmp_path, workers=1, worker_prefix=hide) as (address, _):
        err = one_line_error(batch(str(src), "--out", str(out), "--scheduler", address))
    assert "cannot read" in err and str(src) in err and "shared filesystem" in err
    assert not list(out.glob("clips/*"))  # stopped before any clip was sent
