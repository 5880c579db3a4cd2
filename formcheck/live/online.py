"""The live coach's core: causal signals, an online rep counter and cue choice.

Fed one frame of landmarks at a time, it never looks ahead: what it reports
for frame i depends on frames up to i only. It is plain numpy on landmark
rows (no video, no pose model), so recorded pose tracks replay through it in
tests exactly as a camera feeds it live.

Rep counting is a small state machine with hysteresis on the causal hip
height (hip above ankle in leg lengths): the standing level is learnt while
standing, a dip deep enough below it is a descent, its lowest point the
bottom, and the rep is counted when the hips are back near standing. Depths,
return fractions, the glitch width and the hinge veto are RepSettings, the
thresholds of the offline segmentation (formcheck.reps), so both count alike.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from formcheck.clean import JOINTS, MIN_VISIBILITY, clean_track
from formcheck.faults import SEVERITIES, FaultSpec, Finding
from formcheck.filters import OneEuro, fill_gaps, hampel
from formcheck.live.history import FrameHistory
from formcheck.live.settings import OnlineSettings
from formcheck.metrics import depth_class, rep_metrics
from formcheck.pose.track import LM, PoseTrack
from formcheck.reps import Rep, RepSettings, bottom_phase, walk_up_to
from formcheck.signals import angle_from_vertical, bend_angle, compute_signals
from formcheck.view import SAGITTAL_VIEWS as SAGITTAL
from formcheck.view import View, decide_view
HINGE_VIEWS = ("side",)  # knee bend tells a squat from a hinge only side-on (as offline)


@dataclass
class RepSummary:
    index: int  # 1-based, as the lifter counts
    start_s: float
    bottom_s: float
    end_s: float
    depth: float  # hip drop, leg lengths
    depth_class: str | None
    view: str
    faults: list[Finding]
    cue: str | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "start_s": round(self.start_s, 3), "bottom_s": round(self.bottom_s, 3),
                "end_s": round(self.end_s, 3), "hip_drop": round(self.depth, 3),
                "depth_class": self.depth_class, "view": self.view,
                "faults": [f.code for f in self.faults], "cue": self.cue}


@dataclass
class Status:
    """What the display needs after a frame, plus what happened in it."""

    reps: int
    phase: str  # standing | descent | bottom | ascent
    cue: str | None
    hip_height: float
    view: str
    new_reps: list[RepSummary] = field(default_factory=list)
    new_cue: str | None = None


def score_rep(track: PoseTrack, rep: Rep, specs: tuple[FaultSpec, ...],
              live_view: View) -> tuple[str, list[Finding], str | None]:
    """(view, faults, depth class) of one finished rep, from its frames only:
    the offline metrics and fault rules on a One Euro filtered stretch.
    Touches no shared state, so it may run on a worker thread."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # landmarks missing in part of the rep
            clean = clean_track(track, smoother="one_euro")
            view = clean.view(np.arange(rep.start, rep.end + 1))
            if view.kind == "unknown":
                view = live_view
            sig = compute_signals(clean, view)
            metrics = rep_metrics(sig, rep, view.kind)
    except (ValueError, IndexError, FloatingPointError):
        return live_view.kind, [], None  # too few usable frames to score: the rep still counts
    faults = [f for f in (s.judge(metrics, view.kind, view.confidence) for s in specs) if f.is_fault]
    return view.kind, faults, depth_class(metrics["depth"])


class CueBoard:
    """One cue at a time, then a cool-down before the next one."""

    def __init__(self, cooldown_s: float, hold_s: float, specs: tuple[FaultSpec, ...] = ()):
        self.cooldown_s, self.hold_s = cooldown_s, hold_s
        self.cues = {s.code: s.cue for s in specs}  # what a coach calls out mid-set, per fault
        self.text: str | None = None
        self.code: str | None = None  # the fault behind the cue on show
        self.shown_at = -math.inf
        self.log: list[dict] = []

    def offer(self, t: float, code: str, why: str = "") -> str | None:
        """Show the cue for `code` unless one was shown too recently; `why`
        (what triggered it) goes to the log."""
        if code not in self.cues or t - self.shown_at < self.cooldown_s:
            return None
        self.text, self.code, self.shown_at = self.cues[code], code, t
        self.log.append({"t": round(float(t), 3), "code": code, "cue": self.text, "from": why})
        return self.text

    def current(self, t: float) -> str | None:
        return self.text if t - self.shown_at < self.hold_s else None


