"""Reading frames from a video file with the container's timestamps.

OpenCV applies the rotation stored in the container (portrait phone clips),
so frames come out upright; the reported size is that of the decoded frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.quiet import native_stderr_silenced

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


@dataclass
class Frame:
    index: int
    t: float  # seconds, from the container
    bgr: np.ndarray


class VideoSource:
    """A video file opened for streaming, one frame at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise FormcheckError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise FormcheckError(f"expected a video file, got a directory: {self.path}")
        with native_stderr_silenced():  # FFmpeg's own complaint would duplicate ours
            self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise FormcheckError(f"cannot read video (not a video or unsupported format): {self.path}")
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not np.isfinite(self.fps) or self.fps <= 0 or self.fps > 1000:
            self.fps = 30.0
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        self.rotation = int(self._cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0)
        # The first frame fixes the true (rotated) size; keep it for the iterator.
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise FormcheckError(f"video has no readable frames: {self.path}")
        self._first = first
        self._first_t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self.height, self.width = first.shape[:2]

    def frames(self) -> Iterator[Frame]:
        """Yield frames in order; timestamps are strictly increasing."""
        index, frame, t = 0, self._first, self._first_t
        last_t = -np.inf
        step = 1.0 / self.fps
        while frame is not None:
            # Some containers report no or repeated timestamps: fall back to the
            # nominal frame period so time never stands still or runs backwards.
            if not np.isfinite(t) or t <= last_t:
                t = (last_t + step) if np.isfinite(last_t) else 0.0
            yield Frame(index, t, frame)
            last_t = t
            index += 1
            ok, frame = self._cap.read()
            if not ok:
                break
            t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self._first = None

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
