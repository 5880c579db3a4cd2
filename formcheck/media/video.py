"""Reading frames from a video file with the container's timestamps.

OpenCV applies the rotation stored in the container (portrait phone clips),
so frames come out as the file says; `turn` rotates them further when the
pixels themselves lie sideways (see pose.orientation). The reported size is
that of the frames handed out.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.quiet import native_stderr_silenced

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
TURNS = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
# Squat kinematics sit well under 6 Hz, so a high-speed clip is read at about
# SAMPLE_HZ: every k-th frame, with its true timestamp. Clips up to HIGH_RATE
# fps are read whole.
SAMPLE_HZ = 30.0
HIGH_RATE = 50.0
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


def sample_stride(fps: float, full_rate: bool = False) -> int:
    """Every how many frames one is read: 1 up to HIGH_RATE fps (or with
    `full_rate`), else the stride that brings the rate nearest SAMPLE_HZ."""
    if full_rate or fps <= HIGH_RATE:
        return 1
    return max(1, round(fps / SAMPLE_HZ))


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
    index: int  # decode order: from the file's start, or from the seek point of a read that seeks
    t: float  # seconds, from the container
    bgr: np.ndarray


SEEK_MARGIN_S = 1.0  # a seek aims this much before the first frame wanted: decoders land near, not on


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
        self._open()
        if not self._cap.isOpened():
            raise FormcheckError(f"cannot read video (not a video or unsupported format): {self.path}")
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
        self.first_t = float(self._first_t) if np.isfinite(self._first_t) else 0.0
        self.height, self.width = first.shape[:2]
        self.stated_s = stated_duration(self.path)
        self.decoded_s: float | None = None  # set once frames() has run to the end
        # How long the clip is, as far as is known before decoding it all.
        self.duration_s = self.stated_s or self.frame_count / self.fps

    def _open(self) -> None:
        with native_stderr_silenced():  # FFmpeg's own complaint would duplicate ours
            self._cap = cv2.VideoCapture(str(self.path))
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)

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

    def frames(self, start_s: float | None = None, stop_s: float | None = None,
               stride: int = 1) -> Iterator[Frame]:
        """Yield frames in order; timestamps are strictly increasing.

        `start_s` begins at the first frame at or after that time (found by
        a seek; indices then count from the seek point), `stop_s` ends
        before the first frame at or after that time. Either way each frame
        carries the container's own timestamp, so stretches read apart join
        on their timestamps. `stride` keeps one frame in that many, chosen by
        its timestamp (`keeps`) so that stretches keep the frames a whole
        read keeps; the others are decoded but never converted."""
        if start_s is None or start_s <= self._first_t:
            start_s, index, frame, t = None, 0, self._first, self._first_t
        else:
            index, frame, t = 0, None, self._seek(start_s)
        last_t = -np.inf
        step = 1.0 / self.fps
        ended = t is None
        while not ended:
            # Some containers report no or repeated timestamps: fall back to the
            # nominal frame period so time never stands still or runs backwards.
            if not np.isfinite(t) or t <= last_t:
                t = (last_t + step) if np.isfinite(last_t) else 0.0
            if stop_s is not None and t >= stop_s:
                break
            if (start_s is None or t >= start_s) and self.keeps(t, stride):
                if frame is None:
                    frame = self._retrieve()
                if frame is None:
                    ended = True
                    break
                yield Frame(index, t, frame)
            last_t = t
            index += 1
            frame, t = None, self._grab()
            ended = t is None
        self._first = None
        if ended:  # where the decoded video ends: the last frame's start plus one period.
            self.decoded_s = (last_t + step) if np.isfinite(last_t) else 0.0

    def keeps(self, t: float, stride: int) -> bool:
        """Whether a read with `stride` keeps the frame at `t`."""
        return stride <= 1 or round((t - self.first_t) * self.fps) % stride == 0

    def _grab(self) -> float | None:
        """Decode the next frame without converting it: its timestamp, or None at the end."""
        with native_stderr_silenced():
            if not self._cap.grab():
                return None
            return self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0

    def _retrieve(self) -> np.ndarray | None:
        with native_stderr_silenced():
            ok, frame = self._cap.retrieve()
        if not ok or frame is None:
            return None
        return turn_frame(frame, self.turn) if self.turn else frame

    def _seek(self, start_s: float) -> float | None:
        """Put the decoder on a frame before `start_s` and return its
        timestamp. A decoder that lands past it is reopened and read from
        the beginning, so no wanted frame is ever skipped."""
        self._first = None
        with native_stderr_silenced():
            self._cap.set(cv2.CAP_PROP_POS_MSEC, max(0.0, start_s - SEEK_MARGIN_S) * 1000.0)
        t = self._grab()
        if t is not None and np.isfinite(t) and t < start_s:
            return t
        self._cap.release()
        self._open()
        return self._grab()

    def close(self) -> None:
        with native_stderr_silenced():
            self._cap.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prefetched(frames: Iterator[Frame], convert=None, depth: int = 2) -> Iterator[Frame]:
    """`frames` read (and `convert`ed, e.g. to RGB) in a thread of their own,
    at most `depth` ahead: decoding overlaps the caller's work on the frame
    before (OpenCV and MediaPipe both let go of the GIL while they work)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for frame in frames:
                if convert is not None:
                    frame = Frame(frame.index, frame.t, convert(frame.bgr))
                if not put(frame):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=run, name="formcheck-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
