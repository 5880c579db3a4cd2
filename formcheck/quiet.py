"""Silencing chatter that native libraries (FFmpeg, MediaPipe) print to fd 2."""

import contextlib
import os


@contextlib.contextmanager
def native_stderr_silenced():
    """MediaPipe's C++ layers print set-up chatter straight to fd 2; hide it
    (set FORMCHECK_DEBUG=1 to see it) so our own messages stay readable."""
    if os.environ.get("FORMCHECK_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
