"""Locating and checking the pose model file."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from formcheck.errors import FormcheckError

DEFAULT_MODEL_NAME = "pose_landmarker_full.task"


def default_model_path() -> Path:
    """The model bundled with the package, for editable and regular installs alike."""
    try:
        from importlib.resources import files

        bundled = Path(str(files("formcheck.models") / DEFAULT_MODEL_NAME))
        if bundled.is_file():
            return bundled
    except (ModuleNotFoundError, TypeError):
        pass
    # A source checkout used without installing: models/ beside the package.
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


def resolve_model(path: str | Path | None) -> Path:
    """Return a usable model path or raise a one-line error naming it."""
    model = Path(path) if path else default_model_path()
    if not model.exists():
        raise FormcheckError(f"pose model not found: {model}")
    if not model.is_file():
        raise FormcheckError(f"pose model is not a file: {model}")
    # A .task bundle is a zip archive; anything else cannot be a PoseLandmarker model.
    with open(model, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise FormcheckError(f"pose model is not a MediaPipe .task bundle: {model}")
    return model


@lru_cache(maxsize=8)
def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
