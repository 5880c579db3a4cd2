"""Fault specifications, and the verdict of each on one rep.

Every fault is described once, in data/faults.toml (thresholds with their
reasons, the views it needs, its label, how it loads the back and how to draw
it). This module
turns those tables into FaultSpec objects and judges one rep's metrics at a
time, never single frames. Everything that shows a fault loops over the specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from formcheck.coach.advice import call
from formcheck.coach.config import load_config
from formcheck.kinematics.metrics import NOISE, Metric, depth_class, plain, plain_short
from formcheck.kinematics.view import ViewKind

Severity = Literal["mild", "moderate", "severe"]
SEVERITIES: tuple[Severity, ...] = ("mild", "moderate", "severe")
VerdictKind = Literal["fault", "ok", "not_measurable", "cant_tell"]
VIEW_CONFIDENCE = {"side": 1.0, "oblique": 0.7, "front": 0.9}  # oblique views bias sagittal angles
# A finding less sure than this is shown as possible, with what would settle
# it, and is never counted as a fault or put in the plan. On labeled clips
# true findings score 0.35-0.8 (two more, filmed well off the side, 0.16 and
# 0.19) and false ones 0.2-0.55: under 0.35 a finding is wrong about as often
# as it is right (`formcheck evaluate` prints the table).
POSSIBLE_BELOW = 0.35


@dataclass(frozen=True)
class Gate:
    """A second condition that must hold for the fault to count."""

    metric: str
    limit: float
    above: bool


@dataclass(frozen=True)
class FaultSpec:
    code: str
    label: str
    metric: str
    bands: tuple[float, float, float]  # mild, moderate, severe
    above: bool
    views: tuple[ViewKind, ...]
    confidence: float
    reason: str
    caption: str
    bones: tuple[str, ...] = ()
    joints: tuple[str, ...] = ()
    mark: str | None = None
    readout: str | None = None
    live_signal: str | None = None
    plot: tuple[str, ...] = ()
    threshold_line: bool = False
    gate: Gate | None = None
    back_load: int = 0  # how directly the documents tie it to load on the lower back (0-3)

    @property
    def cue(self) -> str:
        """The words the live coach calls for it: the same cue the report leads with."""
        return call(self.code)

    @classmethod
    def from_config(cls, code: str, cfg: dict) -> "FaultSpec":
        above = "above" in cfg
        gate = cfg.get("gate")
        return cls(
            code=code, label=cfg["label"], metric=cfg["metric"],
            bands=tuple(float(b) for b in (cfg["above"] if above else cfg["below"])), above=above,
            views=tuple(cfg["views"]), confidence=float(cfg["confidence"]), reason=cfg["reason"],
            caption=cfg["caption"], back_load=int(cfg.get("back_load", 0)), bones=tuple(cfg.get("bones", ())),
            joints=tuple(cfg.get("joints", ())), mark=cfg.get("mark"), readout=cfg.get("readout"),
            live_signal=cfg.get("live_signal"), plot=tuple(cfg.get("plot", ())),
            threshold_line=bool(cfg.get("threshold_line", False)),
            gate=Gate(gate["metric"], float(gate.get("above", gate.get("below"))), "above" in gate) if gate else None,
        )

    def passes(self, value: float, level: int = 0) -> bool:
        """Whether `value` reaches severity band `level` (0 = mild)."""
        limit = self.bands[level]
        return value >= limit if self.above else value <= limit

    def _gate_holds(self, value: float) -> bool:
        return value >= self.gate.limit if self.gate.above else value <= self.gate.limit

    def judge(self, metrics: dict[str, Metric], view: ViewKind, view_confidence: float = 1.0) -> "Finding":
        """This fault's verdict on one rep's metrics seen from `view`."""
        if view not in self.views:
            return Finding(self.code, "not_measurable", reason=f"not measurable from a {view} view")
        needed = [self.metric] + ([self.gate.metric] if self.gate else [])
        for name in needed:
            m = metrics.get(name)
            if m is None or not m.measurable or m.value is None:
                return Finding(self.code, "cant_tell", reason=(m.note if m is not None else "") or
                               f"{name.replace('_', ' ')} could not be measured")
        m = metrics[self.metric]
        gate = metrics[self.gate.metric] if self.gate else None
        reason = next((metrics[name].doubt for name in needed if metrics[name].doubt), "")
        if reason:  # a value on evidence that does not hold says nothing either way
            return Finding(self.code, "cant_tell", reason=reason)
        # Judged on the values the camera's yaw leaves open: a fault from any
        # yaw it may have, or none from any; in between the picture cannot tell.
        fault_at = [self.passes(v) for v in _ends(m)]
        gate_at = [self._gate_holds(v) for v in _ends(gate)] if gate is not None else [True]
        if not any(fault_at) or not any(gate_at):
            return Finding(self.code, "ok")
        if not all(fault_at):
            return Finding(self.code, "cant_tell", reason=_yaw_doubt(self.metric, m))
        if not all(gate_at):
            return Finding(self.code, "cant_tell", reason=_yaw_doubt(self.gate.metric, gate))
        weakest = min(_ends(m), key=lambda v: abs(v - self.bands[0]))  # the reading least past the line
        levels = [i for i in range(len(SEVERITIES)) if self.passes(weakest, i)]
        side_on = f" ({plain_short(self.metric, m.bounds[0])}-{plain_short(self.metric, m.bounds[1])} from side-on)" \
            if m.bounds and m.unit == "deg" and m.bounds[1] - m.bounds[0] >= 1.0 else ""
        evidence = f"{plain(self.metric, m.value)}{side_on} (a fault {'from' if self.above else 'at or under'} " \
                   f"{plain_short(self.metric, self.bands[0])})"
        where = m.sides_past(self.passes)
        if where:  # a per-leg fault names the leg(s), so one knee caving reads as that knee
            evidence += " " + " and ".join(where)
        if gate is not None:
            evidence += f"; {plain(self.gate.metric, gate.value)}"
        # Confidence: how direct the metric is, how well the view shows it, and
        # how far the value clears the threshold against the metric's noise.
        margin = abs(weakest - self.bands[0]) / NOISE.get(m.unit, abs(self.bands[0]) * 0.1 or 1.0)
        confidence = self.confidence * VIEW_CONFIDENCE.get(view, 0.5) * max(0.3, view_confidence) \
            * min(1.0, 0.5 + 0.25 * margin)
        confidence = round(min(confidence, 1.0), 2)
        if confidence < POSSIBLE_BELOW:
            return Finding(self.code, "cant_tell", SEVERITIES[max(levels)], confidence, evidence,
                           reason=f"possible ({evidence}; confidence {confidence:.2f}): "
                                  f"{_CONFIRM.get(view, _CONFIRM['side'])} to confirm")
        return Finding(self.code, "fault", SEVERITIES[max(levels)], confidence, evidence)


_CONFIRM = {"front": "film from the front at knee height, the whole body in view",
            "side": "film from straight side-on at hip height, the whole body in view"}


def _ends(m: Metric) -> tuple[float, ...]:
    """The readings a metric could have: its side-on range, else its value."""
    return m.bounds if m.bounds else (m.value,)


def _yaw_doubt(name: str, m: Metric) -> str:
    lo, hi = m.bounds
    return (f"{plain(name, lo)} to {plain_short(name, hi)} by how far the camera is off the lifter's side, "
            "which the picture does not pin down: film from straight side-on at hip height to judge this")


@dataclass(frozen=True)
class Finding:
    """One fault's verdict on one rep: a fault (with severity and confidence),
    no fault, not measurable from this view, or can't tell (with the reason;
    a possible fault keeps its severity, confidence and evidence too)."""

    code: str
    verdict: VerdictKind
    severity: Severity | None = None
    confidence: float | None = None
    evidence: str = ""
    reason: str = ""

    @property
    def is_fault(self) -> bool:
        return self.verdict == "fault"

    @property
    def possible(self) -> bool:
        """The rule fired, but less surely than POSSIBLE_BELOW: shown, never counted."""
        return self.verdict == "cant_tell" and self.confidence is not None

    def to_dict(self) -> dict:
        found = {"severity": self.severity, "confidence": self.confidence, "evidence": self.evidence}
        if self.is_fault:
            return {"code": self.code, **found}
        return {"code": self.code, "verdict": self.verdict, **(found if self.possible else {}),
                **({"reason": self.reason} if self.reason else {})}


@dataclass(frozen=True)
class ClipFault:
    """A fault that shows in enough of the clip's reps to be a pattern."""

    code: str
    reps: tuple[int, ...]  # rep numbers as the report shows them
    severity: Severity

    def to_dict(self) -> dict:
        return {"code": self.code, "reps": list(self.reps), "severity": self.severity}


