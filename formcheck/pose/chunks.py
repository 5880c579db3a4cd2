"""One clip on every core: time chunks in worker processes, joined into one track.

One pose model keeps about one core busy, so a clip is cut into as many
stretches of time as there are workers (each at least MIN_CHUNK_S long);
each stretch runs in a process with its own model, the first one here.

Why the joined track is the one-process track: with the detector on every
frame (LiteRT's default, pose.blazepose), a frame's landmarks depend on that
frame alone. MediaPipe's Tasks API, asked for two poses, runs its detector on
every frame in which it tracks fewer than two people, and only while it
tracks two carries them over from frame to frame; for that case each chunk
starts WARMUP_S before its stretch and drops those frames
(tests/test_chunks.py checks both). LiteRT with detect_every > 1 follows
people from frame to frame too, and is never chunked.

Chunks are joined by the container's timestamps, never by seek positions
(decoders land near a requested time, not on it): a chunk must have decoded
the last frame of the chunk before it, else the clip runs in one process.

Worker processes are forked before this process loads a model, with the
runtime already imported, so a worker costs no imports, only its model.
A process that already ran a model carries its threads and state, which a
fork would copy half-way, and forking any process with other threads
running risks a lock held forever; so such a process, or a system without
fork, runs its clips in one piece (`can_fork`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from formcheck.media.video import VideoSource
from formcheck.pose.run import (
    OUT_OF_ORDER,
    NotUpright,
    PoseSettings,
    finish_track,
    pose_stretch,
    progress_bar,
    run_pose,
)
from formcheck.pose.track import Crowd, PoseTrack

MIN_CHUNK_S = 2.0  # a worker costs about half a second to start: shorter stretches are not worth one
WARMUP_S = 0.5  # frames run before a chunk's stretch and dropped (see the module's notes)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Workers can be forked: the system has fork, no model ran here yet and
    no other thread is running."""
    from formcheck.pose.person import models_loaded

    return ("fork" in multiprocessing.get_all_start_methods() and models_loaded() == 0
            and threading.active_count() == 1)


@dataclass(frozen=True)
class Chunk:
    start_s: float | None  # its first frame is the first at or after this time (None: the clip's start)
    stop_s: float | None  # it ends before the first frame at or after this time (None: the clip's end)


