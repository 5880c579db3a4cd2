"""What the live coach says: one short cue at a time, from a rep's verdict or
from a fault that shows as it happens."""

from __future__ import annotations

import math

from formcheck.coach.faults import SEVERITIES, FaultSpec, Finding
from formcheck.kinematics.view import SAGITTAL_VIEWS as SAGITTAL


def worst(faults: list[Finding]) -> Finding:
    """The fault a rep's cue is about: the most severe, then the surest."""
    return max(faults, key=lambda f: (SEVERITIES.index(f.severity), f.confidence))


class CueBoard:
    """One cue at a time, then a cool-down before the next one."""

    def __init__(self, cooldown_s: float, hold_s: float, specs: tuple[FaultSpec, ...] = ()):
        self.cooldown_s, self.hold_s = cooldown_s, hold_s
        self.cues = {s.code: s.cue for s in specs}  # what a coach calls out mid-set, per fault
        self.text: str | None = None
        self.code: str | None = None  # the fault behind the cue on show
        self.shown_at = -math.inf
        self.fresh: str | None = None  # a cue shown since the last take_fresh(), reported once
        self.log: list[dict] = []

    def offer(self, t: float, code: str, why: str = "") -> str | None:
        """Show the cue for `code` unless one was shown too recently; `why`
        (what triggered it) goes to the log."""
        if code not in self.cues or t - self.shown_at < self.cooldown_s:
            return None
        self.text, self.code, self.shown_at = self.cues[code], code, t
        self.log.append({"t": round(float(t), 3), "code": code, "cue": self.text, "from": why})
        if self.text:
            self.fresh = self.text
        return self.text

    def current(self, t: float) -> str | None:
        return self.text if t - self.shown_at < self.hold_s else None

    def take_fresh(self) -> str | None:
        fresh, self.fresh = self.fresh, None
        return fresh


class LiveChecks:
    """Faults worth calling in the hole and on the way up, as they happen: a
    per-frame causal signal against the moderate band. A single frame is
    noisier than a rep, so only a clear fault is called mid-rep; milder
    ones wait for the rep's verdict."""

    def __init__(self, specs: tuple[FaultSpec, ...], hold_s: float):
        self.specs = [s for s in specs if s.live_signal and s.above]
        self.hold_s = hold_s  # a fault must persist this long before it is called
        self.since: dict[str, float] = {}

    def due(self, t: float, phase: str, view: str, values: dict[str, float]) -> list[str]:
        """The faults to call now: shown coming out of the hole, and held a moment."""
        due = []
        for spec in self.specs:
            v = values.get(spec.live_signal, math.nan)
            on = phase in ("bottom", "ascent") and view in SAGITTAL and spec.passes(v, 1)
            if not on:
                self.since.pop(spec.code, None)
                continue
            since = self.since.setdefault(spec.code, t)
            if t - since >= self.hold_s:
                due.append(spec.code)
        return due


class VoiceCalls:
    """What the voice says and when, one frame at a time: each rep's count
    once it is counted, and at most one cue once it is scored (the live call
    of its worst fault, the words the window shows), both said only while
    the lifter stands between reps; the moment the next descent starts,
    whatever was not said yet is dropped and what is sounding is hushed. A
    fault's cue is not said again on the next rep unless it has persisted
    for REPEAT_AFTER reps. Only fault calls are ever said: red flags and
    advice belong to the report."""

    REPEAT_AFTER = 3

    def __init__(self, specs: tuple[FaultSpec, ...]):
        self.calls = {s.code: s.cue for s in specs}
        self.counted = 0  # reps whose count was taken
        self.pending: list[tuple[str, str | None, int]] = []  # (words, fault or None for a count, rep)
        self.said_at: dict[str, int] = {}  # fault -> the rep its cue was last said for
        self.present_at: dict[str, int] = {}  # fault -> the last rep that showed it

    def fault_to_call(self, index: int, faults: list[Finding]) -> str | None:
        """The fault whose cue rep `index` (1-based) gets, or None."""
        code = worst(faults).code if faults else None
        persisted = code is not None and self.present_at.get(code) == index - 1
        for f in faults:
            self.present_at[f.code] = index
        if code not in self.calls or (persisted and index - self.said_at.get(code, -99) < self.REPEAT_AFTER):
            return None
        return code

    def step(self, reps: int, phase: str, scored: list) -> tuple[list[str], bool]:
        """(lines to say now, whether to hush) after a frame: `reps` counted so
        far, the counter's `phase`, the reps `scored` in this frame."""
        if reps > self.counted:
            self.pending += [(str(n), None, n) for n in range(self.counted + 1, reps + 1)]
            self.counted = reps
        for r in scored:
            code = self.fault_to_call(r.index, r.faults)
            if code:
                self.pending.append((self.calls[code], code, r.index))
        if phase == "descent":
            self.pending = []
            return [], True
        if phase != "standing" or not self.pending:
            return [], False
        say, self.pending = self.pending, []
        for _, code, index in say:
            if code:
                self.said_at[code] = index  # said, not just meant: a dropped cue may come again next rep
        return [text for text, _, _ in say], False