class CausalSignals:
    """Per-frame hip height, knee bend and trunk angle from past frames only.

    Each joint coordinate goes through a causal Hampel test (a point far from
    the median of the last few frames is a tracking glitch and replaced by
    that median) and a One Euro filter: the live counterparts of the offline
    hampel + Butterworth chain. Angles follow formcheck.signals.
    """

    SIDES = ("left", "right")
    HAMPEL_FRAMES = 7
    HAMPEL_MIN = 3  # earlier positions needed in the window before one is called a glitch
    HAMPEL_SIGMAS = 3.0

    def __init__(self, settings: OnlineSettings):
        self.s = settings
        self.index = np.array([[LM[f"{side}_{j}"] for j in JOINTS] for side in self.SIDES])
        self.filters = [OneEuro() for _ in range(self.index.size * 2)]
        self.recent: deque[tuple[float, np.ndarray]] = deque(maxlen=self.HAMPEL_FRAMES)
        self.legs: deque[tuple[float, float, float]] = deque()  # (t, thigh px, shin px)
        self.view = View.unknown()
        self.points: dict[str, np.ndarray] = {}  # this frame's filtered points, for drawing

    def _clean(self, t: float, image: np.ndarray, vis: np.ndarray) -> np.ndarray:
        """(2 sides, JOINTS, 2) filtered pixel positions, NaN where unseen."""
        xy = image[self.index, :2].astype(float)
        xy[~(vis[self.index] >= MIN_VISIBILITY)] = np.nan
        self.recent.append((t, xy))
        while self.recent[0][0] < t - self.s.hampel_s:
            self.recent.popleft()  # after a dropout, stale positions say nothing about this one
        if len(self.recent) > self.HAMPEL_MIN:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN history: nothing to compare
                past = np.stack([v for _, v in self.recent])
                med = np.nanmedian(past, axis=0)
                mad = 1.4826 * np.nanmedian(np.abs(past - med), axis=0)
                # Judge only against enough recent company: right after a dropout
                # the few old positions would hold a real movement back.
                enough = np.isfinite(past[:-1]).sum(axis=0) >= self.HAMPEL_MIN
                bad = enough & (np.abs(xy - med) > self.HAMPEL_SIGMAS * mad) & (mad > 0)
            xy = np.where(bad, med, xy)
        flat = xy.ravel()
        return np.array([f(float(v), t) for f, v in zip(self.filters, flat)]).reshape(xy.shape)

    def _points(self, xy: np.ndarray) -> dict[str, np.ndarray]:
        if self.view.kind in SAGITTAL:
            chosen = xy[self.SIDES.index(self.view.near or "left")]
        else:  # front, or not known yet: the midpoint, or whichever side is seen
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                chosen = np.where(np.isfinite(xy).all(axis=0), xy.mean(axis=0), np.nanmean(xy, axis=0))
        return dict(zip(JOINTS, chosen))

    def _leg_length(self, t: float, thigh: float, shin: float) -> float:
        """Thigh plus shin length as the camera sees them lately: each segment's
        95th percentile over the trailing window, so the scale follows zooms
        and camera cuts but not a bent leg's foreshortening (as compute_signals)."""
        if np.isfinite(thigh) and np.isfinite(shin):
            self.legs.append((t, thigh, shin))
        while self.legs and self.legs[0][0] < t - self.s.leg_window_s:
            self.legs.popleft()
        if not self.legs:
            return math.nan
        return float(np.percentile(np.asarray(self.legs)[:, 1:], 95, axis=0).sum())

    def update(self, t: float, image: np.ndarray, vis: np.ndarray) -> dict[str, float]:
        """This frame's values (NaN where unseen): hip height in leg lengths,
        the unsigned knee bend, and the sagittal angles of formcheck.signals."""
        P = self.points = self._points(self._clean(t, image, vis))
        thigh_v, shin_v = P["hip"] - P["knee"], P["ankle"] - P["knee"]
        raw = float(P["ankle"][1] - P["hip"][1])
        leg_len = self._leg_length(t, float(np.linalg.norm(thigh_v)), float(np.linalg.norm(shin_v)))
        forward = 1.0 if self.view.facing == "right" else -1.0

        def tilt(a: str, b: str, sign: float) -> float:
            return float(angle_from_vertical((P[b] - P[a])[None, :], sign)[0])

        trunk, shin, thigh = tilt("hip", "shoulder", forward), tilt("ankle", "knee", forward), \
            tilt("knee", "hip", -forward)
        return {"hip_height": raw / leg_len if leg_len > 0 else math.nan,
                "knee_bend": float(bend_angle(P["hip"], P["knee"], P["ankle"])),  # as compute_signals
                "trunk": trunk, "shin": shin, "knee_flexion": shin + thigh, "hip_flexion": trunk + thigh}


