"""Fault specifications: the packaged faults.toml, optionally overridden by a user file."""

from __future__ import annotations

import copy
from functools import lru_cache
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


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_rule(code: str, rule: dict) -> None:
    """A rule that would misbehave silently (a misspelt metric, bands out of
    order, a view as a bare string) is a config error, not a quiet pass."""
    from formcheck.kinematics.metrics import METRIC_NAMES, PLAUSIBLE
    from formcheck.kinematics.view import ALL_VIEWS

    def bad(msg: str) -> FormcheckError:
        return FormcheckError(f"config [{code}]: {msg}")

    if rule.get("metric") not in METRIC_NAMES:
        raise bad(f"unknown metric {rule.get('metric')!r}; known: {', '.join(METRIC_NAMES)}")
    direction = "above" if "above" in rule else "below"
    bands = rule.get(direction)
    if not (isinstance(bands, list) and len(bands) == 3 and all(map(_is_number, bands))):
        raise bad(f"{direction} must be three numbers (mild, moderate, severe)")
    if sorted(bands, reverse=direction == "below") != bands:
        raise bad(f"{direction} bands must run from mild to severe")
    lo, hi = PLAUSIBLE.get(rule["metric"], (float("-inf"), float("inf")))
    if not all(lo <= b <= hi for b in bands):
        # A band no squat can reach never fires; one below every squat fires on all of them.
        raise bad(f"{direction} bands must lie within what {rule['metric']} can measure ({lo:g} to {hi:g})")
    views = rule.get("views")
    if not (isinstance(views, list) and views and set(views) <= set(ALL_VIEWS)):
        raise bad(f"views must be a list drawn from {', '.join(ALL_VIEWS)}")
    if not (_is_number(rule.get("confidence")) and 0 <= rule["confidence"] <= 1):
        raise bad("confidence must be a number from 0 to 1")
    for key in ("label", "caption", "reason"):
        if not (isinstance(rule.get(key), str) and rule[key].strip()):
            raise bad(f"{key} must be a non-empty text")
    gate = rule.get("gate")
    if gate is not None:
        limit = gate.get("above", gate.get("below")) if isinstance(gate, dict) else None
        if not isinstance(gate, dict) or gate.get("metric") not in METRIC_NAMES or not _is_number(limit):
            raise bad("gate must be {metric = NAME, above|below = NUMBER}")


def validate(config: dict) -> dict:
    share = config.get("clip", {}).get("min_share")
    if not (_is_number(share) and 0 < share <= 1):
        raise FormcheckError("config [clip]: min_share must be a number above 0 and at most 1")
    for code, rule in config.items():
        if code != "clip":
            _check_rule(code, rule)
    return config


LOCAL_CONFIG = "formcheck.toml"  # picked up from the current folder by the command line


def packaged_text() -> str:
    return (files("formcheck.coach") / "data" / "faults.toml").read_text(encoding="utf-8")


def load_config(*paths: str | Path | None) -> dict:
    """The fault specifications, overridden by each user file in turn (later
    files win); a user file may change any existing key, not add new ones."""
    config = tomllib.loads(packaged_text())
    for path in (Path(p) for p in paths if p is not None):
        try:
            override = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FormcheckError(f"no such config file: {path}") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FormcheckError(f"cannot read config {path}: {exc}") from None
        config = _merge(config, override)
    return validate(config)


@lru_cache(maxsize=1)
def fault_codes() -> tuple[str, ...]:
    """Every fault formcheck knows, in priority order: the rule tables of the
    packaged faults.toml (a table with a metric is a fault)."""
    return tuple(code for code, body in load_config().items() if isinstance(body, dict) and "metric" in body)
