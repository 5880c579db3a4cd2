"""Atomic file writes: a temp file in the same folder, renamed into place, so
a crash or a kill never leaves half a file under the final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from formcheck.errors import FormcheckError


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **kwargs):
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise FormcheckError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
