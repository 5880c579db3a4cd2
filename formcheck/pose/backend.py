"""Pose backends behind one small interface: BlazePose on LiteRT by
default (pose.blazepose), MediaPipe's Tasks API as the reference
(pose.mediapipe_tasks, the `mediapipe` extra).

A backend takes an RGB frame and its timestamp and returns every person it
found; choosing the lifter among them is the caller's job.
"""

from __future__ import annotations

import importlib.util
import multiprocessing.util
from pathlib import Path
from typing import Protocol

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.pose.person import Person

BACKENDS = ("litert", "mediapipe")
MEDIAPIPE_EXTRA = 'the mediapipe backend needs the mediapipe extra (Python 3.10-3.12): pip install "formcheck[mediapipe]"'


class PoseBackend(Protocol):
    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]: ...

    def close(self) -> None: ...


def create_backend(name: str = "litert", model: str | Path | None = None, max_people: int = 2,
                   masks: bool = False, detect_every: int = 1, threads: int = 1) -> PoseBackend:
    """A loaded backend. `detect_every` and `threads` are LiteRT's: MediaPipe
    decides both itself."""
    if name == "litert":
        from formcheck.pose.blazepose import LiteRTBackend

        return LiteRTBackend(model, max_people=max_people, masks=masks, detect_every=detect_every, threads=threads)
    if name == "mediapipe":
        if importlib.util.find_spec("mediapipe") is None:
            raise FormcheckError(MEDIAPIPE_EXTRA)
        from formcheck.pose.mediapipe_tasks import MediaPipeBackend

        return MediaPipeBackend(model, max_people=max_people, masks=masks)
    raise FormcheckError(f"unknown pose backend: {name} (choose from {', '.join(BACKENDS)})")


def backend_for(settings, model: str | Path | None, threads: int = 1, masks: bool | None = None) -> PoseBackend:
    """The backend a PoseSettings asks for."""
    return create_backend(settings.backend, model=model, max_people=settings.max_people,
                          masks=settings.masks if masks is None else masks,
                          detect_every=getattr(settings, "detect_every", 1), threads=threads)


class ReusedBackend:
    """One loaded pose model serving clip after clip in a worker process.

    A backend may follow people from frame to frame (LiteRT with
    detect_every > 1, MediaPipe's VIDEO mode always), so each clip starts
    with that state dropped: results are then identical to a freshly loaded
    model's. MediaPipe also accepts only increasing timestamps, so each
    clip's clock continues after the previous clip's, with one empty frame
    between clips to drop its track. The model is loaded on the first frame
    that needs inference, so cached clips cost none.
    """

    def __init__(self, model: str | Path, settings) -> None:
        self._model, self._settings = model, settings
        self._backend = None
        self.search = 0  # handed to the model (how far LiteRT searches a frame; pose.run sets it per clip)
        self._offset: int | None = None  # ms added to the current clip's timestamps
        self._last = -1

    def next_clip(self) -> None:
        self._offset = None

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]:
        if self._backend is None:
            self._backend = backend_for(self._settings, self._model)
            # MediaPipe complains when closed by the garbage collector, so the
            # model is closed on the way out. Not with atexit: in a pool worker
            # atexit runs after the interpreter has stopped its thread pools,
            # and a close that needs one fails ("cannot schedule new futures
            # after shutdown", printed once per worker). multiprocessing's
            # finalizers run when the worker's loop ends, before that; in the
            # main process they run at exit like atexit.
            multiprocessing.util.Finalize(None, self.close, exitpriority=10)
        if self._offset is None:
            if hasattr(self._backend, "next_clip"):
                self._backend.next_clip()
            self._backend.detect(np.zeros((64, 64, 3), np.uint8), self._last + 1)
            self._offset = self._last + 2 - int(timestamp_ms)
        self._last = int(timestamp_ms) + self._offset
        if hasattr(self._backend, "search"):
            self._backend.search = self.search
        return self._backend.detect(rgb, self._last)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
