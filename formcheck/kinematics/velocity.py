"""Bar speed: how fast each rep comes up, and how much the set slows.

The bar sits on the upper back, or in the hands at the shoulders (front
rack, goblet), so the near shoulder stands in for it when the wrists stay at
the shoulders; anything else (arms reaching forward, hands free) is a
bodyweight squat and is followed at the hips. Plates are not looked for.

Heights are taken over the ankle, which stays put through a set, and scaled
frame by frame, so a camera that pans or zooms does not move the bar. The
scale is the leg (thigh plus shin, upright) in the picture against its
length in metres: from the lifter's height when given (Winter's
proportions: the leg is 0.491 of standing height), else from the pose
model's world landmarks, which assume a body of typical size. Without
either, speeds stay in leg lengths a second: times and relative speed.

A rep's concentric phase is the part of the ascent in which the bar rises
faster than a tenth of that rep's peak speed; mean concentric velocity is
the rise over that stretch divided by its time. The cut matters: near the
bottom and at lockout the bar barely moves for a good share of the time,
and there the tracking noise, not the lift, would set where the phase
ends. A linear position transducer that times the whole movement down to
a standstill reads lower (ours is 39-47% higher on the simulator's
lifter): compare speeds within formcheck, not across tools.
Velocity loss, the share the set slowed, barely depends on the cut.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from formcheck.kinematics.clean import MIN_VISIBILITY, CleanTrack
from formcheck.kinematics.filters import seen_length
from formcheck.kinematics.reps import Rep
from formcheck.kinematics.signals import Signals
from formcheck.pose.track import LM

HANDS_AT_SHOULDERS = 0.5  # wrists nearer the shoulders than this share of the trunk: the load sits there
LEG_SHARE_OF_HEIGHT = 0.491  # thigh + shank over standing height (Winter)
HEIGHT_UNCERTAINTY = 0.05  # legs are 0.47-0.51 of height in most adults
WORLD_UNCERTAINTY = 0.15  # the model's bodies are of typical size; adults differ by about this much
LEGS_AGREE = 0.1  # the model's two world legs within this share of each other: a frame to scale from
WORLD_LEG_M = (0.6, 1.2)  # a world leg length outside this is no adult's: no scale from it
EDGE_SHARE = 0.1  # the concentric phase: while the bar rises faster than this share of the rep's peak speed
MIDDLE = 0.2  # the middle of a rise runs from this share of it to this share short of the top
LOCKOUT_AFTER_S = 0.5  # the bar may finish rising this long after the rep counter saw the hips stand
FINE_HZ = 240  # the bar height resampled this finely between frames: a low frame rate still finds the phase's edges
EDGE_FIT = 2  # samples on each side of an edge in the line that places it: one noisy sample cannot move it
STICKING_DIP = 0.75  # a sticking point: the bar slows to under 3/4 of the speed it had before and after;
# shallower dips are within the tracking noise of a steady rise


@dataclass(frozen=True)
class BarPath:
    followed: str  # "shoulders" or "hips"
    height: np.ndarray  # (N,) over the ankle, in `unit`
    forward: np.ndarray  # (N,) ahead of the ankle, in `unit`
    unit: str  # "m" or "leg lengths"
    scale_from: str  # where the metres come from; "" without a scale
    uncertainty: float | None  # relative, of every length and speed
    pixels: np.ndarray  # (N, 2) the followed point in the picture, for drawing the path

    def to_dict(self) -> dict:
        return {"followed": self.followed, "unit": self.unit, "scale_from": self.scale_from or None,
                "uncertainty": self.uncertainty}


@dataclass(frozen=True)
class RepSpeed:
    mean: float  # concentric, `unit`/s
    peak: float
    rise: float  # range of the concentric phase, `unit`
    concentric_s: float
    sticking_s: float | None  # from the start of the ascent to its slowest point, when it has one
    drift: float | None  # forward/back range of the bar over the rep (side views, the shoulders followed)
    unit: str

    def to_dict(self) -> dict:
        r = lambda v: None if v is None else round(float(v), 3)  # noqa: E731
        per = f"{self.unit}/s"
        return {"mean_velocity": r(self.mean), "peak_velocity": r(self.peak), "velocity_unit": per,
                "range": r(self.rise), "range_unit": self.unit, "concentric_s": r(self.concentric_s),
                "sticking_point_s": r(self.sticking_s), "drift": r(self.drift)}


@dataclass(frozen=True)
class SetSpeed:
    path: BarPath
    fastest: int  # rep number
    fastest_mean: float
    last_mean: float
    loss: float  # of the last rep against the fastest, 0-1
    threshold: float
    stop_after: int | None  # the first rep after the fastest whose loss reached the threshold

    def to_dict(self) -> dict:
        return {**self.path.to_dict(), "fastest_rep": self.fastest,
                "fastest_mean_velocity": round(self.fastest_mean, 3),
                "last_mean_velocity": round(self.last_mean, 3), "velocity_loss": round(self.loss, 3),
                "loss_threshold": self.threshold, "could_stop_after_rep": self.stop_after}

    def sentence(self) -> str:
        """The terminal's line: fastest and last rep, how much slower, where the set could have stopped."""
        u = "m/s" if self.path.unit == "m" else "leg lengths/s"
        scale = (f"scaled from {self.path.scale_from}, ±{self.path.uncertainty:.0%}" if self.path.scale_from
                 else "no scale in metres: relative speeds")
        out = (f"Bar speed (at the {self.path.followed}; {scale}): "
               f"fastest {self.fastest_mean:.2f} {u} (rep {self.fastest})")
        out += f", last {self.last_mean:.2f} {u}"
        if self.stop_after is None and self.loss <= 0:  # the last rep the fastest, or as fast
            return out + ": no slowing over the set."
        out += f": {self.loss:.0%} slower"
        if self.stop_after is not None:
            return out + f"; the set could have stopped after rep {self.stop_after}."
        return out + f"; within {self.threshold:.0%} of the fastest throughout."


