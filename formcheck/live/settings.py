"""The live coach's settings: the rep counter's, the causal signals', the cues'."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.kinematics.reps import RepSettings


@dataclass(frozen=True)
class OnlineSettings:
    reps: RepSettings = RepSettings()  # the offline thresholds, shared on purpose
    hampel_s: float = 0.25  # glitch test against the positions of this trailing window (7 frames at 30 fps)
    level_s: float = 0.4  # the standing level is learnt from hip heights held this long
    moving: float = 0.05  # leg lengths under standing that count as "not standing" (phase display)
    close_timeout_s: float = 1.0  # a counted rep is scored once standing, or after this long
    long_gap_s: float = 1.0  # shorter dropouts are bridged, longer ones count as standing (as reps.segment_reps)
    view_every_s: float = 0.5  # how often the camera view is re-decided...
    view_window_s: float = 3.0  # ...over this many trailing seconds
    session_view_every_s: float = 2.0  # the view over the whole history, for the hinge veto
    leg_window_s: float = 8.0  # leg length: from this trailing window (offline: 8 s centred)
    history_s: float = 30.0  # raw landmarks kept for scoring a rep (a slow rep is well under this)
    cooldown_s: float = 3.0  # after a cue, the next waits this long: the coach never chatters
    cue_hold_s: float = 2.5  # how long a cue stays on screen
    lean_hold_s: float = 0.15  # a live fault must persist this long before it is called
