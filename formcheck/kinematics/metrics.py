"""Per-rep metrics: small functions, each returning a value with its unit and
whether the rep's camera view lets it be measured at all.

The pelvic-tuck ("butt wink") proxy: BlazePose has no lumbar or pelvis-tilt
landmarks, so we measure how much the trunk keeps rotating forward relative
to the thigh (hip flexion) after the knees have stopped bending near the
bottom. In a squat the hips and knees stop together; extra trunk rotation
after that comes from the pelvis tucking and the lower back rounding. It
cannot tell a tuck from a deliberate late forward lean, and it needs a side
or near-side oblique view.

Knee cave and side shift are measured from the front or back, per leg and
against the lifter's own stance in the moments before each rep (so a wide
or narrow stance, toes out or in, and the camera's distance drop out): how
much of its standing distance from the midline each knee gives up, whether
the knees as a pair close in at that moment, and how far the pelvis drifts
sideways over the feet, in hip widths.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from formcheck.kinematics.reps import Rep
from formcheck.kinematics.signals import LEG_SIDES, Signals
from formcheck.kinematics.view import ALL_VIEWS, FRONTAL_VIEWS, SAGITTAL_VIEWS, ViewKind

METRIC_NAMES = (
    "depth", "hip_drop", "knee_flexion_max", "trunk_lean_max", "trunk_lean_ascent", "trunk_minus_shin",
    "knee_travel", "shin_angle_bottom", "tuck", "hip_first_lag", "trunk_pitch_before_knees", "heel_rise",
    "foot_tilt", "descent_time", "ascent_time", "knee_in", "knee_narrowing", "side_shift",
)  # what rep_metrics returns, in that order: fault specifications may refer to these
# What a squatting human can produce, per metric: a value outside is a
# tracking failure (a shoulder point on the thigh, a skeleton on a rack
# upright), never a fault.
PLAUSIBLE = {
    "depth": (-1.2, 1.2),  # thigh lengths: hip a little more than a thigh below or above the knee
    "hip_drop": (0.0, 1.2),
    "knee_flexion_max": (0.0, 170.0),
    "trunk_lean_max": (-30.0, 85.0),  # past ~85 deg the torso points at the floor: no squat does that
    "trunk_lean_ascent": (-30.0, 85.0),
    "trunk_minus_shin": (-60.0, 80.0),
    "knee_travel": (-0.5, 1.2),  # shin lengths
    "shin_angle_bottom": (-5.0, 60.0),  # a knee well behind the ankle at the bottom means a wrong facing or leg
    "tuck": (0.0, 40.0),
    "hip_first_lag": (-500.0, 800.0),  # ms: a lead of most of a second is a missed onset, not a movement
    "trunk_pitch_before_knees": (-30.0, 60.0),
    "heel_rise": (-0.3, 0.8),  # foot lengths: 0.8 is standing on the toes
    "foot_tilt": (-25.0, 60.0),
    "descent_time": (0.0, 30.0),
    "ascent_time": (0.0, 30.0),
    # Share of a knee's standing distance from the midline given up: 1 is the
    # knee on the midline (the knees would be crossing), and knees pushed out to
    # two and a half times their standing width are a skeleton off the body.
    "knee_in": (-1.5, 0.95),
    "knee_narrowing": (-1.5, 0.95),
    "side_shift": (0.0, 1.5),  # hip widths: the pelvis cannot leave the space over the feet in a squat
}
# What needs the start of the descent: not measured on a rep the clip joins partway down.
NEEDS_DESCENT = ("hip_first_lag", "trunk_pitch_before_knees", "descent_time")
# Typical landmark noise of a per-rep value after filtering (seen on clean
# real side-view clips and the simulator's noise model): a finding's
# confidence grows with its margin over the threshold in these units.
NOISE = {"deg": 4.0, "ms": 50.0, "foot lengths": 0.08, "thigh lengths above knee": 0.08, "shin lengths": 0.05,
         "of standing width": 0.05, "hip widths": 0.08}
# The joints each metric reads (on the analysed side): evidence quality is
# checked on these.
READS = {
    "depth": ("hip", "knee"), "hip_drop": ("hip", "knee", "ankle"), "knee_flexion_max": ("hip", "knee", "ankle"),
    "trunk_lean_max": ("shoulder", "hip"), "trunk_lean_ascent": ("shoulder", "hip"),
    "trunk_minus_shin": ("shoulder", "hip", "knee", "ankle"), "knee_travel": ("knee", "ankle"),
    "shin_angle_bottom": ("knee", "ankle"), "tuck": ("shoulder", "hip", "knee", "ankle"),
    "hip_first_lag": ("shoulder", "hip", "knee", "ankle"), "trunk_pitch_before_knees": ("shoulder", "hip"),
    "heel_rise": ("ankle", "heel", "foot_index"), "foot_tilt": ("heel", "foot_index"),
    "descent_time": ("hip",), "ascent_time": ("hip",),
    "knee_in": ("hip", "knee", "ankle"), "knee_narrowing": ("hip", "knee", "ankle"),
    "side_shift": ("hip", "ankle"),
}


def _deg(v: float) -> str:
    return f"{v:.0f}°"


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _secs(v: float) -> str:
    return f"{v:.1f} s"


def _thigh(v: float) -> str:
    # Hip over knee in thigh lengths is the sine of the thigh's angle to level:
    # degrees read better than a fraction of a thigh.
    deg = np.degrees(np.arcsin(np.clip(v, -1.0, 1.0)))
    return "level" if abs(deg) < 0.5 else f"{abs(deg):.0f}° {'above' if deg > 0 else 'below'}"


# What the lifter reads for each metric: (plain name, short value, the words
# that complete the value). Units are ones a person pictures: degrees,
# seconds, a share of a body segment spelled out. Pose landmarks carry no
# absolute scale, so lengths stay shares of a segment.
PLAIN: dict[str, tuple[str, object, str]] = {
    "depth": ("thigh at the bottom", _thigh, "level"),
    "hip_drop": ("hip drop", _pct, "of leg length"),
    "knee_flexion_max": ("deepest knee bend", _deg, ""),
    "trunk_lean_max": ("most chest lean", _deg, "from upright"),
    "trunk_lean_ascent": ("chest lean on the way up", _deg, "from upright"),
    "trunk_minus_shin": ("trunk leaning past the shins by", _deg, ""),
    "knee_travel": ("knee ahead of the ankle", _pct, "of shin length"),
    "shin_angle_bottom": ("shin tilt at the bottom", _deg, "from upright"),
    "tuck": ("pelvic tuck (hip bend after the knees stop)", _deg, ""),
    "hip_first_lag": ("hips start before the knees by", lambda v: f"{v / 1000:.2f} s", ""),
    "trunk_pitch_before_knees": ("chest tips forward before the knees bend by", _deg, ""),
    "heel_rise": ("heel rise at the bottom", _pct, "of foot length"),
    "foot_tilt": ("foot tilt at the bottom", _deg, ""),
    "descent_time": ("time down", _secs, ""),
    "ascent_time": ("time up", _secs, ""),
    "knee_in": ("knee moved in by", _pct, "of its standing width"),
    "knee_narrowing": ("knees as a pair narrower by", _pct, "than standing"),
    "side_shift": ("hips moved sideways by", _pct, "of hip width"),
}


def plain_name(name: str) -> str:
    """A metric's name for a table row or column, with its unit words, e.g.
    "knee ahead of the ankle (of shin length)"."""
    label, _, tail = PLAIN[name]
    return f"{label} ({tail})" if tail and tail != "level" else (f"{label} (from level)" if tail else label)


def plain_short(name: str, value: float) -> str:
    """The value alone, for a table cell under plain_name: "58°", "36%"."""
    return PLAIN[name][1](value)


def plain_value(name: str, value: float) -> str:
    """The value with the words that complete it: "58° from upright", "36% of shin length"."""
    short, tail = PLAIN[name][1](value), PLAIN[name][2]
    return f"{short} {tail}" if tail and short != "level" else short


def plain(name: str, value: float) -> str:
    """Name and value, e.g. "chest lean on the way up 58° from upright"."""
    return f"{PLAIN[name][0]} {plain_value(name, value)}"


# How a camera off the lifter's side shows a sagittal value, with yaw psi from
# the frontal plane (90 = side-on) and a level camera: an angle from upright
# shows with tan(seen) = tan(true) * sin(psi); an angle from level (the foot)
# with tan(seen) = tan(true) / sin(psi); a forward distance or a difference
# of small angles shrinks by sin(psi); a height over a length along the foot
# grows by 1 / sin(psi). Timing, depth (a height over the thigh's upright
# length) and the frontal measures do not depend on it.
YAW_BIAS = {
    "trunk_lean_max": "from_upright", "trunk_lean_ascent": "from_upright", "shin_angle_bottom": "from_upright",
    "trunk_minus_shin": "forward", "trunk_pitch_before_knees": "forward", "tuck": "forward",
    "knee_travel": "forward", "heel_rise": "along_foot", "foot_tilt": "from_level",
}


def side_on(name: str, seen: float, yaw_deg: float) -> float:
    """The value `seen` in the picture would have from straight side-on,
    the camera being `yaw_deg` from the lifter's frontal plane."""
    s = max(np.sin(np.radians(yaw_deg)), 0.05)  # a camera in front shows no sagittal value at all
    law = YAW_BIAS[name]
    if law == "from_upright":
        return float(np.degrees(np.arctan(np.tan(np.radians(seen)) / s)))
    if law == "from_level":
        return float(np.degrees(np.arctan(np.tan(np.radians(seen)) * s)))
    return seen / s if law == "forward" else seen * s


