"""Reading frames from a video file with the container's timestamps.

OpenCV applies the rotation stored in the container (portrait phone clips),
so frames come out as the file says; `turn` rotates them further when the
pixels themselves lie sideways (see pose.orientation). The reported size is
that of the frames handed out.
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
TURNS = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
# A video that stops this much before the end its container states is cut off
# (a copy or an upload that did not finish). Measured on the 44 shared clips:
# the last decoded frame ends within 0.06 s of the stated duration, including
# variable-frame-rate phone clips whose stated frame count is far off, so the
# stated duration is compared, never the frame count.
TRUNCATED_MIN_S = 0.5
TRUNCATED_SHARE = 0.05


def turn_frame(bgr: np.ndarray, turn: int) -> np.ndarray:
    """The frame rotated clockwise by `turn` degrees (0, 90, 180 or 270)."""
    code = TURNS[turn]
    return bgr if code is None else cv2.rotate(bgr, code)


def looks_truncated(decoded_s: float | None, stated_s: float | None) -> tuple[float, float] | None:
    """(decoded, stated) seconds when the video stops well before its stated end."""
    if decoded_s is None or not stated_s:
        return None
    if stated_s - decoded_s > max(TRUNCATED_MIN_S, TRUNCATED_SHARE * stated_s):
        return decoded_s, stated_s
    return None


def stated_duration(path: Path) -> float | None:
    """Seconds of video the container's header promises, or None when it
    does not say. Only the header is read (PyAV), no frame is decoded."""
    try:
        import av

        with native_stderr_silenced(), av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            if container.duration:
                return container.duration / 1_000_000
    except Exception:  # the header is advisory: no answer is not an error
        return None
    return None


@dataclass
class Frame:
    index: int
    t: float  # seconds, from the container
    bgr: np.ndarray


class VideoSource:
    """A video file opened for streaming, one frame at a time."""

    def __init__(self, path: str | Path, turn: int = 0):
        self.path = Path(path)
        if turn not in TURNS:
            raise ValueError(f"turn must be one of {sorted(TURNS)}, got {turn}")
        self.turn = turn
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
        ok, first = self._read()
        if not ok or first is None:
            self._cap.release()
            raise FormcheckError(f"video has no readable frames: {self.path}")
        self._first = first
        self._first_t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self.height, self.width = first.shape[:2]
        self.stated_s = stated_duration(self.path)
        self.decoded_s: float | None = None  # set once frames() has run to the end

    def _read(self) -> tuple[bool, np.ndarray | None]:
        # A damaged file makes FFmpeg print each decoder error; `truncation`
        # says what matters in one line instead (-v shows the raw errors).
        with native_stderr_silenced():
            ok, frame = self._cap.read()
        if ok and frame is not None and self.turn:
            frame = turn_frame(frame, self.turn)
        return ok, frame

    def truncation(self) -> tuple[float, float] | None:
        """(decoded seconds, stated seconds) when the video ended well before
        the duration its container states: the file looks cut off."""
        return looks_truncated(self.decoded_s, self.stated_s)

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
            ok, frame = self._read()
            if not ok:
                break
            t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self._first = None
        # Where the decoded video ends: the last frame's start plus one period.
        self.decoded_s = (last_t + step) if np.isfinite(last_t) else 0.0

    def close(self) -> None:
        with native_stderr_silenced():
            self._cap.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
