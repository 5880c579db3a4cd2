"""Analyses the web server runs: kept on disk, run in worker processes behind a bounded queue.

Each analysis owns a folder DATA/analyses/<id>/ holding the upload, its
reports and job.json. Only the server process writes job.json (atomically,
on every change of status), so after a restart the folder says what
happened; an analysis that was queued or running when the server stopped
is marked failed, since its worker is gone.

The dispatcher thread hands one analysis at a time to each idle worker and
remembers which worker has which, so a worker that dies (out of memory, a
fault in a native library) fails exactly its own analysis and is replaced.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import secrets
import shutil
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from multiprocessing.connection import wait
from pathlib import Path

from formcheck.batch.clips import CRASHED
from formcheck.errors import FormcheckError
from formcheck.log import log
from formcheck.media.atomic import write_text

JOB_FILE = "job.json"
ID_PATTERN = re.compile(r"[0-9a-f]{16}")
INTERRUPTED = "the server stopped before this analysis finished; upload the video again"
ACTIVE = ("queued", "running")


class QueueFull(Exception):
    """No room for another analysis; the message says so in the lifter's words."""


@dataclass
class Job:
    id: str
    created: float  # seconds since the epoch
    file: str  # the name the browser sent, for display only: never part of a path
    video: str  # the upload's name inside the job folder (ours, e.g. video.mp4)
    lifter: str = ""
    symptoms: list[str] = field(default_factory=list)
    person: str = "auto"  # whom to analyse among the people in view: a --person value
    status: str = "queued"
    error: str = ""
    started: float | None = None
    finished: float | None = None
    summary: dict = field(default_factory=dict)  # reps, faults, view: what the history lists
    # In memory only: how far a running analysis is.
    progress: float = 0.0
    stage: str = ""
    frames_done: int = 0
    frames_total: int = 0

    def record(self) -> dict:
        out = asdict(self)
        for k in ("progress", "stage", "frames_done", "frames_total"):
            out.pop(k)
        return out

    @classmethod
    def from_record(cls, data: dict) -> "Job":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def eta_s(self, now: float) -> float | None:
        """Seconds left, from the pace so far; None until there is a pace to go by."""
        if self.status != "running" or not self.started or not 0.02 < self.progress < 1:
            return None
        elapsed = now - self.started
        return max(0.0, elapsed * (1 - self.progress) / self.progress)