def with_side_on_bounds(metrics: dict[str, Metric], yaw_range: tuple[float, float]) -> dict[str, Metric]:
    """The metrics, each the yaw biases carrying the values it could have
    from side-on over `yaw_range`."""
    lo, hi = yaw_range
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return metrics
    out = dict(metrics)
    for name in YAW_BIAS:
        m = metrics.get(name)
        if m is not None and m.measurable and m.value is not None:
            ends = sorted((side_on(name, m.value, lo), side_on(name, m.value, hi)))
            out[name] = replace(m, bounds=(ends[0], ends[1]))
    return out


LEAD_IN_S = 1.0  # the movement's onset is looked for up to this long before a rep's start
SUSTAIN_S = 0.15  # a per-rep extreme must hold this long: one to three frames of a glitch never make a value
ONSET_FRACTION = 0.1  # a joint "starts" bending when it passes 10% of its range in the descent
KNEE_STOP_MARGIN = 3.0  # degrees below the maximum knee flexion that count as "knees stopped"
NARROW_STANCE_SHARE = 0.2  # a standing knee closer to the midline than this share of its ankle's distance: no baseline


@dataclass
class Metric:
    """One per-rep measurement and what it was measured on: the frames
    judged (`span`, inclusive), the frame of its worst moment, and the
    per-frame values over the span it was reduced from (`trace`, same unit),
    so drawing and checking never work them out again, and whether the
    evidence behind it holds (`doubt`)."""

    value: float | None
    unit: str
    measurable: bool
    note: str = ""
    span: tuple[int, int] | None = None
    worst: int | None = None
    trace: np.ndarray | None = None
    doubt: str = ""  # why the evidence behind the value does not hold (formcheck.kinematics.evidence); "" when it does
    # The values it could have from straight side-on, over the range of camera
    # yaws the view leaves open (see YAW_BIAS); None where the yaw does not bias it.
    bounds: tuple[float, float] | None = None
    sides: dict[str, float] | None = None  # per-side values of a per-leg metric ("left"/"right", the lifter's)
    sides_as: str = "on the {} side"  # how a side reads in evidence text: "at the {} knee" -> "at the left knee"

    def sides_past(self, passes) -> list[str]:
        """The sides whose own value `passes` (a band test), as the evidence names them."""
        return [self.sides_as.format(s) for s, v in (self.sides or {}).items()
                if v is not None and np.isfinite(v) and passes(v)]

    def text(self, digits: int = 0, missing: str = "n/a") -> str:
        """The value for a table cell, or `missing` when it could not be measured."""
        if not self.measurable or self.value is None or not np.isfinite(self.value):
            return missing
        return f"{self.value:.{digits}f}"

    def to_dict(self) -> dict:
        v = None if self.value is None or not np.isfinite(self.value) else round(float(self.value), 3)
        sides = {k: None if x is None or not np.isfinite(x) else round(float(x), 3)
                 for k, x in (self.sides or {}).items()}
        bounds = [round(float(b), 3) for b in self.bounds] if self.bounds and v is not None else None
        return {"value": v, "unit": self.unit, "measurable": bool(self.measurable and v is not None),
                **({"note": self.note} if self.note else {}), **({"cant_tell": self.doubt} if self.doubt else {}),
                **({"side_on_range": bounds} if bounds else {}),
                **({"sides": sides} if sides and v is not None else {})}


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


