"""Fault thresholds: the packaged rules.toml, optionally overridden by a user file."""

from __future__ import annotations

import copy
from importlib.resources import files
from pathlib import Path

from formcheck.errors import FormcheckError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _merge(base: dict, override: dict, where: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in out:
            raise FormcheckError(f"unknown config key: {where}{key}")
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None) -> dict:
    """The rules config; a user file may change any existing key, not add new ones."""
    base = tomllib.loads((files("formcheck") / "data" / "rules.toml").read_text(encoding="utf-8"))
    if path is None:
        return base
    path = Path(path)
    try:
        override = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormcheckError(f"no such config file: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FormcheckError(f"cannot read config {path}: {exc}") from None
    return _merge(base, override)
