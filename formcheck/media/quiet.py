"""Silencing chatter that native libraries (the pose runtimes, FFmpeg) print to fd 2.

LiteRT announces its CPU delegate, MediaPipe's C++ logging writes to stderr
before absl is initialised, so its GLOG_/TF_CPP_ settings are ignored
(measured with 0.10.21: the INFO and W lines come whatever they say), and
FFmpeg prints each decoder error of a damaged file (PyAV keeps those off
unless -v; see media.video). None can be turned off where it is printed, so every call
into them runs inside `native_stderr_silenced()`: file descriptor 2 points
at /dev/null for the length of the call, while Python's own sys.stderr is
pointed at a copy of the real stderr, so our messages and the progress bar
still show, even from other threads. Calls are short (one frame), so a
fatal native message printed after a call returns is still seen.

`-v`/`--verbose` (FORMCHECK_VERBOSE=1) or FORMCHECK_DEBUG=1 shows it all.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

_lock = threading.Lock()
_depth = 0  # nested or concurrent silenced calls (capture thread + pose)
_devnull: int | None = None
# A copy of the real stderr and a text stream on it, kept open for the whole
# process: a thread may still hold the stream after a call has ended, so it
# must never point at a closed (or reused) descriptor. Renewed only when fd 2
# itself is redirected to another file between calls.
_real: tuple[int, tuple[int, int], object] | None = None
_kept: list = []  # earlier copies, deliberately never closed (see above)
_active: tuple[int, object] | None = None  # (copy of fd 2, the sys.stderr to restore)


def verbose() -> bool:
    """Show the native libraries' own messages."""
    return bool(os.environ.get("FORMCHECK_VERBOSE") or os.environ.get("FORMCHECK_DEBUG"))


def set_verbose(on: bool) -> None:
    """Set from -v; an environment variable, so batch workers inherit it."""
    if on:
        os.environ["FORMCHECK_VERBOSE"] = "1"


def _real_stderr() -> tuple[int, object]:
    global _real
    st = os.fstat(2)
    ident = (st.st_dev, st.st_ino)
    if _real is None or _real[1] != ident:
        if _real is not None:
            _kept.append(_real)
        fd = os.dup(2)
        old = sys.stderr
        stream = open(fd, "w", buffering=1, closefd=False,
                      encoding=getattr(old, "encoding", None) or "utf-8",
                      errors=getattr(old, "errors", None) or "backslashreplace")
        _real = (fd, ident, stream)
    return _real[0], _real[2]


def _writes_to_fd2(stream) -> bool:
    try:
        return stream is not None and stream.fileno() == 2
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def native_stderr_silenced():
    global _depth, _devnull, _active
    if verbose():
        yield
        return
    with _lock:
        if _depth == 0:
            try:
                if sys.stderr is not None:
                    sys.stderr.flush()
                fd, stream = _real_stderr()
                if _devnull is None:
                    _devnull = os.open(os.devnull, os.O_WRONLY)
            except (OSError, ValueError):  # no usable fd 2: nothing to silence
                fd = None
            if fd is not None:
                _active = (fd, sys.stderr)
                # Only a stream that writes to fd 2 must move; a test's capture
                # object (or any other replacement) keeps working as it is.
                if _writes_to_fd2(sys.stderr):
                    sys.stderr = stream
                os.dup2(_devnull, 2)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _active is not None:
                fd, previous = _active
                _active = None
                with contextlib.suppress(Exception):
                    sys.stderr.flush()
                sys.stderr = previous
                os.dup2(fd, 2)