def sustained(seg: np.ndarray, width: int, biggest: bool = True) -> tuple[float, int]:
    """(value, index) of the largest level a signal holds for `width`
    consecutive frames (the smallest, with biggest=False): a glitch of fewer
    frames cannot set it. Missing frames break a run."""
    x = seg if biggest else -seg
    width = max(1, min(width, int(np.isfinite(x).sum())))
    if len(x) < width or not np.isfinite(x).any():
        return float("nan"), 0
    windows = np.lib.stride_tricks.sliding_window_view(np.where(np.isfinite(x), x, -np.inf), width)
    held = windows.min(axis=1)
    k = int(np.argmax(held))
    if not np.isfinite(held[k]):
        return float("nan"), 0
    worst = k + int(np.argmax(windows[k]))
    return (float(held[k]) if biggest else -float(held[k])), worst


def _extreme(x: np.ndarray, a: int, b: int, unit: str, view: ViewKind, views: tuple[ViewKind, ...],
             fps: float, biggest: bool = True) -> Metric:
    """The largest (or smallest) value a per-frame signal holds for SUSTAIN_S over frames a..b."""
    a = max(a, 0)
    seg = _span(x, a, b)
    value, k = sustained(seg, int(round(SUSTAIN_S * fps)), biggest)
    return _metric(value, unit, view, views, (a, b), a + k if np.isfinite(value) else None, seg)


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
    lo = int(np.searchsorted(t, t[rep.start] - LEAD_IN_S))
    return max(lo, rep.after, 0)


