"""Pose backends: one small interface, MediaPipe PoseLandmarker as the default.

A backend takes an RGB frame and its timestamp and returns every person it
found; choosing the lifter among them is the caller's job.
"""

from __future__ import annotations

import multiprocessing.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.model import resolve_model
from formcheck.media.quiet import native_stderr_silenced


@dataclass
class Person:
    image: np.ndarray  # (33, 3): x, y normalised to the frame, z on the x scale
    visibility: np.ndarray  # (33,)
    presence: np.ndarray  # (33,)
    world: np.ndarray  # (33, 3) metres
    mask: np.ndarray | None = None  # (h, w) float in 0..1


class PoseBackend(Protocol):
    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]: ...

    def close(self) -> None: ...


_loaded = [0]  # models created in this process (pose.chunks forks workers only before the first)


def models_loaded() -> int:
    return _loaded[0]


class MediaPipeBackend:
    """PoseLandmarker (Tasks API) in VIDEO mode: frames must come in time order."""

    def __init__(self, model: str | Path | None = None, max_people: int = 2, masks: bool = False):
        with native_stderr_silenced():  # importing the native library already logs
            from mediapipe.tasks.python import BaseOptions, vision

        path = resolve_model(model)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=max_people,
            output_segmentation_masks=masks,
        )
        try:
            with native_stderr_silenced():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except Exception as exc:  # MediaPipe raises bare RuntimeError/ValueError
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FormcheckError(f"cannot load pose model {path}: {first_line}") from None
        _loaded[0] += 1
        self.model_path = path
        self.calls = 0  # inference calls made, so tests can tell a cache hit

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]:
        import mediapipe as mp

        self.calls += 1
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        # Every call: the graph logs set-up notes on the first frames of each
        # new size or track (not only the first inference), from its own threads.
        with native_stderr_silenced():
            result = self._landmarker.detect_for_video(image, int(timestamp_ms))
        people = []
        masks = result.segmentation_masks or []
        for i, (lms, world) in enumerate(zip(result.pose_landmarks, result.pose_world_landmarks)):
            people.append(Person(
                image=np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float32),
                visibility=np.array([p.visibility or 0.0 for p in lms], dtype=np.float32),
                presence=np.array([p.presence or 0.0 for p in lms], dtype=np.float32),
                world=np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32),
                mask=masks[i].numpy_view().copy() if i < len(masks) else None,
            ))
        return people

    def close(self) -> None:
        if self._landmarker is not None:
            with native_stderr_silenced():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "MediaPipeBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def create_backend(name: str = "mediapipe", **kwargs) -> PoseBackend:
    if name == "mediapipe":
        return MediaPipeBackend(**kwargs)
    raise FormcheckError(f"unknown pose backend: {name}")


class ReusedBackend:
    """One loaded pose model serving clip after clip in a worker process.

    MediaPipe's VIDEO mode accepts only increasing timestamps and tracks the
    person from the previous frame. So each clip's clock continues after the
    previous clip's, and one empty frame between clips drops the old track:
    results are then identical to a freshly loaded model's. The model is
    loaded on the first frame that needs inference, so cached clips cost none.
    """

    def __init__(self, model: str | Path, settings) -> None:
        self._model, self._settings = model, settings
        self._backend = None
        self._offset: int | None = None  # ms added to the current clip's timestamps
        self._last = -1

    def next_clip(self) -> None:
        self._offset = None

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]:
        if self._backend is None:
            s = self._settings
            self._backend = create_backend(s.backend, model=self._model, max_people=s.max_people, masks=s.masks)
            # MediaPipe complains when closed by the garbage collector, so the
            # model is closed on the way out. Not with atexit: in a pool worker
            # atexit runs after the interpreter has stopped its thread pools,
            # and a close that needs one fails ("cannot schedule new futures
            # after shutdown", printed once per worker). multiprocessing's
            # finalizers run when the worker's loop ends, before that; in the
            # main process they run at exit like atexit.
            multiprocessing.util.Finalize(None, self.close, exitpriority=10)
        if self._offset is None:
            self._backend.detect(np.zeros((64, 64, 3), np.uint8), self._last + 1)
            self._offset = self._last + 2 - int(timestamp_ms)
        self._last = int(timestamp_ms) + self._offset
        return self._backend.detect(rgb, self._last)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