def lock_data_folder(root: Path):
    """Hold DATA/.lock for as long as the returned file stays open: a second
    server on the same folder would clear the first one's uploads in flight
    and fail its running analyses, so it stops here and says who holds it."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this system (Windows): nothing to hold
        return None
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fh = open(root / ".lock", "a+", encoding="utf-8")
    except OSError as exc:
        raise FormcheckError(f"cannot use {root} as the data folder: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "a process"
        fh.close()
        raise FormcheckError(f"the data folder {root} is in use by another formcheck serve ({holder}): stop "
                             "that one, or give this one a --data folder of its own") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"process {os.getpid()}\n")
    fh.flush()
    return fh


class Store:
    """The data folder: one folder per analysis, plus tmp/ for uploads in flight."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.analyses = self.root / "analyses"
        self.tmp = self.root / "tmp"
        self.analyses.mkdir(parents=True, exist_ok=True)
        # Uploads cut off by a stop; nothing refers to them.
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def size(self) -> int:
        """Bytes the history takes on disk."""
        total = 0
        for path in self.analyses.rglob("*"):
            try:
                if path.is_file():
                    total += path.stat().st_size
            except OSError:
                pass
        return total

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    def folder(self, job_id: str) -> Path:
        if not ID_PATTERN.fullmatch(job_id):  # ids are ours; anything else never becomes a path
            raise KeyError(job_id)
        return self.analyses / job_id

    def save(self, job: Job) -> None:
        write_text(self.folder(job.id) / JOB_FILE, json.dumps(job.record(), indent=2, ensure_ascii=False) + "\n")

    def load(self) -> list[Job]:
        """Every analysis kept, oldest first; those a stop interrupted are marked failed."""
        jobs = []
        for path in sorted(self.analyses.glob(f"*/{JOB_FILE}")):
            if not ID_PATTERN.fullmatch(path.parent.name):
                continue
            try:
                job = Job.from_record(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue  # a damaged record: leave the folder alone, list nothing for it
            if job.id != path.parent.name:
                continue
            if job.status in ACTIVE:
                job.status, job.error, job.finished = "failed", INTERRUPTED, time.time()
                self.save(job)
            jobs.append(job)
        return sorted(jobs, key=lambda j: j.created)


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object  # the parent's end of the pipe
    job: str | None = None


class JobQueue:
    """Worker processes fed from a bounded queue.

    `work` runs in the worker (a top-level function, see web.work.run_job);
    `warm` prepares each worker once (loads the pose model) so an upload
    does not wait for it."""

    def __init__(self, store: Store, workers: int, limit: int, options: dict, work=None, warm=None):
        from formcheck.web import work as web_work

        self.store, self.limit, self.options = store, limit, options
        self.work = work or web_work.run_job
        self.warm = web_work.warm if warm is None else warm
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {j.id: j for j in store.load()}
        self.pending: deque[str] = deque()
        self.n_workers = workers
        self.workers: list[_Worker] = []
        self._context = multiprocessing.get_context("spawn")  # no inherited threads or sockets
        self._wake_r, self._wake_w = self._context.Pipe(duplex=False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ server side

    def start(self) -> None:
        self.workers = [self._spawn() for _ in range(self.n_workers)]
        self._thread = threading.Thread(target=self._loop, name="formcheck-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        if self._thread:
            self._thread.join(timeout=10)
        for w in self.workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in self.workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        with self.lock:  # what the stop cut short says so now, not only after a restart
            for job in self.jobs.values():
                if job.status in ACTIVE:
                    job.status, job.error, job.finished = "failed", INTERRUPTED, time.time()
                    self._save(job)

    def check_room(self) -> None:
        with self.lock:
            if len(self.pending) >= self.limit:
                raise QueueFull(f"the queue is full ({self.limit} analyses waiting); "
                                "try again when one has finished")

    def submit(self, job: Job) -> None:
        with self.lock:
            if len(self.pending) >= self.limit:
                raise QueueFull(f"the queue is full ({self.limit} analyses waiting); "
                                "try again when one has finished")
            self.store.save(job)
            self.jobs[job.id] = job
            self.pending.append(job.id)
        self._wake()

    def delete(self, job_id: str) -> bool:
        """Forget a finished analysis and remove its folder; False while it is queued or running."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.status in ACTIVE:
                return False
            del self.jobs[job_id]
        shutil.rmtree(self.store.folder(job_id), ignore_errors=True)
        return True

    def rerun(self, job_id: str, person: str) -> bool:
        """Queue a finished analysis again to follow another person (on its
        saved pose track: no new inference); False while it is queued or running."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.status in ACTIVE:
                return False
            if len(self.pending) >= self.limit:
                raise QueueFull(f"the queue is full ({self.limit} analyses waiting); "
                                "try again when one has finished")
            job.person, job.status, job.error, job.progress, job.stage = person, "queued", "", 0.0, ""
            self._save(job)
            self.pending.append(job.id)
        self._wake()
        return True

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def all(self) -> list[Job]:
        with self.lock:
            return sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            pass

    # ------------------------------------------------------------ dispatcher

    def _spawn(self) -> _Worker:
        from formcheck.web.work import worker_main

        parent, child = self._context.Pipe()
        p = self._context.Process(target=worker_main, args=(child, self.options, self.work, self.warm),
                                  name="formcheck-worker", daemon=True)
        p.start()
        child.close()
        return _Worker(p, parent)

    def _save(self, job: Job) -> None:
        """job.json, written from the dispatcher: a full disk must not stop
        it. The record stays right in memory and is written at its next change."""
        try:
            self.store.save(job)
        except FormcheckError as exc:
            log.warning("could not record analysis %s (%s)", job.id, exc)

    def _loop(self) -> None:
        while not self._stopping:
            try:
                self._turn()
            except Exception as exc:  # one bad turn must never leave uploads queued for ever
                log.warning("job dispatcher: %s: %s", type(exc).__name__, exc)
                time.sleep(0.5)

    def _turn(self) -> None:
        self._dispatch()
        watched = [self._wake_r] + [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]
        ready = wait(watched, timeout=2.0)
        if self._wake_r in ready:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
        for w in list(self.workers):
            if w.conn in ready:
                self._read(w)
        for w in list(self.workers):
            if w.process.sentinel in ready or not w.process.is_alive():
                self._replace(w)

    def _dispatch(self) -> None:
        with self.lock:
            for w in self.workers:
                if not self.pending:
                    return
                if w.job is None and w.process.is_alive():
                    job = self.jobs[self.pending.popleft()]
                    job.status, job.started, job.stage = "running", time.time(), "starting"
                    w.job = job.id
                    self._save(job)
                    task = {"id": job.id, "folder": str(self.store.folder(job.id)), "video": job.video,
                            "file": job.file, "symptoms": list(job.symptoms), "person": job.person}
                    try:
                        w.conn.send(task)
                    except OSError:
                        pass  # the worker just died: _replace fails this job

    def _read(self, w: _Worker) -> None:
        try:
            while w.conn.poll():
                kind, job_id, payload = w.conn.recv()
                self._apply(kind, job_id, payload, w)
        except (EOFError, OSError):
            pass  # the process is gone; its sentinel says so next

    def _apply(self, kind: str, job_id: str, payload: dict, w: _Worker) -> None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.status != "running":
                return
            if kind == "progress":
                for k in ("progress", "stage", "frames_done", "frames_total"):
                    if k in payload:
                        setattr(job, k, payload[k])
                return
            if kind == "done":
                job.status, job.summary, job.progress, job.stage = "done", payload, 1.0, "done"
            else:
                job.status, job.error = "failed", payload.get("error") or "the analysis failed"
            job.finished = time.time()
            w.job = None
            self._save(job)

    def _replace(self, w: _Worker) -> None:
        with self.lock:
            if w.job is not None:
                job = self.jobs.get(w.job)
                if job is not None and job.status == "running":
                    job.status, job.error, job.finished = "failed", CRASHED, time.time()
                    self._save(job)
            w.process.join(timeout=1)
            w.conn.close()
            self.workers.remove(w)
            if not self._stopping:
                self.workers.append(self._spawn())