def rep_metrics(sig: Signals, rep: Rep, view: ViewKind,
                yaw_range: tuple[float, float] | None = None) -> dict[str, Metric]:
    """Every metric of one rep seen from `view`; with `yaw_range`, the
    sagittal ones carry the values they could have from side-on."""
    m = _rep_metrics(sig, rep, view)
    return with_side_on_bounds(m, yaw_range) if yaw_range and view in SAGITTAL_VIEWS else m


def _rep_metrics(sig: Signals, rep: Rep, view: ViewKind) -> dict[str, Metric]:
    t = sig.t
    bottom_lo, bottom_hi = rep.descent_end, rep.ascent_start
    m: dict[str, Metric] = {}

    # Depth: hip height over the knee at the bottom, in thigh lengths (0 = parallel).
    m["depth"] = _extreme(sig.hip_above_knee, bottom_lo, bottom_hi, "thigh lengths above knee", view, ALL_VIEWS,
                          sig.fps, biggest=False)
    m["hip_drop"] = _metric(rep.depth, "leg lengths", view, ALL_VIEWS, (rep.start, rep.end), rep.bottom)
    m["knee_flexion_max"] = _extreme(sig.knee_flexion, rep.start, rep.end, "deg", view, SAGITTAL_VIEWS, sig.fps)

    # Torso lean, overall and in the ascent; trunk vs shin at the bottom.
    m["trunk_lean_max"] = _extreme(sig.trunk, rep.start, rep.end, "deg", view, SAGITTAL_VIEWS, sig.fps)
    m["trunk_lean_ascent"] = _extreme(sig.trunk, rep.ascent_start, rep.end, "deg", view, SAGITTAL_VIEWS, sig.fps)
    m["trunk_minus_shin"] = _metric(_at(sig.trunk, rep.bottom) - _at(sig.shin, rep.bottom), "deg", view,
                                    SAGITTAL_VIEWS, (rep.bottom, rep.bottom), rep.bottom)

    # Knee travel: how far the knee gets ahead of the ankle, and the shin angle at the bottom.
    m["knee_travel"] = _extreme(sig.knee_travel, rep.start, rep.end, "shin lengths", view, SAGITTAL_VIEWS, sig.fps)
    m["shin_angle_bottom"] = _extreme(sig.shin, bottom_lo, bottom_hi, "deg", view, SAGITTAL_VIEWS, sig.fps)

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
    # A real heel lift rotates the foot about the toes; tracker drift lifts heel and toe together.
    tilt = _above_lead_in(sig.foot_tilt, sig, rep)[bottom_lo - rep.start:bottom_hi - rep.start + 1]
    m["foot_tilt"] = _metric(_nanmedian(tilt), "deg", view, SAGITTAL_VIEWS, (bottom_lo, bottom_hi), worst, tilt)

    # Tempo.
    m["descent_time"] = _metric(float(t[rep.descent_end] - t[rep.start]), "s", view, ALL_VIEWS,
                                (rep.start, rep.descent_end))
    m["ascent_time"] = _metric(float(t[rep.end] - t[rep.ascent_start]), "s", view, ALL_VIEWS,
                               (rep.ascent_start, rep.end))

    # Frontal plane: knee cave per leg, and the pelvis drifting sideways.
    m.update(knee_metrics(sig, rep, view))
    m["side_shift"] = side_shift(sig, rep, view)
    return m


