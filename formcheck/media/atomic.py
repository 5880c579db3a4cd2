"""Atomic file writes: a temp file in the same folder, renamed into place, so
a crash or a kill never leaves half a file under the final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from formcheck.errors import FormcheckError


def _why(path: Path, exc: OSError) -> str:
    # mkdir below a file says "File exists", which reads as if the output
    # itself were in the way: name the file that is.
    for parent in path.parents:
        if parent.exists():
            return f"{parent} is a file, not a folder" if not parent.is_dir() else (exc.strerror or str(exc))
    return exc.strerror or str(exc)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ""):
    """A temp path next to `path` for writers that want a file name (video
    encoders, image writers); renamed to `path` when the block succeeds.
    `suffix` keeps the extension some writers pick their format by."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".part", dir=path.parent)
        os.close(fd)
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except OSError as exc:
        raise FormcheckError(f"cannot write {path}: {_why(path, exc)}") from None
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FormcheckError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **kwargs):
    """An open file whose content appears under `path` only once complete."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def write_text(path: str | Path, text: str) -> None:
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