def bar_path(clean: CleanTrack, sig: Signals, height_m: float | None = None) -> BarPath:
    P = sig.points
    trunk = np.nanmedian(np.linalg.norm(P["shoulder"] - P["hip"], axis=1))
    xy = clean.image[:, :, :2].astype(float)
    xy[~(clean.visibility >= MIN_VISIBILITY)] = np.nan
    # Each wrist against its own shoulder; the nearer hand tells where the load is.
    gaps = [np.linalg.norm(xy[:, LM[f"{s}_wrist"]] - xy[:, LM[f"{s}_shoulder"]], axis=1) for s in ("left", "right")]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # hands never seen: no load found at the shoulders
        reach = np.nanmedian(np.fmin(*gaps)) / trunk
    followed = "shoulders" if reach < HANDS_AT_SHOULDERS else "hips"
    point = P["shoulder" if followed == "shoulders" else "hip"]
    leg_px = seen_length(P["hip"], P["knee"], sig.t) + seen_length(P["knee"], P["ankle"], sig.t)
    scale_from, uncertainty, leg_m = "", None, None
    if height_m:
        leg_m, scale_from, uncertainty = LEG_SHARE_OF_HEIGHT * height_m, f"your height, {height_m:g} m", \
            HEIGHT_UNCERTAINTY
    else:
        w = clean.world
        left, right = (np.linalg.norm(w[:, LM[f"{s}_hip"]] - w[:, LM[f"{s}_knee"]], axis=1)
                       + np.linalg.norm(w[:, LM[f"{s}_knee"]] - w[:, LM[f"{s}_ankle"]], axis=1)
                       for s in ("left", "right"))
        # Both legs of one body are as long: frames where the model's two
        # differ are glitches. The 90th percentile, because a bent leg reads short.
        with np.errstate(invalid="ignore"):
            same = np.abs(left - right) <= LEGS_AGREE * np.fmax(left, right)
        world_leg = float(np.percentile((left + right)[same] / 2, 90)) if same.any() else float("nan")
        if WORLD_LEG_M[0] <= world_leg <= WORLD_LEG_M[1]:
            leg_m, scale_from, uncertainty = world_leg, "the pose model's body size", WORLD_UNCERTAINTY
    per_px = (leg_m if leg_m else 1.0) / leg_px
    return BarPath(followed, despike((P["ankle"][:, 1] - point[:, 1]) * per_px),
                   sig_forward(sig) * (point[:, 0] - P["ankle"][:, 0]) * per_px,
                   "m" if leg_m else "leg lengths", scale_from, uncertainty, point)


