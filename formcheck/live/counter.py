"""The online rep counter: a small state machine with hysteresis on the
causal hip height (hip above ankle in leg lengths), one frame at a time.

The standing level is learnt while standing, a dip deep enough below it is a
descent, its lowest point the bottom, and the rep is counted when the hips
are back near standing. Depths, return fractions, the glitch width and the
hinge veto are RepSettings, the thresholds of the offline segmentation
(formcheck.kinematics.reps), so both count alike.

States: the standing level `ref` is the highest the hips have been since the
last rep; `low` the lowest since then. A dip deep enough is counted when the
hips are back (1 - cutoff_fraction) of the way up, or once they were
`return_fraction` of the way up and start the next dip (the offline rule for
reps in the middle of a set). The session's first dip is only counted when
it is over: the session may have begun mid-squat. A counted dip is closed
once the hips are near standing (or dip again, or after a timeout): its
phase frames are then known and the rep can be scored.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np

from formcheck.coach.faults import Finding
from formcheck.kinematics.filters import fill_gaps, hampel
from formcheck.kinematics.metrics import LEAD_IN_S
from formcheck.kinematics.reps import Rep, bottom_phase, walk_up_to
from formcheck.kinematics.velocity import RepSpeed
from formcheck.live.history import FrameHistory
from formcheck.live.settings import OnlineSettings

TAIL_S = 1.0  # offline looks for a dip the clip stops in within its last second
KNEE_MEMORY_S = 6.0  # longer than a slow rep, standing before it included
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
    speed: RepSpeed | None = None  # the bar's concentric speed, once timed

    def to_dict(self) -> dict:
        return {"index": self.index, "start_s": round(self.start_s, 3), "bottom_s": round(self.bottom_s, 3),
                "end_s": round(self.end_s, 3), "hip_drop": round(self.depth, 3),
                "depth_class": self.depth_class, "view": self.view,
                "faults": [f.code for f in self.faults], "cue": self.cue,
                "speed": self.speed.to_dict() if self.speed else None}


@dataclass
class Dip:
    """A dip the hips came back up from, waiting to be closed."""

    ref: float  # the standing level it went down from
    low: float  # its lowest hip height...
    bottom: int  # ...and that frame's stream index
    depth: float
    since: float  # when the hips came back up
    top: float  # the highest level since, and its stream index: where the rep ends
    top_i: int
    first: bool  # the session's first dip, counted only once it is over
    counted: bool = False
    # A first dip judged by the 3D knee bend: its highest bend, checked again
    # at its close against the straight knees after it (a session that joined
    # it partway down saw no straight knees before it).
    knee_top: float = math.nan


@dataclass(frozen=True)
class CountedRep:
    """A closed rep: its summary, and its phase frames within the stream
    indices lo..end, the frames to score it on."""

    summary: RepSummary
    rep: Rep  # frame indices relative to lo
    lo: int
    end: int


class RepCounter:
    """Feed the causal hip height with step(); read `reps`, `set_up` and `phase`."""

    def __init__(self, settings: OnlineSettings, history: FrameHistory):
        self.s = settings
        self.history = history  # this frame is its last row, hip height included
        self.reps: list[RepSummary] = []
        self.set_up: list[RepSummary] = []  # dips first counted, then found too shallow to be reps
        self.phase = "standing"
        self.last_seen_t = -math.inf
        self.deepest = 0.0
        self.pending: Dip | None = None
        self.previous_end = 0
        self.first_dip = True
        self.narrow_tail: tuple[Dip, float] | None = None  # a too-brief last dip and its bottom's time
        self.recent_h: deque[tuple[float, float]] = deque()  # (t, hip height) of the last level_s
        # (t, 3D knee bend) of the last KNEE_MEMORY_S: the straightest knee of the
        # standing before a dip, which may lie before standing was last learnt.
        self.recent_knee_world: deque[tuple[float, float]] = deque()
        self._reset(math.nan, 0, math.nan)

    def _reset(self, h: float, i: int, knee: float) -> None:
        """Learn standing afresh from this frame."""
        self.ref = self.low = h
        self.low_i = i
        self.knee_max = knee
        self.knee_world_max = -math.inf  # highest 3D knee bend since
        self.armed: tuple[float, int] | None = None  # (highest since, index): hips most of the way back

    def hip_height(self, t: float, h: float) -> float:
        """The hip height to count this frame on (NaN: not seen)."""
        if np.isfinite(h):
            self.last_seen_t = t
        elif np.isfinite(self.ref) and t - self.last_seen_t > self.s.long_gap_s:
            h = self.ref  # lost for long: the offline path treats that as standing too
        return h

    def step(self, t: float, h: float, knee: float, view: str, session_view: str,
             knee_world: float = math.nan) -> CountedRep | None:
        """One frame with hips seen: `view` is the kind of the recent view,
        `session_view` that of the whole history, `knee_world` the 3D knee
        bend. Returns the rep closed in this frame, if one was."""
        rs = self.s.reps
        i = self.history.n - 1
        closed = None
        level = self._level(t, h)
        if self.pending is not None:
            closed = self._maybe_close(i, t, h, level, view)
        if not np.isfinite(self.ref):
            self._reset(level, i, knee)
        if h < self.low:
            self.low, self.low_i, self.armed = h, i, None
        if np.isfinite(knee):
            self.knee_max = knee if not np.isfinite(self.knee_max) else max(self.knee_max, knee)
        if np.isfinite(knee_world):
            self.knee_world_max = max(self.knee_world_max, knee_world)
            self.recent_knee_world.append((t, knee_world))
        while self.recent_knee_world and self.recent_knee_world[0][0] < t - KNEE_MEMORY_S:
            self.recent_knee_world.popleft()
        depth, back = self.ref - self.low, h - self.low
        deep_enough = depth >= max(rs.min_depth, rs.rel_depth * self.deepest)
        # Between reps the hips must also come most of the way back to the
        # lifter's usual standing height, not just to the last peak: a bob
        # that never nears standing is not a new rep (offline: the merge rule).
        # And back near standing in absolute terms: pulses in the hole are no reps (offline too).
        near_usual = back >= rs.return_fraction * (self._usual_top() - self.low) and h >= rs.standing_height
        # Before the whole session's view is first decided, the recent view stands in for it.
        side_on = view in HINGE_VIEWS and (session_view in HINGE_VIEWS or session_view == "unknown")
        if deep_enough and near_usual and back >= (1 - rs.cutoff_fraction) * depth:
            self._dip_done(i, t, h, knee, depth, (h, i), view, side_on)
        elif deep_enough and near_usual and back >= rs.return_fraction * depth:
            if self.armed is None or h > self.armed[0]:
                self.armed = (h, i)
        if self.armed is not None and h < self.armed[0] - self.s.moving:
            self._dip_done(i, t, h, knee, depth, self.armed, view, side_on)  # the next dip began: this rep was whole
        if level >= self.ref:  # higher than ever since the last rep: that is standing now
            self._reset(level, i, knee)
            self.low = min(self.low, h)
        self.phase = self._phase(h, self.ref - self.low)
        return closed

    def finish(self, view: str) -> list[CountedRep]:
        """End of the session: close a dip still waiting for its end. A last
        dip found too brief counts when its bottom lies in the session's last
        TAIL_S: the session stopped as the lifter came up (offline: the tail
        dip, which has no right side to measure)."""
        closed = [self._close(view)] if self.pending is not None else []
        tail, self.narrow_tail = self.narrow_tail, None
        end_t = float(self.history.rows["t"][-1]) if self.history.rows["t"] else math.nan
        if tail is not None and end_t - tail[1] <= TAIL_S:
            self.pending = tail[0]
            if not self.pending.first:
                self._count(view)
            closed.append(self._close(view))
        return [c for c in closed if c is not None]

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

    def _dip_done(self, i: int, t: float, h: float, knee: float, depth: float, top: tuple[float, int],
                  view: str, side_on: bool) -> None:
        """The hips came back up from a deep enough dip: a rep, unless the
        knees barely bent (the picture's angle side-on, the 3D one in any
        other view, as offline) or it was too brief (a tracking glitch)."""
        rs = self.s.reps
        lo = min((k for _, k in self.recent_knee_world), default=math.inf)
        hi = self.knee_world_max
        if side_on:
            hinge = np.isfinite(self.knee_max) and self.knee_max < rs.min_knee_flexion
        else:
            hinge = hi >= lo and hi - lo < rs.min_knee_range_world and not self.first_dip
        dip = Dip(ref=self.ref, low=self.low, bottom=self.low_i, depth=depth, since=t, top=top[0], top_i=top[1],
                  first=self.first_dip, knee_top=hi if not side_on and self.first_dip and hi > -math.inf else math.nan)
        self.narrow_tail = None
        if not hinge and self._dip_width(depth) >= rs.min_width_s:
            self.deepest = max(self.deepest, depth)
            self.pending = dip
            if not self.first_dip:
                self._count(view)
            self.first_dip = False
        elif not hinge and self.pending is None:  # kept in case the session ends right here (see finish)
            self.narrow_tail = (dip, float(self.history.rows["t"][self.low_i - self.history.first]))
        self._reset(h, i, knee)

    def _dip_width(self, depth: float) -> float:
        """Seconds the hips spent in the lower half of the dip around its bottom.
        Every frame of the dip is in the past by now, so its hip height is
        cleaned as offline: glitches out (centred Hampel), gaps bridged."""
        lo, last = self.history.first, self.history.n - 1
        ts = self.history.arr("t", lo, last)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN stretches are expected
            h = fill_gaps(hampel(self.history.arr("h", lo, last)), ts, self.s.long_gap_s)
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

    def _count(self, view: str) -> None:
        p = self.pending
        p.counted = True
        bottom_s = float(self.history.rows["t"][p.bottom - self.history.first])
        self.reps.append(RepSummary(len(self.reps) + 1, math.nan, bottom_s, math.nan, float(p.depth), None, view, []))
        # Dips far shallower than this lifter's real reps were set-up (unracking,
        # walking in, picking up a weight): the offline rule, applied as reps come.
        keep = [r for r in self.reps if r.depth >= self.s.reps.rel_depth * self.deepest]
        if len(keep) < len(self.reps):
            self.set_up.extend(r for r in self.reps if r not in keep)
            self.reps = keep
            for k, r in enumerate(self.reps):
                r.index = k + 1

    def _maybe_close(self, i: int, t: float, h: float, level: float, view: str) -> CountedRep | None:
        p = self.pending
        if level > p.top:
            p.top, p.top_i = level, i
        near_standing = h >= p.ref - self.s.reps.phase_fraction * p.depth and not p.first
        dipping_again = h < p.top - self.s.moving
        if near_standing or dipping_again or t - p.since >= self.s.close_timeout_s:
            return self._close(view)
        return None

    def _close(self, view: str) -> CountedRep | None:
        p, self.pending = self.pending, None
        if not p.counted:
            # The session's first dip is whole only if enough of its descent
            # was seen: the session may have begun at the bottom of a squat
            # (offline: RepSettings.joined_share).
            whole = self.s.reps.joined_share * (max(p.ref, p.top) - p.low)
            straight = min((k for _, k in self.recent_knee_world), default=math.nan)
            hinge = p.knee_top >= straight and p.knee_top - straight < self.s.reps.min_knee_range_world
            if p.ref - p.low < whole or hinge:  # (no 3D knee bend seen: NaN compares False, no veto)
                return None
            self.pending = p
            self._count(view)
            self.pending = None
        summary = self.reps[-1]
        end = p.top_i
        rep, lo = self._rep_bounds(p, end)
        ts = self.history.arr("t", lo, end)
        summary.start_s, summary.end_s = float(ts[rep.start]), float(ts[rep.end])
        self.previous_end = end
        return CountedRep(summary, rep, lo, end)

    def _rep_bounds(self, p: Dip, end: int) -> tuple[Rep, int]:
        """The rep's phase frames, walked out from the bottom on the causal hip
        height with the offline bands; indices relative to the scoring window."""
        rs, b, first = self.s.reps, p.bottom, self.history.first
        h = self.history.arr("h", first, end)
        ts = self.history.arr("t", first, end)
        hb = max(b - first, 0)
        start = walk_up_to(h, hb, -1, p.ref - rs.phase_fraction * p.depth, max(0, self.previous_end - first))
        d_end, a_start = bottom_phase(h, hb, p.low + rs.bottom_fraction * p.depth, start, len(h) - 1)
        # Metrics look up to a second before the start for the movement's onset.
        lo = max(int(np.searchsorted(ts, ts[start] - LEAD_IN_S)), self.previous_end - first, 0)
        rep = Rep(len(self.reps) - 1, start - lo, d_end - lo, hb - lo, a_start - lo, len(h) - 1 - lo,
                  False, p.depth)
        return rep, lo + first
