"""The live coach's core: causal signals, and the coach that feeds them to
the rep counter, the scorer and the cues.

Fed one frame of landmarks at a time, it never looks ahead: what it reports
for frame i depends on frames up to i only. It is plain numpy on landmark
rows (no video, no pose model), so recorded pose tracks replay through it in
tests exactly as a camera feeds it live.

The pieces: formcheck.live.counter counts reps on the causal hip height,
formcheck.live.score scores a counted rep with the offline metrics and fault
rules, formcheck.live.cues picks what to say and when.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from formcheck.coach.faults import FaultSpec
from formcheck.kinematics.clean import JOINTS, MIN_VISIBILITY
from formcheck.kinematics.filters import OneEuro
from formcheck.kinematics.signals import angle_from_vertical, bend_angle, world_knee_bend
from formcheck.kinematics.velocity import LOCKOUT_AFTER_S
from formcheck.kinematics.view import SAGITTAL_VIEWS as SAGITTAL
from formcheck.kinematics.view import View, decide_view
from formcheck.live.counter import CountedRep, RepCounter, RepSummary
from formcheck.live.cues import CueBoard, LiveChecks, worst
from formcheck.live.history import FrameHistory
from formcheck.live.score import RepScorer
from formcheck.live.settings import OnlineSettings
from formcheck.pose.track import LM


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
    timed: list[RepSummary] = field(default_factory=list)  # reps whose bar speed came in with this frame


class CausalSignals:
    """Per-frame hip height, knee bend and trunk angle from past frames only.

    Each joint coordinate goes through a causal Hampel test (a point far from
    the median of the last few frames is a tracking glitch and replaced by
    that median) and a One Euro filter: the live counterparts of the offline
    hampel + Butterworth chain. Angles follow formcheck.kinematics.signals.
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
        the unsigned knee bend, and the sagittal angles of formcheck.kinematics.signals."""
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

    Each frame's causal signals go to the rep counter; a counted rep is
    scored (per-rep metrics and fault rules) once the hips are near
    standing, which is when its cue is chosen. Clear faults are called as
    they happen, mid-rep.
    """

    def __init__(self, specs: tuple[FaultSpec, ...] = (), settings: OnlineSettings = OnlineSettings(),
                 executor=None):
        self.s = settings
        self.specs = tuple(specs)
        self.scorer = RepScorer(self.specs, executor)
        self.scored: list[RepSummary] = []  # scored since the last frame, reported once
        self.signals = CausalSignals(settings)
        self.cues = CueBoard(settings.cooldown_s, settings.cue_hold_s, self.specs)
        self.live_checks = LiveChecks(self.specs, settings.lean_hold_s)
        self.history = FrameHistory(settings.history_s)
        self.counter = RepCounter(settings, self.history)
        self.untimed: list[CountedRep] = []  # counted reps whose bar speed waits for their lockout frames
        self.timed: list[RepSummary] = []
        self.last_view_t = -math.inf
        self.last_session_view_t = -math.inf
        self.session_view = View.unknown()
        self.values: dict[str, float] = {}  # this frame's causal signals
        self.recent_knee_world: deque[float] = deque(maxlen=5)

    @property
    def reps(self) -> list[RepSummary]:
        return self.counter.reps

    @property
    def set_up(self) -> list[RepSummary]:
        """Dips first counted, then found too shallow to be reps."""
        return self.counter.set_up

    def _view_since(self, t0: float) -> View:
        ts = self.history.arr("t", self.history.first, self.history.n - 1)
        lo = self.history.first + int(np.searchsorted(ts, t0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames without some landmarks
            return decide_view(self.history.arr("image", lo, self.history.n - 1),
                               self.history.arr("world", lo, self.history.n - 1),
                               self.history.arr("vis", lo, self.history.n - 1), ts[lo - self.history.first:])

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
        self._update_view(t)
        self.values = self.signals.update(t, image, vis)
        h = self.counter.hip_height(t, self.values["hip_height"])
        self.history.rows["h"][-1] = h
        self.recent_knee_world.append(float(world_knee_bend(world)))
        self._take(self.scorer.ready(), t)
        if np.isfinite(h):
            # The offline path's running median of the 3D knee bend, over past frames only.
            knee_world = float(np.nanmedian(self.recent_knee_world)) if np.isfinite(self.recent_knee_world).any() \
                else math.nan
            counted = self.counter.step(t, h, self.values["knee_bend"], self.signals.view.kind,
                                        self.session_view.kind, knee_world)
            if counted is not None:
                self._score(counted)
            for code in self.live_checks.due(t, self.counter.phase, self.signals.view.kind, self.values):
                self.cues.offer(t, code, "ascent")  # a fault called the moment it shows coming out of the hole
        self._time(t, final=False)
        new_reps, self.scored = self.scored, []
        timed, self.timed = self.timed, []
        return Status(len(self.reps), self.counter.phase, self.cues.current(t), h, self.signals.view.kind,
                      new_reps, self.cues.take_fresh(), timed)

    def finish(self) -> list[RepSummary]:
        """End of the session: close a rep still waiting for its end and wait
        for every score; returns the reps scored since the last frame."""
        for counted in self.counter.finish(self.signals.view.kind):
            self._score(counted)
        t = float(self.history.rows["t"][-1]) if self.history.rows["t"] else 0.0
        self._time(t, final=True)
        self._take(self.scorer.wait(), t)
        done, self.scored = self.scored, []
        return done

    # -- scoring a rep -----------------------------------------------------
    def _score(self, counted: CountedRep) -> None:
        scored = self.scorer.submit(counted, self.history.track(counted.lo, counted.end), self.signals.view)
        self._take(scored, float(self.history.rows["t"][-1]))
        self.untimed.append(counted)

    def _time(self, t: float, final: bool) -> None:
        """Time the bar speed of the counted reps whose lockout frames are in:
        the bar's rise may go on after the counter closed the rep, until the
        next descent at the latest; collect the timings that finished."""
        waiting = []
        for counted in self.untimed:
            if final or self.counter.phase == "descent" or t >= counted.summary.end_s + LOCKOUT_AFTER_S:
                track = self.history.track(counted.lo, self.history.n - 1)
                self.timed += self.scorer.submit_timing(counted, track, self.signals.view)
            else:
                waiting.append(counted)
        self.untimed = waiting
        self.timed += self.scorer.timed(wait=final)

    def _take(self, scored: list[RepSummary], t: float) -> None:
        """Reps just scored: each one's worst fault is offered as its cue."""
        for summary in scored:
            if summary.faults:
                summary.cue = self.cues.offer(t, worst(summary.faults).code, "rep")
            self.scored.append(summary)