def specs_from_config(cfg: dict) -> tuple[FaultSpec, ...]:
    return tuple(FaultSpec.from_config(code, body) for code, body in cfg.items() if "metric" in body)


@lru_cache(maxsize=1)
def packaged_specs() -> tuple[FaultSpec, ...]:
    """The specifications as shipped, in priority order (no user overrides)."""
    return specs_from_config(load_config())


def label(code: str) -> str:
    """What the lifter reads for a fault code."""
    return next((s.label for s in packaged_specs() if s.code == code), code.replace("_", " "))


def clip_faults(per_rep: list[dict[str, Finding]], specs: tuple[FaultSpec, ...], min_share: float,
                numbers: list[int] | None = None) -> list[ClipFault]:
    """Faults for the whole clip: present in at least min_share of the reps
    where they could be judged. Severity is the most common among those reps.
    `numbers` are the reps' numbers as the report shows them (default 1, 2, ...)."""
    numbers = numbers or list(range(1, len(per_rep) + 1))
    out = []
    for spec in specs:
        judged = [i for i, found in enumerate(per_rep) if found[spec.code].verdict in ("fault", "ok")]
        hits = [i for i in judged if per_rep[i][spec.code].is_fault]
        if judged and hits and len(hits) >= min_share * len(judged):
            sev = [per_rep[i][spec.code].severity for i in hits]
            out.append(ClipFault(spec.code, tuple(numbers[i] for i in hits),
                                 max(set(sev), key=lambda s: (sev.count(s), SEVERITIES.index(s)))))
    return out


def rep_depth(metrics: dict[str, Metric], findings: dict[str, Finding], specs: tuple[FaultSpec, ...]) -> str | None:
    """Below, at or above parallel, as the depth fault judged the rep: the
    verdict line and the rep table then say what the faults say, and a depth
    the evidence cannot vouch for is not named at all."""
    spec = next((s for s in specs if s.metric == "depth"), None)
    if spec is None:
        return None
    found = findings.get(spec.code)
    if found is None or found.verdict not in ("fault", "ok"):
        return None
    return depth_class(metrics[spec.metric], spec.bands[0])