def despike(x: np.ndarray) -> np.ndarray:
    """Each sample replaced by the median of it and its two neighbours: a
    one-frame tracking jump goes, while a rise or fall, being monotonic,
    passes unchanged (where a neighbour is missing the sample is kept)."""
    out = x.copy()
    if len(x) >= 3:
        mid = np.median(np.stack([x[:-2], x[1:-1], x[2:]]), axis=0)
        out[1:-1] = np.where(np.isfinite(mid), mid, x[1:-1])
    return out


def sig_forward(sig: Signals) -> float:
    """+1 when the lifter faces the picture's right, so forward is positive."""
    return 1.0 if sig.view.facing == "right" else -1.0


def rep_speed(path: BarPath, t: np.ndarray, rep: Rep, next_start: int | None, side_on: bool) -> RepSpeed | None:
    """The concentric phase of `rep` on the bar path, from the bar's lowest
    point in the rep to lockout; None when it cannot be found."""
    stop = min(len(t) - 1, next_start if next_start is not None else len(t) - 1)
    hi = max(rep.end, min(stop, int(np.searchsorted(t, t[rep.end] + LOCKOUT_AFTER_S))))
    seen = path.height[rep.start:rep.end + 1]
    if not np.isfinite(seen).any():
        return None
    lo = rep.start + int(np.nanargmin(seen))
    if hi - lo < 3 or not np.isfinite(path.height[lo:hi + 1]).all():
        return None
    before = lo - 1 if lo > rep.start and np.isfinite(path.height[lo - 1]) else lo  # the bottom may lie between frames
    tt, h = _resampled(t, path.height, before, hi)
    phase = concentric_phase(tt, h)
    if phase is None:
        return None
    t_on, t_off, v = phase
    duration = t_off - t_on
    rise = float(np.interp(t_off, tt, h) - np.interp(t_on, tt, h))
    inside = (tt >= t_on) & (tt <= t_off)
    drift = None  # of the bar: hips followed in a bodyweight squat travel back by design
    if side_on and path.followed == "shoulders":
        f = path.forward[rep.start:rep.end + 1]
        drift = float(np.nanmax(f) - np.nanmin(f)) if np.isfinite(f).any() else None
    peak = float(v[inside].max()) if inside.any() else rise / duration  # within the phase, not a later wobble
    return RepSpeed(rise / duration, peak, rise, duration, _sticking(v[inside], tt[inside], t_on), drift, path.unit)


