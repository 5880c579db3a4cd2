"""Live frame sources: a camera, a stream URL, or a video file played at its
real-time rate, read on a thread that keeps only the newest frame.

A camera delivers frames whether or not we keep up; the grabber mirrors
that: when processing is slower than the source, frames that arrive while
the previous one is still being processed are dropped, never queued, so the
delay between capture and cue stays bounded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.quiet import native_stderr_silenced
from formcheck.media.video import VideoSource


@dataclass
class Grab:
    index: int  # frame number in the source (gaps = frames dropped)
    t: float  # seconds: the file's or stream's own timestamps; for a camera, time since opening
    captured: float  # time.perf_counter() when the frame became available
    bgr: np.ndarray


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'640x480' -> (640, 480)."""
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise FormcheckError(f"--size must look like 640x480, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise FormcheckError(f"--size must be positive, got {text!r}")
    return w, h


class Pacer:
    """Holds each frame back until its moment: stream time plays at wall-clock
    speed from the first frame on. A reader that fell behind sends at once."""

    def __init__(self) -> None:
        self._offset: float | None = None  # wall clock minus stream time

    def wait(self, t: float, stop: threading.Event) -> None:
        now = time.perf_counter()
        if self._offset is None:
            self._offset = now - t
        delay = self._offset + t - now
        if delay > 0:
            stop.wait(delay)


class FileReader:
    """A video file paced by its container timestamps, like a camera would deliver it."""

    def __init__(self, path: str | Path, size: tuple[int, int] | None = None):
        self.source = VideoSource(path)
        self.name = str(path)
        self.fps = self.source.fps
        self.size = size
        self.width, self.height = size or (self.source.width, self.source.height)
        self._frames = self.source.frames()
        self._pacer = Pacer()

    def read(self, stop: threading.Event) -> tuple[int, float, np.ndarray] | None:
        frame = next(self._frames, None)
        if frame is None:
            return None
        self._pacer.wait(frame.t, stop)
        bgr = frame.bgr if self.size is None else cv2.resize(frame.bgr, self.size, interpolation=cv2.INTER_AREA)
        return frame.index, frame.t, bgr

    def close(self) -> None:
        self.source.close()


class CaptureReader:
    """A camera index or a stream URL through cv2.VideoCapture.

    A camera paces itself (read() waits for the next frame) and is timed by
    the wall clock. A URL may be a live stream or a file on a server: it is
    paced by its own timestamps while they advance, so both play in real time.
    """

    def __init__(self, spec: int | str, size: tuple[int, int] | None = None):
        self.name = f"camera {spec}" if isinstance(spec, int) else str(spec)
        with native_stderr_silenced():  # V4L2/FFmpeg explain the failure at length; we say it once
            self._cap = cv2.VideoCapture(spec)
            ok = self._cap.isOpened()
            if ok and size and isinstance(spec, int):
                self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
            first = self._cap.read() if ok else (False, None)
        if not ok or not first[0]:
            self._cap.release()
            if isinstance(spec, int):
                raise FormcheckError(f"cannot open camera {spec}: no camera found or it is busy "
                                     "(use --source FILE or URL to run on a video)")
            raise FormcheckError(f"cannot open video source: {spec}")
        self._first = first[1]
        self.size = size
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0 < fps <= 240 else 30.0
        h, w = self._first.shape[:2]
        self.width, self.height = size or (w, h)
        self._t0 = time.perf_counter()
        self._index = 0
        self._pacer = None if isinstance(spec, int) else Pacer()
        self._last_pos = -np.inf

    def read(self, stop: threading.Event) -> tuple[int, float, np.ndarray] | None:
        if self._first is not None:
            bgr, self._first = self._first, None
        else:
            with native_stderr_silenced():  # a stream's decoder errors, like a file's
                ok, bgr = self._cap.read()
            if not ok or bgr is None:
                return None
        t = time.perf_counter() - self._t0
        if self._pacer is not None:
            pos = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if np.isfinite(pos) and pos > self._last_pos:
                self._last_pos = t = pos
                self._pacer.wait(pos, stop)
        if self.size and bgr.shape[1::-1] != self.size:
            bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
        index, self._index = self._index, self._index + 1
        return index, t, bgr

    def close(self) -> None:
        self._cap.release()


def open_source(spec: str | int | None, size: tuple[int, int] | None = None):
    """A digit string or int is a camera index, something with :// a stream, else a file."""
    spec = 0 if spec is None else spec
    if isinstance(spec, int) or str(spec).strip().isdigit():
        return CaptureReader(int(spec), size)
    if "://" in str(spec):
        return CaptureReader(str(spec), size)
    return FileReader(spec, size)


class FrameGrabber:
    """Reads a source on its own thread and hands out only the newest frame.
    Once started, the thread owns the source and closes it when it ends."""

    def __init__(self, reader):
        self.reader = reader
        self.delivered = 0  # frames delivered by the source
        self.taken = 0  # frames handed to the consumer
        self.finished = False
        self.error: BaseException | None = None
        self._latest: Grab | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="formcheck-capture", daemon=True)

    @property
    def dropped(self) -> int:
        """Frames replaced by a newer one before anyone took them."""
        with self._cond:
            return self.delivered - self.taken - (self._latest is not None)

    def start(self) -> "FrameGrabber":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                got = self.reader.read(self._stop)
                if got is None or self._stop.is_set():
                    break
                index, t, bgr = got
                with self._cond:
                    self._latest = Grab(index, t, time.perf_counter(), bgr)
                    self.delivered += 1
                    self._cond.notify_all()
        except Exception as exc:  # reported to the consumer, which ends the session cleanly
            self.error = exc
        finally:
            # Released here, by the thread that reads: a stalled stream may keep
            # read() busy past stop(), and releasing under it would race.
            try:
                self.reader.close()
            except Exception as exc:
                self.error = self.error or exc
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def next(self, timeout: float = 0.5) -> Grab | None:
        """The newest frame not yet taken; None at the end or after `timeout`."""
        with self._cond:
            if self._latest is None and not self.finished:
                self._cond.wait(timeout)
            grab, self._latest = self._latest, None
            if grab is not None:
                self.taken += 1
            return grab

    @property
    def done(self) -> bool:
        """The source has ended and every frame it delivered was taken or dropped."""
        with self._cond:
            return self.finished and self._latest is None

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to end and wait for it a moment; the thread closes
        the source itself, even when it returns from a read after this."""
        self._stop.set()
        if self._thread.ident is None:  # never started: no thread to close the source
            self.reader.close()
            return
        self._thread.join(timeout)
