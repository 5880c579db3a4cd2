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
from formcheck.view import ALL_VIEWS, SAGITTAL_VIEWS, ViewKind

METRIC_NAMES = (
    "depth", "hip_drop", "knee_flexion_max", "trunk_lean_max", "trunk_lean_ascent", "trunk_minus_shin",
    "knee_travel", "shin_angle_bottom", "tuck", "hip_first_lag", "trunk_pitch_before_knees", "heel_rise",
    "descent_time", "ascent_time",
)  # what rep_metrics returns, in that order: fault specifications may refer to these
ONSET_FRACTION = 0.1  # a joint "starts" bending when it passes 10% of its range in the descent
KNEE_STOP_MARGIN = 3.0  # degrees below the maximum knee flexion that count as "knees stopped"


@dataclass
class Metric:
    """One per-rep measurement and what it was measured on: the frames
    judged (`span`, inclusive), the frame of its worst moment, and the
    per-frame values over the span it was reduced from (`trace`, same unit),
    so drawing and checking never work them out again."""

    value: float | None
    unit: str
    measurable: bool
    note: str = ""
    span: tuple[int, int] | None = None
    worst: int | None = None
    trace: np.ndarray | None = None

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


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else float("nan")


def _at(x: np.ndarray, i: int) -> float:
    return float(x[i]) if 0 <= i < len(x) and np.isfinite(x[i]) else float("nan")


def _metric(value: float, unit: str, view: ViewKind, views: tuple[ViewKind, ...], span: tuple[int, int] | None = None,
            worst: int | None = None, trace: np.ndarray | None = None) -> Metric:
    if view not in views:
        return Metric(None, unit, False, f"not measurable from a {view} view", span, worst, trace)
    if not np.isfinite(value):
        return Metric(None, unit, False, "landmarks not visible", span, worst, trace)
    return Metric(float(value), unit, True, "", span, worst, trace)


def _extreme(x: np.ndarray, a: int, b: int, unit: str, view: ViewKind, views: tuple[ViewKind, ...],
             biggest: bool = True) -> Metric:
    """The largest (or smallest) value of a per-frame signal over frames a..b."""
    a = max(a, 0)
    seg = _span(x, a, b)
    if not np.isfinite(seg).any():
        return _metric(float("nan"), unit, view, views, (a, b), None, seg)
    k = int(np.nanargmax(seg) if biggest else np.nanargmin(seg))
    return _metric(float(seg[k]), unit, view, views, (a, b), a + k, seg)


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


def descent_window(rep: Rep, t: np.ndarray) -> int:
    """Where to look for the start of the movement: up to a second before the
    rep's start, never before the previous rep ended."""
    lo = int(np.searchsorted(t, t[rep.start] - 1.0))
    return max(lo, rep.after, 0)


