"""Reading frames from a video file with the container's timestamps.

Decoding goes through PyAV (FFmpeg's own decoders, AV1 included): each
frame carries its presentation time from the container, so a read that
seeks lands on the same timestamps as a read from the start. The rotation
stored in the container (portrait phone clips) is applied, so frames come
out as the file says; `turn` rotates them further when the pixels themselves
lie sideways (see pose.orientation). The reported size is that of the frames
handed out.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.files import check_regular_file
from formcheck.media.quiet import native_stderr_silenced, verbose

# What a batch and the web page take for a video (PyAV reads them all): phone
# and camcorder formats included (.3gp, .mts/.m2ts).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".3gp", ".mpg", ".mpeg",
                    ".wmv")
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
MIN_STEP_S = 0.001  # the pose model's clock counts whole milliseconds: frames closer than this share a tick
_ONE_THREAD = {"threads": 1}  # emptied on a PyAV whose reformat has no threads option (before 16)


def _to_bgr(frame) -> np.ndarray:
    """The frame as BGR pixels, converted on this thread: swscale's own thread
    pool (PyAV 16 and later) would not survive pose.chunks forking its workers."""
    try:
        return frame.to_ndarray(format="bgr24", **_ONE_THREAD)
    except TypeError:
        if not _ONE_THREAD:
            raise
        _ONE_THREAD.clear()  # an older PyAV converts on one thread anyway
        return frame.to_ndarray(format="bgr24")


def _show_ffmpeg_messages() -> None:
    """PyAV keeps FFmpeg's own messages off; -v (see media.quiet) shows its
    warnings and errors (a damaged file's decoder complaints) on stderr."""
    if not verbose():
        return
    import logging

    import av.logging

    av.logging.set_level(av.logging.WARNING)
    libav = logging.getLogger("libav")
    if not libav.handlers:
        libav.addHandler(logging.StreamHandler(sys.stderr))


class VideoSource:
    """A video file opened for streaming, one frame at a time."""

    def __init__(self, path: str | Path, turn: int = 0):
        self.path = Path(path)
        if turn not in TURNS:
            raise ValueError(f"turn must be one of {sorted(TURNS)}, got {turn}")
        self.turn = turn
        check_regular_file(self.path)
        _show_ffmpeg_messages()
        self._container = None
        self._open()
        stream = self._stream
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self.fps = float(rate) if rate else 0.0
        if not np.isfinite(self.fps) or self.fps <= 0 or self.fps > 1000:
            self.fps = 30.0
        self.stated_s = stated_duration(self.path)
        self.frame_count = int(stream.frames or 0) or int(round((self.stated_s or 0.0) * self.fps))
        self.out_of_order: list[float] = []  # timestamps of frames left out for not moving forward
        self._reader = self._decoded()
        first = next(self._reader, None)
        if first is None:
            self.close()
            raise FormcheckError(f"video has no readable frames: {self.path}")
        self._first_t, self._first = first
        self.rotation = self._rotation
        self.first_t = float(self._first_t)
        self.height, self.width = self._first.shape[:2]
        self.decoded_s: float | None = None  # set once frames() has run to the end
        # How long the clip is, as far as is known before decoding it all.
        self.duration_s = self.stated_s or self.frame_count / self.fps

    def _open(self) -> None:
        import av

        if self._container is not None:
            self._container.close()
        try:
            with native_stderr_silenced():  # FFmpeg's own complaint would duplicate ours
                self._container = av.open(str(self.path))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
            raise FormcheckError(f"cannot read video (not a video or unsupported format): {self.path}") from None
        if not self._container.streams.video:
            self._container.close()
            raise FormcheckError(f"cannot read video (not a video or unsupported format): {self.path}")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._origin = self._stream.start_time or 0  # timestamps count from the stream's start
        self._rotation = 0
        self._last_t = -np.inf

    def _decoded(self) -> Iterator[tuple[float, np.ndarray]]:
        import av

        """(timestamp, upright BGR frame) in presentation order until the
        file ends or can be read no further. A damaged packet is skipped (the
        truncation check says what matters in one line instead of FFmpeg's
        own errors, which -v shows); a frame whose timestamp does not move
        forward is left out and counted, and a frame without one gets the
        nominal period after the last."""
        step = 1.0 / self.fps  # set before the first frame is read
        packets = self._container.demux(self._stream)
        while True:
            try:
                with native_stderr_silenced():
                    packet = next(packets)
            except StopIteration:
                return
            except (av.error.FFmpegError, OSError):
                return  # the readable part of the file ends here
            try:
                with native_stderr_silenced():
                    frames = packet.decode()
            except (av.error.FFmpegError, OSError):
                continue
            for vf in frames:
                if vf.pts is None:
                    t = self._last_t + step if np.isfinite(self._last_t) else 0.0
                else:
                    t = float((vf.pts - self._origin) * self._stream.time_base)
                if t < self._last_t + MIN_STEP_S:
                    self.out_of_order.append(t)
                    continue
                self._last_t = t
                self._rotation = int(-(vf.rotation or 0)) % 360  # the display matrix turns counter-clockwise
                bgr = _to_bgr(vf)
                code = TURNS.get((self._rotation + self.turn) % 360)
                yield t, (bgr if code is None else cv2.rotate(bgr, code))

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
        read keeps."""
        if self._first is not None and (start_s is None or start_s <= self._first_t):
            reader = self._from_first()
        else:
            reader = self._seek(start_s or 0.0)
        step = 1.0 / self.fps
        last_t = -np.inf
        ended = True
        for index, (t, bgr) in enumerate(reader):
            if stop_s is not None and t >= stop_s:
                ended = False
                break
            last_t = t
            if (start_s is None or t >= start_s) and self.keeps(t, stride):
                yield Frame(index, t, bgr)
        self._first = None
        if ended:  # where the decoded video ends: the last frame's start plus one period.
            self.decoded_s = (last_t + step) if np.isfinite(last_t) else 0.0

    def _from_first(self) -> Iterator[tuple[float, np.ndarray]]:
        yield self._first_t, self._first
        yield from self._reader

    def keeps(self, t: float, stride: int) -> bool:
        """Whether a read with `stride` keeps the frame at `t`."""
        return stride <= 1 or round((t - self.first_t) * self.fps) % stride == 0

    def _seek(self, start_s: float) -> Iterator[tuple[float, np.ndarray]]:
        """Frames from a keyframe before `start_s`. A decoder that lands past
        it is reopened and read from the beginning, so no wanted frame is
        ever skipped."""
        import av

        self._first = None
        target = max(0.0, start_s - SEEK_MARGIN_S)
        try:
            with native_stderr_silenced():
                self._container.seek(self._origin + int(target / self._stream.time_base), stream=self._stream,
                                     backward=True)
            self._last_t = -np.inf
            reader = self._decoded()
            first = next(reader, None)
        except av.error.FFmpegError:
            first = None
        if first is not None and first[0] < start_s:
            yield first
            yield from reader
            return
        self._open()
        yield from self._decoded()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prefetched(frames: Iterator[Frame], convert=None, depth: int = 2) -> Iterator[Frame]:
    """`frames` read (and `convert`ed, e.g. to RGB) in a thread of their own,
    at most `depth` ahead: decoding overlaps the caller's work on the frame
    before (PyAV, OpenCV and LiteRT let go of the GIL while they work)."""
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
