"""Scoring a counted rep: the offline metrics and fault rules on its frames."""

from __future__ import annotations

import warnings
from concurrent.futures import Future

import numpy as np

from formcheck.coach.faults import FaultSpec, Finding, rep_depth
from formcheck.kinematics.clean import clean_track
from formcheck.kinematics.metrics import rep_metrics
from formcheck.kinematics.reps import Rep
from formcheck.kinematics.signals import compute_signals
from formcheck.kinematics.velocity import RepSpeed, bar_path, rep_speed
from formcheck.kinematics.view import View
from formcheck.live.counter import CountedRep, RepSummary
from formcheck.pose.track import PoseTrack

Score = tuple[str, list[Finding], str | None]  # (view, faults, depth class)


def _rep_signals(track: PoseTrack, rep: Rep, live_view: View):
    """A rep's frames One Euro filtered, their view (the session's when the
    rep's own cannot be told) and signals."""
    clean = clean_track(track, smoother="one_euro")
    view = clean.view(np.arange(rep.start, rep.end + 1))
    if view.kind == "unknown":
        view = live_view
    return clean, view, compute_signals(clean, view)


def score_rep(track: PoseTrack, rep: Rep, specs: tuple[FaultSpec, ...], live_view: View) -> Score:
    """(view, faults, depth class) of one finished rep, from its frames only:
    the offline metrics and fault rules on a One Euro filtered stretch.
    Touches no shared state, so it may run on a worker thread."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # landmarks missing in part of the rep
            _, view, sig = _rep_signals(track, rep, live_view)
            metrics = rep_metrics(sig, rep, view.kind, view.yaw_range)
    except (ValueError, IndexError, FloatingPointError):
        return live_view.kind, [], None  # too few usable frames to score: the rep still counts
    findings = {s.code: s.judge(metrics, view.kind, view.confidence) for s in specs}
    return view.kind, [f for f in findings.values() if f.is_fault], rep_depth(metrics, findings, specs)


def time_rep(track: PoseTrack, rep: Rep, live_view: View) -> RepSpeed | None:
    """The bar's concentric speed in a counted rep, on frames reaching past
    its lockout (the counter closes a rep as the hips come back near
    standing, before the bar has finished rising). May run on a worker thread."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            clean, view, sig = _rep_signals(track, rep, live_view)
            return rep_speed(bar_path(clean, sig), track.t, rep, None, view.kind == "side")
    except (ValueError, IndexError, FloatingPointError):
        return None


def _fill(summary: RepSummary, score: Score) -> RepSummary:
    summary.view, summary.faults, summary.depth_class = score
    return summary


class RepScorer:
    """Scores counted reps, and times their bar speed, and hands them back
    scored (or timed), in rep order."""

    def __init__(self, specs: tuple[FaultSpec, ...], executor=None):
        self.specs = specs
        self.executor = executor  # e.g. a one-worker ThreadPoolExecutor; None scores in line
        self.jobs: list[tuple[RepSummary, Future]] = []  # being scored
        self.timing: list[tuple[RepSummary, Future]] = []  # being timed

    def submit(self, counted: CountedRep, track: PoseTrack, live_view: View) -> list[RepSummary]:
        """Score a rep on `track`, its frames; returns it at once when scored in line."""
        if self.executor is None:
            return [_fill(counted.summary, score_rep(track, counted.rep, self.specs, live_view))]
        # Scoring takes a few frames' time: off the frame loop, so no frame waits for it.
        self.jobs.append((counted.summary, self.executor.submit(score_rep, track, counted.rep, self.specs, live_view)))
        return []

    def ready(self) -> list[RepSummary]:
        """The reps whose scores finished since the last call."""
        done = []
        while self.jobs and self.jobs[0][1].done():
            summary, job = self.jobs.pop(0)
            done.append(_fill(summary, job.result()))
        return done

    def wait(self) -> list[RepSummary]:
        """Every rep still being scored, once scored."""
        done = [_fill(summary, job.result()) for summary, job in self.jobs]
        self.jobs = []
        return done

    def submit_timing(self, counted: CountedRep, track: PoseTrack, live_view: View) -> list[RepSummary]:
        """Time a rep's bar speed on `track` (its frames up to past lockout);
        returns it at once when timed in line."""
        if self.executor is None:
            counted.summary.speed = time_rep(track, counted.rep, live_view)
            return [counted.summary]
        self.timing.append((counted.summary, self.executor.submit(time_rep, track, counted.rep, live_view)))
        return []

    def timed(self, wait: bool = False) -> list[RepSummary]:
        """The reps whose timing finished since the last call (with `wait`, all of them)."""
        done = []
        while self.timing and (wait or self.timing[0][1].done()):
            summary, job = self.timing.pop(0)
            summary.speed = job.result()
            done.append(summary)
        return done