def rep_metrics(sig: Signals, rep: Rep, view: ViewKind) -> dict[str, Metric]:
    t = sig.t
    bottom_lo, bottom_hi = rep.descent_end, rep.ascent_start
    m: dict[str, Metric] = {}

    # Depth: hip height over the knee at the bottom, in thigh lengths (0 = parallel).
    m["depth"] = _extreme(sig.hip_above_knee, bottom_lo, bottom_hi, "thigh lengths above knee", view, ALL_VIEWS,
                          biggest=False)
    m["hip_drop"] = _metric(rep.depth, "leg lengths", view, ALL_VIEWS, (rep.start, rep.end), rep.bottom)
    m["knee_flexion_max"] = _extreme(sig.knee_flexion, rep.start, rep.end, "deg", view, SAGITTAL_VIEWS)

    # Torso lean, overall and in the ascent; trunk vs shin at the bottom.
    m["trunk_lean_max"] = _extreme(sig.trunk, rep.start, rep.end, "deg", view, SAGITTAL_VIEWS)
    m["trunk_lean_ascent"] = _extreme(sig.trunk, rep.ascent_start, rep.end, "deg", view, SAGITTAL_VIEWS)
    m["trunk_minus_shin"] = _metric(_at(sig.trunk, rep.bottom) - _at(sig.shin, rep.bottom), "deg", view,
                                    SAGITTAL_VIEWS, (rep.bottom, rep.bottom), rep.bottom)

    # Knee travel: how far the knee gets ahead of the ankle, and the shin angle at the bottom.
    m["knee_travel"] = _extreme(sig.knee_travel, rep.start, rep.end, "shin lengths", view, SAGITTAL_VIEWS)
    m["shin_angle_bottom"] = _extreme(sig.shin, bottom_lo, bottom_hi, "deg", view, SAGITTAL_VIEWS)

    # Pelvic tuck proxy: hip flexion gained after the knees stopped bending.
    m["tuck"] = tuck(sig, rep, view)

    # Hip-first initiation: hip flexion onset leading knee flexion onset.
    t_hip, t_knee = onsets(sig, rep)
    span = worst = None
    pitch = float("nan")
    if np.isfinite(t_knee) and np.isfinite(t_hip):
        i_knee, i_hip = int(np.searchsorted(t, t_knee)), int(np.searchsorted(t, t_hip))
        pitch = _at(sig.trunk, i_knee) - _at(sig.trunk, min(i_hip, i_knee))
        span, worst = (min(i_hip, i_knee), max(i_hip, i_knee)), i_knee  # knees about to move, hips already have
    m["hip_first_lag"] = _metric((t_knee - t_hip) * 1000.0, "ms", view, SAGITTAL_VIEWS, span, worst)
    m["trunk_pitch_before_knees"] = _metric(pitch, "deg", view, SAGITTAL_VIEWS, span, worst)

    # Heel lift: the median over the bottom phase, since a lift is held there and jitter is not.
    rise = heel_rise(sig, rep)[bottom_lo - rep.start:bottom_hi - rep.start + 1]
    worst = bottom_lo + int(np.nanargmax(rise)) if np.isfinite(rise).any() else None
    m["heel_rise"] = _metric(_nanmedian(rise), "foot lengths", view, SAGITTAL_VIEWS, (bottom_lo, bottom_hi),
                             worst, rise)

    # Tempo.
    m["descent_time"] = _metric(float(t[rep.descent_end] - t[rep.start]), "s", view, ALL_VIEWS,
                                (rep.start, rep.descent_end))
    m["ascent_time"] = _metric(float(t[rep.end] - t[rep.ascent_start]), "s", view, ALL_VIEWS,
                               (rep.ascent_start, rep.end))
    return m


def onsets(sig: Signals, rep: Rep) -> tuple[float, float]:
    """Times (s) at which hip flexion and knee flexion start in this rep's descent."""
    lo = descent_window(rep, sig.t)
    return onset(sig.hip_flexion, sig.t, lo, rep.bottom), onset(sig.knee_flexion, sig.t, lo, rep.bottom)


def knee_stop(sig: Signals, rep: Rep) -> int | None:
    """First frame at which the knees are within a few degrees of their deepest
    bend: from here on, extra hip flexion is what the tuck proxy counts."""
    knee = _span(sig.knee_flexion, rep.start, rep.ascent_start)
    if not np.isfinite(knee).any():
        return None
    return rep.start + int(np.nanargmax(knee >= np.nanmax(knee) - KNEE_STOP_MARGIN))


def heel_rise(sig: Signals, rep: Rep) -> np.ndarray:
    """Heel height over the rep's frames (start to end) above its level in the
    moments before the rep, in foot lengths: a per-rep baseline follows a
    camera that is moved or zoomed between reps."""
    lo = descent_window(rep, sig.t)
    return _span(sig.heel_height, rep.start, rep.end) - _nanmedian(_span(sig.heel_height, lo, rep.start))


def tuck(sig: Signals, rep: Rep, view: ViewKind) -> Metric:
    """Hip flexion gained from the moment the knees stop bending to the end of the bottom phase."""
    stopped = knee_stop(sig, rep)
    if stopped is None or not np.isfinite(sig.hip_flexion[stopped]):
        return _metric(float("nan"), "deg", view, SAGITTAL_VIEWS)
    gain = _span(sig.hip_flexion, stopped, rep.ascent_start) - sig.hip_flexion[stopped]
    if not np.isfinite(gain).any():
        return _metric(float("nan"), "deg", view, SAGITTAL_VIEWS, (stopped, rep.ascent_start), None, gain)
    k = int(np.nanargmax(gain))
    return _metric(max(0.0, float(gain[k])), "deg", view, SAGITTAL_VIEWS, (stopped, rep.ascent_start),
                   stopped + k, gain)


def depth_class(depth: Metric, parallel_band: float = 0.1) -> str | None:
    """below / at / above parallel from the hip-over-knee height."""
    if not depth.measurable or depth.value is None:
        return None
    if depth.value < -parallel_band:
        return "below_parallel"
    if depth.value <= parallel_band:
        return "parallel"
    return "above_parallel"
