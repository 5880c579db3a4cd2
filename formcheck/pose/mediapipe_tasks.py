"""MediaPipe's PoseLandmarker (Tasks API) as a pose backend: the reference
formcheck's own pipeline is measured against (bench/backends.py). It needs the
`mediapipe` extra, whose wheels cover Python 3.10-3.12 and numpy 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.model import resolve_model
from formcheck.media.quiet import native_stderr_silenced
from formcheck.pose.person import Person, count_model


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
        count_model()
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
