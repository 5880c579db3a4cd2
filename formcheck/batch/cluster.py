"""`formcheck batch --scheduler`: the same batch, one task per clip on a Dask cluster.

Workers run batch.analyse, the code a local pool worker runs, and send the
clip's files back as bytes; the client commits them (batch.commit), so
done.json markers, resume, --force and the summary are the local ones.

The videos are read by the workers at the paths the client sees: the input
folder must be on a filesystem every worker mounts at the same place. This
is checked on every connected worker before the first clip is sent, and
again by each task, and a miss ends the batch with one line (exit 2).

A worker that dies mid-clip is the scheduler's to handle: it hands the
clip to another worker, and after `distributed.scheduler.allowed-failures`
deaths (3 unless the scheduler is configured otherwise) gives up on it,
which the summary records as a crashed clip.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import uuid
from concurrent.futures import CancelledError
from functools import lru_cache

from formcheck import __version__
from formcheck.batch.clips import CRASHED, Clip, ClipResult, analyse, failure
from formcheck.batch.pool import default_jobs
from formcheck.errors import FormcheckError

CONNECT_TIMEOUT = 10  # seconds to reach the scheduler before giving up
LOCAL_RETRIES = 2  # allowed-failures of a `--scheduler local` cluster: a clip meets at most 3 deaths
SHARED_FS = "every worker must see the input videos at the same path (a shared filesystem; see the README)"


class WorkerCannotRun(Exception):
    """A worker lacks what every clip needs (the videos, the pose model, this
    formcheck version): a setup problem, not a bad clip, so the batch stops."""


# ---------------------------------------------------------------- on the worker

_local = threading.local()  # one pose model per worker thread: a model is not shared between threads


def _backend(model: str):
    from formcheck.pose import PoseSettings
    from formcheck.pose.backend import ReusedBackend

    cached = getattr(_local, "backend", None)
    if cached is None or cached[0] != model:
        if cached is not None:
            cached[1].close()
        _local.backend = (model, ReusedBackend(model, PoseSettings()))
    return _local.backend[1]


@lru_cache(maxsize=8)
def _model_here(path: str, sha256: str) -> str | None:
    """The client's pose model on this machine: its path when that holds the
    same file (shared filesystem, or the same install layout), else this
    install's bundled model when it is the same file, else None."""
    from formcheck.media.model import file_sha256, resolve_model

    for candidate in (path, str(resolve_model(None))):
        with contextlib.suppress(OSError, FormcheckError):
            if file_sha256(candidate) == sha256:
                return candidate
    return None


def _address() -> str:
    from distributed import get_worker

    with contextlib.suppress(ValueError):
        return get_worker().address
    return "a worker"


def _problem(videos: list[str], options: dict, where: str) -> str | None:
    """Why this worker cannot analyse these clips, or None."""
    if __version__ != options["formcheck"]:
        return f"worker {where} runs formcheck {__version__}, this client {options['formcheck']}: install the same version"
    for video in videos:
        if not os.access(video, os.R_OK):
            return f"worker {where} cannot read {video}: {SHARED_FS}"
    if _model_here(options["model"], options["model_sha256"]) is None:
        return f"worker {where} has no pose model matching {options['model']}: put it on the shared filesystem"
    return None


def check_worker(videos: list[str], options: dict, dask_worker=None) -> str | None:
    """Run on every connected worker before the batch starts."""
    return _problem(videos, options, dask_worker.address if dask_worker is not None else _address())


def run_clip(clip: Clip, options: dict, config: dict) -> ClipResult:
    """The Dask task: one clip, analysed exactly as by a local pool worker."""
    problem = _problem([clip.video], options, _address())
    if problem:
        raise WorkerCannotRun(problem)
    model = _model_here(options["model"], options["model_sha256"])
    return analyse(clip, {**options, "model": model}, config, _backend(model))


# ---------------------------------------------------------------- on the client

def _connect(address: str, jobs: int | None):
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise FormcheckError('--scheduler needs Dask: pip install "formcheck[distributed]"') from None
    if address == "local":
        # One thread per worker process: one model per process keeps a core
        # busy, as in the local pool.
        dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_RETRIES})
        try:
            with _workers_ignore_ctrl_c():
                cluster = LocalCluster(n_workers=jobs or default_jobs(), threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
        except Exception as exc:  # ports, process limits: one line, not distributed's traceback
            raise FormcheckError(f"cannot start a local Dask cluster: {exc}") from None
        return Client(cluster), cluster
    if jobs is not None:
        raise FormcheckError("--jobs sets the number of local workers; with a remote scheduler "
                             "the workers started there decide how many clips run at once")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, ValueError, TypeError) as exc:
        why = "no answer" if isinstance(exc, OSError) else str(exc).splitlines()[0]
        raise FormcheckError(f"cannot reach the Dask scheduler at {address} ({why} within {CONNECT_TIMEOUT} s; "
                             "is `dask scheduler` running there?)") from None


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Ctrl-C reaches every process of the terminal's group; the local
    cluster's workers, started meanwhile, inherit "ignore" and leave it to
    the client, which cancels the batch and shuts them down (else each
    prints a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def dask_engine(address: str, jobs: int | None):
    """Connect (or start a local cluster) and yield run(todo, options, config, on_result)."""
    client, cluster = _connect(address, jobs)
    try:
        yield lambda todo, options, config, on_result: run(client, todo, options, config, on_result)
    finally:
        # A worker's logs of cancelled tasks are no news to a user who pressed Ctrl-C.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        client.close()
        if cluster is not None:
            cluster.close()


def _check_workers(client, clips: list[Clip], options: dict) -> None:
    if not client.scheduler_info()["workers"]:
        print(f"formcheck: waiting for a Dask worker to join {client.scheduler.address}", file=sys.stderr)
        client.wait_for_workers(1)
    problems = client.run(check_worker, [c.video for c in clips], options)
    for problem in problems.values():
        if problem:
            raise FormcheckError(problem)


def run(client, clips: list[Clip], options: dict, config: dict, on_result) -> None:
    """One task per clip, in the order given (largest first: Dask runs earlier
    submissions first); on_result(ClipResult) as each completes."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    options = {**options, "formcheck": __version__}
    _check_workers(client, clips, options)
    batch = uuid.uuid4().hex[:8]  # keys unique per run: a re-run never meets an old run's result
    futures = {client.submit(run_clip, clip, options, config, key=f"formcheck-{batch}-{i}", pure=False): clip
               for i, clip in enumerate(clips)}
    try:
        for future in as_completed(futures):
            clip = futures.pop(future)
            try:
                result = future.result()
            except WorkerCannotRun as exc:
                raise FormcheckError(str(exc)) from None
            except CancelledError:  # the scheduler went away and took the batch's tasks with it
                raise FormcheckError(f"lost the Dask scheduler at {client.scheduler.address}; finished clips "
                                     "are kept, run the same command again to resume") from None
            except KilledWorker:
                result = failure(clip, f"{CRASHED}; tried on several workers")
            except Exception as exc:  # e.g. a result that cannot be sent back: still one clip
                result = failure(clip, f"internal error: {type(exc).__name__}: {exc}")
            future.release()
            on_result(result)
    finally:
        if futures:  # Ctrl-C or a setup problem: nothing more runs; committed clips stay done
            client.cancel(list(futures))
