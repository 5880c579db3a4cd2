"""Where the tests find the shared folder: labeled real clips (videos/) and the
source articles (documents/). It sits beside the repository (../shared);
FORMCHECK_SHARED names another copy. Tests that need a missing part skip
with a reason that says what is missing and how to point at it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FORMCHECK_SHARED") or REPO.parent / "shared").absolute()
SKIP_PREFIX = "needs shared/"  # the terminal summary counts skips by this prefix

# What makes each part usable: the clips are nothing without their labels.
_MARKER = {"videos": "labels.jsonl", "documents": "*.txt"}


def path(part: str) -> Path:
    return SHARED / part


def missing(part: str) -> str | None:
    """Why `part` cannot be used, or None when it can."""
    folder = path(part)
    if not any(folder.glob(_MARKER[part])):
        return (f"{SKIP_PREFIX}{part}: no {_MARKER[part]} in {folder} "
                "(set FORMCHECK_SHARED to the folder holding videos/ and documents/)")
    return None


def require(part: str) -> Path:
    """The folder, or skip the calling test saying why."""
    reason = missing(part)
    if reason:
        pytest.skip(reason)
    return path(part)


def needs(part: str) -> pytest.MarkDecorator:
    """Decorator form of require()."""
    reason = missing(part)
    return pytest.mark.skipif(reason is not None, reason=reason or "")