class OnlineCoach:
    """Feed frames with update(); read reps, phase and the current cue.

    Rep states: the standing level `ref` is the highest the hips have been
    since the last rep; `low` the lowest since then. A dip deep enough is
    counted when the hips are back (1 - cutoff_fraction) of the way up, or
    once they were `return_fraction` of the way up and start the next dip
    (the offline rule for reps in the middle of a set). The session's first
    dip is only counted when it is over: the session may have begun mid-squat.
    A counted rep is scored (per-rep metrics and fault rules) once the hips
    are near standing, which is when its cue is chosen.
    """

    def __init__(self, specs: tuple[FaultSpec, ...] = (), settings: OnlineSettings = OnlineSettings(),
                 executor=None):
        self.s = settings
        self.executor = executor  # e.g. a one-worker ThreadPoolExecutor; None scores in line
        self.jobs: list = []  # (summary, future) being scored
        self.scored: list[RepSummary] = []  # scored since the last frame, reported once
        self.specs = tuple(specs)
        # Faults worth calling in the hole and on the way up, as they happen: a
        # per-frame causal signal against the moderate band. A single frame is
        # noisier than a rep, so only a clear fault is called mid-rep; milder
        # ones wait for the rep's verdict.
        self.live_checks = [s for s in self.specs if s.live_signal and s.above]
        self.signals = CausalSignals(settings)
        self.cues = CueBoard(settings.cooldown_s, settings.cue_hold_s, self.specs)
        self.reps: list[RepSummary] = []
        self.set_up: list[RepSummary] = []  # dips first counted, then found too shallow to be reps
        self.history = FrameHistory(settings.history_s)
        self.last_seen_t = -math.inf
        self.last_view_t = -math.inf
        self.last_session_view_t = -math.inf
        self.session_view = View.unknown()
        self.deepest = 0.0
        self.pending: dict | None = None  # a dip that came back up, waiting to be scored
        self.previous_end = 0
        self.phase = "standing"
        self.live_since: dict[str, float] = {}
        self._fresh_cue: str | None = None  # a cue chosen in this frame, reported once
        self.first_dip = True
        self.recent_h: deque[tuple[float, float]] = deque()  # (t, hip height) of the last level_s
        self.values: dict[str, float] = {}  # this frame's causal signals
        self._reset(math.nan, 0, math.nan)

    def _reset(self, h: float, i: int, knee: float) -> None:
        """Learn standing afresh from this frame."""
        self.ref = self.low = h
        self.low_i = i
        self.knee_max = knee
        self.armed: tuple[float, int] | None = None  # (highest since, index): hips most of the way back

    def _view_since(self, t0: float) -> View:
        ts = self.history.arr("t", self.history.first, self.history.n - 1)
        lo = self.history.first + int(np.searchsorted(ts, t0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames without some landmarks
            return decide_view(self.history.arr("image", lo, self.history.n - 1),
                               self.history.arr("world", lo, self.history.n - 1),
                               self.history.arr("vis", lo, self.history.n - 1))

    def _update_view(self, t: float) -> None:
        """The view of the last few seconds picks the side and the angles' sign.
        The knee angle may veto a rep only when both that view and the view of
        the whole kept history are side-on (offline: the clip's view)."""
        if t - self.last_view_t < self.s.view_every_s:
            return
        self.last_view_t = t
        view = self._view_since(t - self.s.view_window_s)
        if view.kind != "unknown":
            self.signals.view = view
        if t - self.last_session_view_t >= self.s.session_view_every_s:
            self.last_session_view_t = t
            self.session_view = self._view_since(-math.inf)

    # -- per frame ---------------------------------------------------------
    def update(self, t: float, image: np.ndarray, vis: np.ndarray, pres: np.ndarray | None = None,
               world: np.ndarray | None = None) -> Status:
        """One frame: image (33, 3) in pixels, NaN rows when nobody was found."""
        pres = pres if pres is not None else np.full(len(vis), np.nan, dtype=np.float32)
        world = world if world is not None else np.full_like(image, np.nan)
        self.history.append(t, image, vis, pres, world)
        i = self.history.n - 1
        self._update_view(t)
        self.values = self.signals.update(t, image, vis)
        h, knee = self.values["hip_height"], self.values["knee_bend"]
        if np.isfinite(h):
            self.last_seen_t = t
        elif np.isfinite(self.ref) and t - self.last_seen_t > self.s.long_gap_s:
            h = self.ref  # lost for long: the offline path treats that as standing too
        self.history.rows["h"][-1] = h
        status = Status(len(self.reps), self.phase, None, h, self.signals.view.kind)
        self._collect(t)
        if np.isfinite(h):
            self._step(i, t, h, knee)
            self._live_checks(t)
        status.new_reps, self.scored = self.scored, []
        status.reps, status.phase = len(self.reps), self.phase
        status.new_cue, self._fresh_cue = self._fresh_cue, None
        status.cue = self.cues.current(t)
        return status

    def _step(self, i: int, t: float, h: float, knee: float) -> None:
        rs = self.s.reps
        level = self._level(t, h)
        if self.pending is not None:
            self._maybe_close(i, t, h, level)
        if not np.isfinite(self.ref):
            self._reset(level, i, knee)
        if h < self.low:
            self.low, self.low_i, self.armed = h, i, None
        if np.isfinite(knee):
            self.knee_max = knee if not np.isfinite(self.knee_max) else max(self.knee_max, knee)
        depth, back = self.ref - self.low, h - self.low
        deep_enough = depth >= max(rs.min_depth, rs.rel_depth * self.deepest)
        # Between reps the hips must also come most of the way back to the
        # lifter's usual standing height, not just to the last peak: a bob
        # that never nears standing is not a new rep (offline: the merge rule).
        near_usual = back >= rs.return_fraction * (self._usual_top() - self.low)
        if deep_enough and near_usual and back >= (1 - rs.cutoff_fraction) * depth:
            self._dip_done(i, t, h, knee, depth, (h, i))
        elif deep_enough and near_usual and back >= rs.return_fraction * depth:
            if self.armed is None or h > self.armed[0]:
                self.armed = (h, i)
        if self.armed is not None and h < self.armed[0] - self.s.moving:
            self._dip_done(i, t, h, knee, depth, self.armed)  # the next dip began: this rep was whole
        if level >= self.ref:  # higher than ever since the last rep: that is standing now
            self._reset(level, i, knee)
            self.low = min(self.low, h)
        self.phase = self._phase(h, self.ref - self.low)

    def _usual_top(self) -> float:
        """The usual standing height: 95th percentile of the hip height over
        the kept history (the offline segmentation's `top`, over the clip)."""
        h = np.asarray(self.history.rows["h"], dtype=float)
        h = h[np.isfinite(h)]
        return float(np.percentile(h, 95)) if len(h) else math.nan

    def _level(self, t: float, h: float) -> float:
        """Hip height held for a moment (median of the last `level_s`): the
        standing level is learnt from this, so a brief upward tracking jump
        cannot set it."""
        self.recent_h.append((t, h))
        while self.recent_h[0][0] < t - self.s.level_s:
            self.recent_h.popleft()
        return float(np.median([v for _, v in self.recent_h]))

    def _dip_done(self, i: int, t: float, h: float, knee: float, depth: float, top: tuple[float, int]) -> None:
        """The hips came back up from a deep enough dip: a rep, unless the
        knees barely bent (a hinge, judged side-on only) or it was too brief
        (a tracking glitch)."""
        rs = self.s.reps
        side_on = self.session_view.kind in HINGE_VIEWS and self.signals.view.kind in HINGE_VIEWS
        hinge = side_on and np.isfinite(self.knee_max) and self.knee_max < rs.min_knee_flexion
        if not hinge and self._dip_width(depth) >= rs.min_width_s:
            self.deepest = max(self.deepest, depth)
            self.pending = {"ref": self.ref, "low": self.low, "bottom": self.low_i, "depth": depth,
                            "since": t, "top": top[0], "top_i": top[1], "first": self.first_dip}
            if not self.first_dip:
                self._count()
            self.first_dip = False
        self._reset(h, i, knee)

    def _dip_width(self, depth: float) -> float:
        """Seconds the hips spent in the lower half of the dip around its bottom.
        Every frame of the dip is in the past by now, so its hip height is
        cleaned as offline: glitches out (centred Hampel), gaps bridged."""
        lo = self.history.first
        ts = self.history.arr("t", lo, self.history.n - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN stretches are expected
            h = fill_gaps(hampel(self.history.arr("h", lo, self.history.n - 1)), ts, self.s.long_gap_s)
        seen = np.flatnonzero(np.isfinite(h))
        h, ts = h[seen], ts[seen]
        half = self.low + 0.5 * depth
        a = z = min(int(np.searchsorted(seen, max(self.low_i - lo, 0))), len(h) - 1)
        while a > 0 and h[a - 1] <= half:
            a -= 1
        while z < len(h) - 1 and h[z + 1] <= half:
            z += 1
        return float(ts[z] - ts[a]) + (float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0)

    def _phase(self, h: float, depth: float) -> str:
        if self.pending is not None or self.armed is not None:
            return "ascent"
        if h >= self.ref - self.s.moving:
            return "standing"
        if h <= self.low + max(0.02, self.s.reps.bottom_fraction * depth):
            recent = self.history.rows["h"][-4:]
            falling = len(recent) == 4 and np.isfinite(recent[0]) and h < recent[0] - 0.005
            return "descent" if falling else "bottom"
        return "ascent"

    def _count(self) -> None:
        p = self.pending
        p["counted"] = True
        self.reps.append(RepSummary(len(self.reps) + 1, math.nan, float(self.history.rows["t"][p["bottom"] - self.history.first]),
                                    math.nan, float(p["depth"]), None, self.signals.view.kind, []))
        # Dips far shallower than this lifter's real reps were set-up (unracking,
        # walking in, picking up a weight): the offline rule, applied as reps come.
        keep = [r for r in self.reps if r.depth >= self.s.reps.rel_depth * self.deepest]
        if len(keep) < len(self.reps):
            self.set_up.extend(r for r in self.reps if r not in keep)
            self.reps = keep
            for k, r in enumerate(self.reps):
                r.index = k + 1

    def _maybe_close(self, i: int, t: float, h: float, level: float) -> None:
        p = self.pending
        if level > p["top"]:
            p["top"], p["top_i"] = level, i
        near_standing = h >= p["ref"] - self.s.reps.phase_fraction * p["depth"] and not p["first"]
        dipping_again = h < p["top"] - self.s.moving
        if near_standing or dipping_again or t - p["since"] >= self.s.close_timeout_s:
            self._close()

    def finish(self) -> list[RepSummary]:
        """End of the session: close a rep still waiting for its end and wait
        for every score; returns the reps scored since the last frame."""
        if self.pending is not None:
            self._close()
        t = float(self.history.rows["t"][-1]) if self.history.rows["t"] else 0.0
        for summary, job in self.jobs:
            self._apply(summary, job.result(), t)
        self.jobs = []
        done, self.scored = self.scored, []
        return done

    # -- scoring a rep -----------------------------------------------------
    def _close(self) -> None:
        p, self.pending = self.pending, None
        if not p.get("counted"):
            # The session's first dip is whole only if the hips were (most of
            # the way) up before it too: the session may have begun mid-squat.
            whole = self.s.reps.return_fraction * (max(p["ref"], p["top"]) - p["low"])
            if p["ref"] - p["low"] < whole:
                return
            self.pending = p
            self._count()
            self.pending = None
        summary = self.reps[-1]
        end = p["top_i"]
        rep, lo = self._rep_bounds(p, end)
        track = self.history.track(lo, end)
        summary.start_s, summary.end_s = float(track.t[rep.start]), float(track.t[rep.end])
        self.previous_end = end
        if self.executor is None:
            self._apply(summary, score_rep(track, rep, self.specs, self.signals.view), float(self.history.rows["t"][-1]))
        else:  # scoring takes a few frames' time: off the frame loop, so no frame waits for it
            self.jobs.append((summary, self.executor.submit(score_rep, track, rep, self.specs, self.signals.view)))

    def _collect(self, t: float) -> None:
        """Take in the scores finished since the last frame, in rep order."""
        while self.jobs and self.jobs[0][1].done():
            summary, job = self.jobs.pop(0)
            self._apply(summary, job.result(), t)

    def _apply(self, summary: RepSummary, score: tuple[str, list[Finding], str | None], t: float) -> None:
        summary.view, summary.faults, summary.depth_class = score
        if summary.faults:
            worst = max(summary.faults, key=lambda f: (SEVERITIES.index(f.severity), f.confidence))
            summary.cue = self._offer(t, worst.code, "rep")
        self.scored.append(summary)

    def _rep_bounds(self, p: dict, end: int) -> tuple[Rep, int]:
        """The rep's phase frames, walked out from the bottom on the causal hip
        height with the offline bands; indices relative to the scoring window."""
        rs, b = self.s.reps, p["bottom"]
        h = self.history.arr("h", self.history.first, end)
        ts = self.history.arr("t", self.history.first, end)
        hb = max(b - self.history.first, 0)
        start = walk_up_to(h, hb, -1, p["ref"] - rs.phase_fraction * p["depth"],
                           max(0, self.previous_end - self.history.first))
        d_end, a_start = bottom_phase(h, hb, p["low"] + rs.bottom_fraction * p["depth"], start, len(h) - 1)
        # Metrics look up to a second before the start for the movement's onset.
        lo = max(int(np.searchsorted(ts, ts[start] - 1.0)), self.previous_end - self.history.first, 0)
        rep = Rep(len(self.reps) - 1, start - lo, d_end - lo, hb - lo, a_start - lo, len(h) - 1 - lo,
                  False, p["depth"])
        return rep, lo + self.history.first

    # -- cues --------------------------------------------------------------
    def _offer(self, t: float, code: str, why: str) -> str | None:
        text = self.cues.offer(t, code, why)
        if text:
            self._fresh_cue = text
        return text

    def _live_checks(self, t: float) -> None:
        """Call a fault the moment it shows coming out of the hole, if it holds a moment."""
        for spec in self.live_checks:
            v = self.values.get(spec.live_signal, math.nan)
            on = self.phase in ("bottom", "ascent") and self.signals.view.kind in SAGITTAL and spec.passes(v, 1)
            if not on:
                self.live_since.pop(spec.code, None)
                continue
            since = self.live_since.setdefault(spec.code, t)
            if t - since >= self.s.lean_hold_s:
                self._offer(t, spec.code, "ascent")
