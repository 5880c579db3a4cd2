"""Fault specifications: the packaged faults.toml, optionally overridden by a user file."""

from __future__ import annotations

import copy
import math
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from formcheck.errors import FormcheckError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


MARKS = ("depth_line", "hips_back_arrow", "knee_lines", "shift_arrow")  # drawn by outputs.render.skeleton


def _merge(base: dict, override: dict, where: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in out:
            raise FormcheckError(f"unknown config key: {where}{key}")
        if isinstance(out[key], dict) != isinstance(value, dict):
            kind = "a table" if isinstance(out[key], dict) else "a value, not a table"
            raise FormcheckError(f"{where}{key} must be {kind}")
        if isinstance(out[key], dict):
            out[key] = _merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _names(value, known, what: str, single: bool = False) -> str | None:
    """None when `value` is a list (or, with single, one text) of names drawn from `known`."""
    items = [value] if single else value
    if (single and not isinstance(value, str)) or (not single and not isinstance(value, list)) \
            or not all(isinstance(v, str) and v in known for v in items):
        shape = "one of" if single else "a list drawn from"
        return f"{what} must be {shape} {', '.join(sorted(known))}"
    return None


def _rule_schema() -> dict:
    """Each key a fault table may have -> a check returning what is wrong, or None.
    One schema, so every key is validated the same way before any work."""
    from formcheck.kinematics.metrics import METRIC_NAMES, PLAUSIBLE
    from formcheck.kinematics.signals import SIGNAL_LABELS
    from formcheck.kinematics.view import ALL_VIEWS
    from formcheck.pose.track import BONES

    bones = {b[2] for b in BONES}
    joints = {j for b in BONES for j in b[:2]}

    def text(v):
        return None if isinstance(v, str) and v.strip() else "must be a non-empty text"

    def bands(direction):
        def check(v, rule):
            if not (isinstance(v, list) and len(v) == 3 and all(map(_is_number, v))):
                return f"{direction} must be three numbers (mild, moderate, severe)"
            if sorted(v, reverse=direction == "below") != v:
                return f"{direction} bands must run from mild to severe"
            lo, hi = PLAUSIBLE.get(rule.get("metric"), (float("-inf"), float("inf")))
            if not all(lo <= b <= hi for b in v):
                # A band no squat can reach never fires; one below every squat fires on all of them.
                return f"{direction} bands must lie within what {rule.get('metric')} can measure ({lo:g} to {hi:g})"
            if direction == "above" and min(v) <= 0:
                return "above bands must be above 0: at or below 0 every squat reaches them"
            return None
        return check

    def gate(v, rule):
        limit = v.get("above", v.get("below")) if isinstance(v, dict) else None
        if not isinstance(v, dict) or v.get("metric") not in METRIC_NAMES or not _is_number(limit) \
                or set(v) - {"metric", "above", "below"} or ("above" in v) == ("below" in v):
            return "gate must be {metric = NAME, above = NUMBER} or {metric = NAME, below = NUMBER}"
        return None

    return {
        "label": lambda v, r: text(v), "caption": lambda v, r: text(v), "reason": lambda v, r: text(v),
        "metric": lambda v, r: None if v in METRIC_NAMES else f"unknown metric {v!r}; known: {', '.join(METRIC_NAMES)}",
        "above": bands("above"), "below": bands("below"), "gate": gate,
        "views": lambda v, r: _names(v, ALL_VIEWS, "views") or (None if v else "views must name at least one view"),
        "confidence": lambda v, r: None if _is_number(v) and 0 <= v <= 1 else "confidence must be a number from 0 to 1",
        "back_load": lambda v, r: None if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3
        else "back_load must be a whole number from 0 to 3",
        "bones": lambda v, r: _names(v, bones, "bones"), "joints": lambda v, r: _names(v, joints, "joints"),
        "plot": lambda v, r: _names(v, SIGNAL_LABELS, "plot"),
        "live_signal": lambda v, r: _names(v, SIGNAL_LABELS, "live_signal", single=True),
        "readout": lambda v, r: _names(v, SIGNAL_LABELS, "readout", single=True),
        "mark": lambda v, r: _names(v, MARKS, "mark", single=True),
        "threshold_line": lambda v, r: None if isinstance(v, bool) else "threshold_line must be true or false",
    }


def _check_rule(code: str, rule: dict) -> None:
    """A rule that would misbehave silently (a misspelt metric, bands out of
    order, a view as a bare string, "false" in quotes) is a config error,
    not a quiet pass."""
    schema = _rule_schema()
    if "metric" not in rule:
        raise FormcheckError(f"config [{code}]: metric is missing")
    if ("above" in rule) == ("below" in rule):
        raise FormcheckError(f"config [{code}]: give either above or below")
    for key in ("label", "caption", "reason", "views", "confidence"):
        if key not in rule:
            raise FormcheckError(f"config [{code}]: {key} is missing")
    for key, value in rule.items():
        check = schema.get(key)
        problem = f"unknown key {key}" if check is None else check(value, rule)
        if problem:
            raise FormcheckError(f"config [{code}]: {problem}")


SETTINGS_TABLES = ("clip", "velocity", "live")  # the tables that are settings, not faults


def validate(config: dict) -> dict:
    share = config.get("clip", {}).get("min_share")
    if not (_is_number(share) and 0 < share <= 1):
        raise FormcheckError("config [clip]: min_share must be a number above 0 and at most 1")
    loss = config.get("velocity", {}).get("loss_stop")
    if not (_is_number(loss) and 0 < loss < 1):
        raise FormcheckError("config [velocity]: loss_stop must be a number above 0 and below 1")
    if not isinstance(config.get("live", {}).get("voice"), bool):
        raise FormcheckError("config [live]: voice must be true or false")
    for code, rule in config.items():
        if code not in SETTINGS_TABLES:
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
            raise FormcheckError(f"cannot read config {_named(path)}: {exc}") from None
        try:  # checked file by file, so the error names the file that caused it
            config = validate(_merge(config, override))
        except FormcheckError as exc:
            raise FormcheckError(f"config {_named(path)}: {str(exc).removeprefix('config ')}") from None
    return validate(config)


def _named(path: Path) -> str:
    """A file the user may not know was read says where it came from."""
    if path == Path(LOCAL_CONFIG):
        return f"./{LOCAL_CONFIG} (read from the current folder)"
    return str(path)


@lru_cache(maxsize=1)
def fault_codes() -> tuple[str, ...]:
    """Every fault formcheck knows, in priority order: the rule tables of the
    packaged faults.toml (a table with a metric is a fault)."""
    return tuple(code for code, body in load_config().items() if isinstance(body, dict) and "metric" in body)
