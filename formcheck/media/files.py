"""What formcheck accepts as an input file, before it reads a byte of it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from formcheck.errors import FormcheckError

FILE_KINDS = {stat.S_IFIFO: "a pipe (FIFO)", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device",
              stat.S_IFSOCK: "a socket"}


def check_regular_file(path: Path) -> None:
    """A video to analyse is a regular file: a FIFO or a device would be read
    for ever (or block), and a directory is a usage slip."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FormcheckError(f"no such file: {path}") from None
    except OSError as exc:
        raise FormcheckError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise FormcheckError(f"expected a video file, got a directory: {path}")
    if not stat.S_ISREG(mode):
        kind = FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise FormcheckError(f"expected a video file, got {kind}: {path}")


def file_state(path: Path) -> tuple[int, int]:
    """(size, modification time in ns): what changes when a file is rewritten."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns
