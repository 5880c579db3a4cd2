"""Per-rep metrics: small functions, each returning a value with its unit and
whether the rep's camera view lets it be measured at all.

The pelvic-tuck ("butt wink") proxy: BlazePose has no lumbar or pelvis-tilt
landmarks, so we measure how much the trunk keeps rotating forward relative
to the thigh (hip flexion) after the knees have stopped bending near the
bottom. In a squat the hips and knees stop together; extra trunk rotation
after that comes from the pelvis tucking and the lower back rounding. It
cannot tell a tuck from a deliberate late forward lean, and it needs a side
or near-side oblique view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.reps import Rep
from formcheck.signals import Signals

SAGITTAL_VIEWS = ("side", "oblique")  # views in which sagittal angles mean something
ALL_VIEWS = ("side", "oblique", "front")
METRIC_NAMES = (
    "depth", "hip_drop", "knee_flexion_max", "trunk_lean_max", "trunk_lean_ascent", "trunk_minus_shin",
    "knee_travel", "shin_angle_bottom", "tuck", "hip_first_lag", "trunk_pitch_before_knees", "heel_rise",
    "descent_time", "ascent_time",
)  # what rep_metrics returns, in that order: rules may refer to these
ONSET_FRACTION = 0.1  # a joint "starts" bending when it passes 10% of its range in the descent
KNEE_STOP_MARGIN = 3.0  # degrees below the maximum knee flexion that count as "knees stopped"


@dataclass
class Metric:
    value: float | None
    unit: str
    measurable: bool
    note: str = ""

    def text(self, digits: int = 0, missing: str = "n/a") -> str:
        """The value for a table cell, or `missing` when it could not be measured."""
        if not self.measurable or self.value is None or not np.isfinite(self.value):
            return missing
        return f"{self.value:.{digits}f}"

    def to_dict(self) -> dict:
        v = None if self.value is None or not np.isfinite(self.value) else round(float(self.value), 3)
        return {"value": v, "unit": self.unit, "measurable": bool(self.measurable and v is not None),
                **({"note": self.note} if self.note else {})}


def _span(x: np.ndarray, a: int, b: int) -> np.ndarray:
    return x[max(a, 0):b + 1]


def _nanmax(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.max()) if len(x) else float("nan")


def _nanmin(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.min()) if len(x) else float("nan")


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else float("nan")


def _at(x: np.ndarray, i: int) -> float:
    return float(x[i]) if 0 <= i < len(x) and np.isfinite(x[i]) else float("nan")


def _metric(value: float, unit: str, view: str, views: tuple[str, ...]) -> Metric:
    if view not in views:
        return Metric(None, unit, False, f"not measurable from a {view} view")
    if not np.isfinite(value):
        return Metric(None, unit, False, "landmarks not visible")
    return Metric(value, unit, True)


def onset(x: np.ndarray, t: np.ndarray, lo: int, peak: int) -> float:
    """Time an angle starts rising towards its peak: the last frame before it
    passes half its range at which it was still within 10% of its low value."""
    seg = x[lo:peak + 1]
    if len(seg) < 2 or not np.isfinite(seg).any():
        return float("nan")
    base, top = np.nanmin(seg), np.nanmax(seg)
    rng = top - base
    if rng <= 0:
        return float("nan")
    half = int(np.nanargmax(seg >= base + 0.5 * rng))
    quiet = np.flatnonzero(seg[:half + 1] <= base + ONSET_FRACTION * rng)
    return float(t[lo + quiet[-1]]) if len(quiet) else float(t[lo])


def descent_window(rep: Rep, t: np.ndarray, previous_end: int) -> int:
    """Where to look for the start of the movement: up to a second before the
    rep's start, never before the previous rep ended."""
    lo = int(np.searchsorted(t, t[rep.start] - 1.0))
    return max(lo, previous_end, 0)