def _lead_in_level(x: np.ndarray, sig: Signals, rep: Rep) -> float:
    """A signal's level in the moments before the rep (the lifter standing)."""
    lo = descent_window(rep, sig.t)
    return _nanmedian(_span(x, lo, rep.start))


def _per_side(traces: dict[str, np.ndarray], rep: Rep, unit: str, view: ViewKind, fps: float,
              sides_as: str) -> Metric:
    """The worse side's sustained peak over the rep, carrying both sides' peaks."""
    width = int(round(SUSTAIN_S * fps))
    peaks = {side: sustained(x, width) for side, x in traces.items()}
    finite = [s for s, (v, _) in peaks.items() if np.isfinite(v)]
    if not finite:
        return _metric(float("nan"), unit, view, FRONTAL_VIEWS, (rep.start, rep.end))
    worst = max(finite, key=lambda s: peaks[s][0])
    value, k = peaks[worst]
    out = _metric(value, unit, view, FRONTAL_VIEWS, (rep.start, rep.end), rep.start + k, traces[worst])
    out.sides, out.sides_as = {s: v for s, (v, _) in peaks.items()}, sides_as
    return out


def knee_metrics(sig: Signals, rep: Rep, view: ViewKind) -> dict[str, Metric]:
    """Knee cave from the front: per leg, the share of the knee's standing
    distance from the midline it gives up (`knee_in`); how much narrower the
    knees are as a pair than standing at that moment (`knee_narrowing`: a knee
    moving in while the pair is no narrower is the pair sliding sideways or a
    tracking slip, not a cave).

    The hip-knee-ankle angle in the picture (the clinical frontal-plane
    projection angle) is not used: from the front the thigh points at the
    camera near parallel and its picture shrinks to a few pixels, so the angle
    swings through any value while the knee does not move sideways at all."""
    if sig.knee_spread is None:
        return {name: _metric(float("nan"), unit, view, FRONTAL_VIEWS) for name, unit in
                (("knee_in", "of standing width"), ("knee_narrowing", "of standing width"))}
    widths = {}
    for side in LEG_SIDES:
        width = getattr(sig, f"knee_width_{side}")
        base = _lead_in_level(width, sig, rep)
        # A knee that starts at or inside the midline leaves no standing width to compare against.
        widths[side] = (1.0 - _span(width, rep.start, rep.end) / base if base > NARROW_STANCE_SHARE
                        else np.full(rep.end - rep.start + 1, np.nan))
    knee_in = _per_side(widths, rep, "of standing width", view, sig.fps, "at the {} knee")
    spread = 1.0 - _span(sig.knee_spread, rep.start, rep.end) / _lead_in_level(sig.knee_spread, sig, rep)
    at = knee_in.worst - rep.start if knee_in.worst is not None else -1
    narrowing = _metric(_at(spread, at), "of standing width", view, FRONTAL_VIEWS, knee_in.span, knee_in.worst,
                        spread)
    return {"knee_in": knee_in, "knee_narrowing": narrowing}


def side_shift(sig: Signals, rep: Rep, view: ViewKind) -> Metric:
    """How far the pelvis drifts sideways over the feet during the rep, in hip
    widths against where it sat before the rep; the side it drifts towards is
    the lifter's."""
    if sig.pelvis_shift is None:
        return _metric(float("nan"), "hip widths", view, FRONTAL_VIEWS)
    drift = _above_lead_in(sig.pelvis_shift, sig, rep)
    return _per_side({"left": drift, "right": -drift}, rep, "hip widths", view, sig.fps, "to the {}")


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


def _above_lead_in(x: np.ndarray, sig: Signals, rep: Rep) -> np.ndarray:
    """A signal over the rep's frames (start to end) above its level in the
    moments before the rep: a per-rep baseline follows a camera that is moved
    or zoomed between reps."""
    lo = descent_window(rep, sig.t)
    return _span(x, rep.start, rep.end) - _nanmedian(_span(x, lo, rep.start))


def heel_rise(sig: Signals, rep: Rep) -> np.ndarray:
    """Heel height over the rep's frames above its level before the rep, in foot lengths."""
    return _above_lead_in(sig.heel_height, sig, rep)


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


def depth_class(depth: Metric, above_from: float, parallel_band: float = 0.1) -> str | None:
    """below / at / above parallel from the hip-over-knee height; above from
    `above_from` (the shallow-depth fault's line, so the two always agree)."""
    if not depth.measurable or depth.value is None:
        return None
    if depth.value < -parallel_band:
        return "below_parallel"
    if depth.value < above_from:
        return "parallel"
    return "above_parallel"