def plan(first_t: float, duration_s: float, workers: int) -> list[Chunk]:
    """Equal stretches of the clip, one per worker, none shorter than MIN_CHUNK_S."""
    count = max(1, min(workers, int(duration_s // MIN_CHUNK_S)))
    cuts = [None] + [first_t + duration_s * k / count for k in range(1, count)] + [None]
    return [Chunk(cuts[k], cuts[k + 1]) for k in range(count)]


class Mismatch(Exception):
    """Two neighbouring chunks' frames do not line up: run the clip in one piece."""


def _key(t: float) -> int:
    return round(float(t) * 1e6)  # microseconds: exact for container times


FIELDS = ("t", "image", "visibility", "presence", "world", "people", "masks")


def join(tracks: list[PoseTrack]) -> PoseTrack:
    """One track from the chunks' tracks, each of which starts before the
    previous one ends: its rows up to and including the previous chunk's
    last frame are dropped."""
    first = [0]  # the first row each chunk keeps
    rows = list(tracks[0].meta["source_frames"])  # file frame numbers, counted from the clip's start
    for prev, track in zip(tracks, tracks[1:]):
        if prev.frames == 0 or track.frames == 0:
            raise Mismatch("an empty chunk")
        keys = {_key(t): i for i, t in enumerate(track.t)}
        last = keys.get(_key(prev.t[-1]))
        if last is None:
            raise Mismatch(f"the chunk from {track.t[0]:.2f} s did not decode the frame at {prev.t[-1]:.2f} s")
        # Its frame numbers count from its seek point: the shared frame tells the offset.
        frames = track.meta["source_frames"]
        offset = rows[-1] - frames[last]
        rows += [i + offset for i in frames[last + 1:]]
        first.append(last + 1)
    arrays = {}
    for name in FIELDS:
        values = [getattr(track, name) for track in tracks]
        arrays[name] = None if values[0] is None else np.concatenate([v[k:] for v, k in zip(values, first)])
    head = tracks[0]
    dropped = sorted({t for track in tracks for t in track.meta.get(OUT_OF_ORDER, [])})
    return PoseTrack(fps=head.fps, width=head.width, height=head.height, source=head.source,
                     meta={**head.meta, "source_frames": rows, OUT_OF_ORDER: dropped},
                     crowd=_joined_crowd([track.crowd for track in tracks], first), **arrays)


def _joined_crowd(crowds: list[Crowd | None], first: list[int]) -> Crowd | None:
    """The chunks' crowds end to end, each with as many slots as the most
    crowded (empty slots NaN, ids -1: numbered after the join)."""
    if any(c is None for c in crowds):
        return None
    slots = max(c.ids.shape[1] for c in crowds)
    fields = {}
    for name in Crowd.FIELDS:
        parts = []
        for crowd, k in zip(crowds, first):
            value = getattr(crowd, name)
            if value is None:
                break
            pad = [(0, 0), (0, slots - value.shape[1])] + [(0, 0)] * (value.ndim - 2)
            fill = -1 if name == "ids" else 0 if name == "masks" else np.nan
            parts.append(np.pad(value[k:], pad, constant_values=fill))
        fields[name] = np.concatenate(parts) if len(parts) == len(crowds) else None
    return Crowd(**fields)


# --- worker processes -------------------------------------------------------

_worker: dict = {}


def _init_worker(model: str, settings: PoseSettings, done, stop) -> None:
    import signal

    from formcheck.pose.backend import ReusedBackend

    # Ctrl-C reaches the whole process group; this process hears it and sets
    # `stop`, which ends the workers' chunks without a traceback from each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    _worker.update(settings=settings, done=done, stop=stop, backend=ReusedBackend(model, settings))


def _progress(n: int) -> None:
    with _worker["done"].get_lock():
        _worker["done"].value += n


def _warm_up() -> None:
    _worker["backend"].detect(np.zeros((64, 64, 3), np.uint8), 0)  # loads the model


def _run_chunk(video: str, turn: int, chunk: Chunk, search: int) -> tuple[PoseTrack | None, float | None]:
    backend = _worker["backend"]
    backend.next_clip()  # a fresh track and clock, as a newly loaded model would have
    with VideoSource(video, turn=turn) as source:
        track = pose_stretch(source, backend, _worker["settings"], chunk.start_s - WARMUP_S, chunk.stop_s,
                             progress=_progress, stop=_worker["stop"], search=search)
        return track, source.decoded_s


class ChunkRunner:
    """Runs clips in time chunks on `workers` cores: this process and
    workers - 1 worker processes, started at once and kept for the next
    run (the turned re-run of a sideways clip)."""

    def __init__(self, model: Path, settings: PoseSettings, workers: int) -> None:
        from formcheck.media.quiet import native_stderr_silenced

        self.model, self.settings, self.workers = model, settings, workers
        ctx = multiprocessing.get_context("fork")
        self._done, self._stop = ctx.Value("q", 0), ctx.Event()
        with native_stderr_silenced():
            if settings.backend == "mediapipe":  # imported once here, inherited by the workers
                from mediapipe.tasks.python import vision  # noqa: F401
            else:
                from ai_edge_litert import interpreter  # noqa: F401
        self._pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_init_worker,
                                         initargs=(str(model), settings, self._done, self._stop))
        for _ in range(workers - 1):  # each worker loads its model while this process loads its own
            self._pool.submit(_warm_up)

    def run(self, video: Path, turn: int, backend, check_upright: bool, quiet: bool, search: int) -> PoseTrack:
        """The clip's track, as extract.run_pose gives it. `backend` serves
        the first chunk, here; NotUpright comes from it as from run_pose."""
        with VideoSource(video, turn=turn) as source:
            chunks = plan(source.first_t, source.duration_s, self.workers)
            if len(chunks) == 1:
                return run_pose(source, backend, self.settings, quiet=quiet, check_upright=check_upright,
                                search=search)
            self._stop.clear()
            self._done.value = 0
            futures = [self._pool.submit(_run_chunk, str(video), turn, c, search) for c in chunks[1:]]
            own = [0]
            try:
                with progress_bar(source, self.settings, quiet) as bar:
                    def progress(n: int) -> None:
                        own[0] += n
                        bar.update(own[0] + self._done.value - bar.n)

                    tracks = [pose_stretch(source, backend, self.settings, None, chunks[0].stop_s,
                                           check_upright=check_upright, progress=progress, search=search)]
                    decoded_s = None
                    for future in futures:
                        track, decoded_s = future.result()
                        tracks.append(track)
                        progress(0)
                whole = join(tracks)
            except NotUpright:
                self._stop.set()  # the workers end their chunks at the next frame
                wait(futures)
                raise
            except (BrokenProcessPool, Mismatch):  # a worker died (memory?), or frames did not line up
                return self._one_process(video, turn, check_upright, quiet, search)
            whole = finish_track(whole, source, self.settings, decoded_s)
            whole.meta["chunks"] = len(chunks)
            return whole

    def _one_process(self, video: Path, turn: int, check_upright: bool, quiet: bool, search: int) -> PoseTrack:
        # The first chunk's model has a clock past its frames: a fresh one.
        from formcheck.pose.backend import backend_for

        s = self.settings
        with backend_for(s, self.model, threads=self.workers) as fresh, VideoSource(video, turn=turn) as source:
            return run_pose(source, fresh, s, quiet=quiet, check_upright=check_upright, search=search)

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def runner_for(video: Path, model: Path, settings: PoseSettings, workers: int) -> ChunkRunner | None:
    """A runner for the clip when it is long enough to split and workers can be forked."""
    if workers <= 1 or not can_fork():
        return None
    if settings.backend == "litert" and settings.detect_every > 1:
        return None  # each frame then depends on the ones before it: one run keeps the track the same
    with VideoSource(video) as probe:  # closed again before the workers start
        count = len(plan(probe.first_t, probe.duration_s, workers))
    return ChunkRunner(model, settings, count) if count > 1 else None