def rep_metrics(sig: Signals, rep: Rep, view: str, previous_end: int = 0) -> dict[str, Metric]:
    t = sig.t
    bottom_lo, bottom_hi = rep.descent_end, rep.ascent_start
    m: dict[str, Metric] = {}

    # Depth: hip height over the knee at the bottom, in thigh lengths (0 = parallel).
    m["depth"] = _metric(_nanmin(_span(sig.hip_above_knee, bottom_lo, bottom_hi)), "thigh lengths above knee", view, ALL_VIEWS)
    m["hip_drop"] = _metric(rep.depth, "leg lengths", view, ALL_VIEWS)
    m["knee_flexion_max"] = _metric(_nanmax(_span(sig.knee_flexion, rep.start, rep.end)), "deg", view, SAGITTAL_VIEWS)

    # Torso lean, overall and in the ascent; trunk vs shin at the bottom.
    m["trunk_lean_max"] = _metric(_nanmax(_span(sig.trunk, rep.start, rep.end)), "deg", view, SAGITTAL_VIEWS)
    m["trunk_lean_ascent"] = _metric(_nanmax(_span(sig.trunk, rep.ascent_start, rep.end)), "deg", view, SAGITTAL_VIEWS)
    m["trunk_minus_shin"] = _metric(_at(sig.trunk, rep.bottom) - _at(sig.shin, rep.bottom), "deg", view, SAGITTAL_VIEWS)

    # Knee travel: how far the knee gets ahead of the ankle, and the shin angle at the bottom.
    m["knee_travel"] = _metric(_nanmax(_span(sig.knee_travel, rep.start, rep.end)), "shin lengths", view, SAGITTAL_VIEWS)
    m["shin_angle_bottom"] = _metric(_nanmax(_span(sig.shin, bottom_lo, bottom_hi)), "deg", view, SAGITTAL_VIEWS)

    # Pelvic tuck proxy: hip flexion gained after the knees stopped bending.
    m["tuck"] = _metric(tuck_proxy(sig, rep), "deg", view, SAGITTAL_VIEWS)

    # Hip-first initiation: hip flexion onset leading knee flexion onset.
    t_hip, t_knee = onsets(sig, rep, previous_end)
    lag_ms = (t_knee - t_hip) * 1000.0
    m["hip_first_lag"] = _metric(lag_ms, "ms", view, SAGITTAL_VIEWS)
    pitch = float("nan")
    if np.isfinite(t_knee) and np.isfinite(t_hip):
        i_knee, i_hip = int(np.searchsorted(t, t_knee)), int(np.searchsorted(t, t_hip))
        pitch = _at(sig.trunk, i_knee) - _at(sig.trunk, min(i_hip, i_knee))
    m["trunk_pitch_before_knees"] = _metric(pitch, "deg", view, SAGITTAL_VIEWS)

    # Heel lift: the median over the bottom phase, since a lift is held there and jitter is not.
    rise = heel_rise(sig, rep, previous_end)
    m["heel_rise"] = _metric(_nanmedian(rise[bottom_lo - rep.start:bottom_hi - rep.start + 1]), "foot lengths",
                             view, SAGITTAL_VIEWS)

    # Tempo.
    m["descent_time"] = _metric(float(t[rep.descent_end] - t[rep.start]), "s", view, ALL_VIEWS)
    m["ascent_time"] = _metric(float(t[rep.end] - t[rep.ascent_start]), "s", view, ALL_VIEWS)
    return m


def onsets(sig: Signals, rep: Rep, previous_end: int = 0) -> tuple[float, float]:
    """Times (s) at which hip flexion and knee flexion start in this rep's descent."""
    lo = descent_window(rep, sig.t, previous_end)
    return onset(sig.hip_flexion, sig.t, lo, rep.bottom), onset(sig.knee_flexion, sig.t, lo, rep.bottom)


def knee_stop(sig: Signals, rep: Rep) -> int | None:
    """First frame at which the knees are within a few degrees of their deepest
    bend: from here on, extra hip flexion is what the tuck proxy counts."""
    knee = _span(sig.knee_flexion, rep.start, rep.ascent_start)
    if not np.isfinite(knee).any():
        return None
    return rep.start + int(np.nanargmax(knee >= np.nanmax(knee) - KNEE_STOP_MARGIN))


def heel_rise(sig: Signals, rep: Rep, previous_end: int = 0) -> np.ndarray:
    """Heel height over the rep's frames (start to end) above its level in the
    moments before the rep, in foot lengths: a per-rep baseline follows a
    camera that is moved or zoomed between reps."""
    lo = descent_window(rep, sig.t, previous_end)
    return _span(sig.heel_height, rep.start, rep.end) - _nanmedian(_span(sig.heel_height, lo, rep.start))


def tuck_proxy(sig: Signals, rep: Rep) -> float:
    stopped = knee_stop(sig, rep)
    if stopped is None:
        return float("nan")
    hip = _span(sig.hip_flexion, stopped, rep.ascent_start)
    if not np.isfinite(hip).any() or not np.isfinite(sig.hip_flexion[stopped]):
        return float("nan")
    return max(0.0, float(np.nanmax(hip) - sig.hip_flexion[stopped]))


def depth_class(depth: Metric, parallel_band: float = 0.1) -> str | None:
    """below / at / above parallel from the hip-over-knee height."""
    if not depth.measurable or depth.value is None:
        return None
    if depth.value < -parallel_band:
        return "below_parallel"
    if depth.value <= parallel_band:
        return "parallel"
    return "above_parallel"