def _resampled(t: np.ndarray, h: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Heights a..b on a grid of FINE_HZ through a cubic spline, from the
    curve's lowest point near the start. At a low frame rate the phase's
    edges and the bottom fall between frames; a squat's rise is smooth, so
    the curve through the samples places them where the frames cannot."""
    from scipy.interpolate import CubicSpline  # on first use, as in filters

    if not np.all(np.diff(t[a:b + 1]) > 0):  # repeated timestamps: no curve through them, the frames as they are
        return t[a:b + 1], h[a:b + 1]
    step = min(float(np.median(np.diff(t[a:b + 1]))), 1 / FINE_HZ)
    fine_t = np.arange(t[a], t[b] + step / 2, step)
    fine_h = CubicSpline(t[a:b + 1], h[a:b + 1])(np.minimum(fine_t, t[b]))
    start = int(np.argmin(np.where(fine_t <= t[min(b, a + 2)], fine_h, np.inf)))
    return fine_t[start:], fine_h[start:]


def concentric_phase(t: np.ndarray, h: np.ndarray) -> tuple[float, float, np.ndarray] | None:
    """When the bar's rise in `h` (heights at times `t`, from its lowest
    point on) passes EDGE_SHARE of its peak speed on the way up and again at
    lockout, with the speeds. The edges are sought outward from the middle
    of the rise, so a slow patch inside it (a sticking point) stays in the
    phase and creeping in a pause or wobble at the top stays out. None when
    the bar is still rising where the samples end."""
    rise = np.nanmax(h) - h[0]
    if not rise > 0:
        return None
    up = int(np.argmax(h >= h[0] + (1 - MIDDLE) * rise))  # the middle's end: first near the top
    below = np.flatnonzero(h[:up] <= h[0] + MIDDLE * rise)
    if up == 0 or not len(below):
        return None
    v = np.gradient(h, t)
    level = EDGE_SHARE * float(v[:up + 1].max())
    on = int(below[-1]) + 1  # the middle's start: last off the bottom
    while on > 0 and v[on - 1] >= level:
        on -= 1
    off = up
    while off + 1 < len(v) and v[off + 1] >= level:
        off += 1
    if off == len(v) - 1:
        return None  # still rising where the samples end
    # The first sample is the bar's lowest point: at a low frame rate the
    # speed may pass the level within the first frame, so the phase starts there.
    t_on = float(t[0]) if on == 0 else _edge(t, v, level, on - 1, on)
    t_off = _edge(t, v, level, off, off + 1) if v[off] >= level else float(t[off])
    if not t_off > t_on:
        return None
    return t_on, t_off, v


def _edge(t: np.ndarray, v: np.ndarray, level: float, a: int, b: int) -> float:
    """The time the speed `v` passes `level` between samples a and a + 1 = b:
    where a line fitted to the samples around them meets the level, so one
    noisy sample cannot move it."""
    lo, hi = max(0, a - EDGE_FIT + 1), min(len(v), b + EDGE_FIT)
    slope, offset = np.polyfit(t[lo:hi], v[lo:hi], 1)
    crossing = (level - offset) / slope if slope != 0 else np.nan
    if not t[a] - (t[b] - t[a]) <= crossing <= t[b] + (t[b] - t[a]):
        # The line is too flat or too bent to place it: between the two samples.
        crossing = t[a] + (level - v[a]) / (v[b] - v[a]) * (t[b] - t[a])
    return float(crossing)


def _sticking(v: np.ndarray, t: np.ndarray, start: float) -> float | None:
    """Seconds from the start of the ascent (`start`) to its slowest point
    between two surges, when the bar clearly slows there (a sticking point)."""
    if len(v) < 5:
        return None
    peaks = [i for i in range(1, len(v) - 1) if v[i] >= v[i - 1] and v[i] >= v[i + 1] and v[i] >= 0.5 * v.max()]
    if len(peaks) < 2:
        return None
    a, b = peaks[0], peaks[-1]
    k = a + int(np.argmin(v[a:b + 1]))
    if v[k] >= STICKING_DIP * min(v[a], v[b]):
        return None
    return float(t[k] - start)


def set_speed(path: BarPath, speeds: list[tuple[int, RepSpeed | None]], threshold: float) -> SetSpeed | None:
    """The set's velocity loss from its fastest rep; `speeds` are (rep number, speed)."""
    known = [(n, s.mean) for n, s in speeds if s is not None and s.mean > 0]
    if len(known) < 2:
        return None
    fastest, top = max(known, key=lambda x: x[1])
    after = [(n, 1 - m / top) for n, m in known if n > fastest]
    stop = next((n for n, loss in after if loss >= threshold), None)
    return SetSpeed(path, fastest, top, known[-1][1], 1 - known[-1][1] / top, threshold, stop)
