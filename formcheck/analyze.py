"""The analysis pipeline: pose track -> signals -> reps -> metrics -> faults -> advice.

Front ends (analyze, live, batch, evaluate, demo) call `analyze_track` and
hand the result to the report writers; nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.coach.advice import advice_for
from formcheck.coach.config import load_config
from formcheck.coach.faults import (
    ClipFault,
    FaultSpec,
    Finding,
    clip_faults,
    rep_depth,
    specs_from_config,
)
from formcheck.coach.safety import Safety, assess
from formcheck.kinematics.clean import CleanTrack, clean_track
from formcheck.kinematics.evidence import ClipEvidence, clip_evidence, with_doubts
from formcheck.kinematics.metrics import Metric, rep_metrics
from formcheck.kinematics.reps import Rep, segment_reps
from formcheck.kinematics.signals import Signals, compute_signals
from formcheck.kinematics.velocity import RepSpeed, SetSpeed, bar_path, rep_speed, set_speed
from formcheck.kinematics.view import View
from formcheck.pose.people import Choice, choice_of
from formcheck.pose.track import LM, PoseTrack

# A track from before everyone in view was kept (one person only, the people counted per frame):
# warn when a second person shows in this share of frames. On the shared single-lifter clips a stray
# second detection shows in at most 4% of frames; a real bystander beside the lifter in 13% or more.
MULTI_PERSON_SHARE = 0.1
OUT_OF_FRAME_SHARE = 0.2  # ...or the lifter's feet or head leave the frame this often
NO_PERSON = "no person found in the video"
ISOLATED = "seen in this rep alone and not clearly: within what a tracking slip produces"
ALONE_CONFIDENCE = 0.5  # a fault seen in one rep of several must be severe and at least this clear


@dataclass
class RepResult:
    rep: Rep
    view: View
    metrics: dict[str, Metric]
    findings: dict[str, Finding]  # fault code -> verdict, for every fault specification
    depth_class: str | None = None  # below / at / above parallel, as the depth fault judged it
    speed: RepSpeed | None = None  # the bar's concentric speed

    @property
    def faults(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.is_fault]

    @property
    def not_measurable(self) -> set[str]:
        return {code for code, f in self.findings.items() if f.verdict == "not_measurable"}


@dataclass
class Analysis:
    track: PoseTrack
    clean: CleanTrack | None
    signals: Signals | None
    reps: list[RepResult]
    faults: list[ClipFault]
    advice: list
    safety: Safety
    warnings: list[str] = field(default_factory=list)
    specs: tuple[FaultSpec, ...] = ()
    evidence: ClipEvidence | None = None  # per-frame tracking quality
    speed: SetSpeed | None = None  # the set's bar speeds and velocity loss

    @property
    def view(self) -> View:
        return self.signals.view if self.signals else View.unknown()

    @property
    def complete_reps(self) -> list[RepResult]:
        return [r for r in self.reps if not r.rep.partial]

    @property
    def not_measurable(self) -> set[str]:
        """Faults no complete rep could be judged on (from the clip's view)."""
        complete = self.complete_reps
        return set.intersection(*(r.not_measurable for r in complete)) if complete else set()

    @property
    def people(self) -> Choice | None:
        """Whom the track follows among the people in view, and why (None: a track of one person only)."""
        return choice_of(self.track)

    def spec(self, code: str) -> FaultSpec:
        return next(s for s in self.specs if s.code == code)


def _warnings(track: PoseTrack) -> list[str]:
    out = []
    if track.frames == 0 or not track.detected.any():
        return [NO_PERSON]
    found = track.detected
    out += [text for _, text in track.reading_notes()]  # a truncated file, a turned picture
    if found.mean() < 0.8:
        out.append(f"the lifter was found in only {found.mean():.0%} of frames")
    if track.crowd is None and np.mean(track.people >= 2) > MULTI_PERSON_SHARE:
        out.append("more than one person in frame, and this pose track holds one of them only: analysing that "
                   "one; film the lifter alone, or read the video again to choose among them")
    img = track.image[found]
    ends = [LM["left_ankle"], LM["right_ankle"], LM["left_heel"], LM["right_heel"], LM["nose"]]
    xy = img[:, ends, :2]
    outside = (xy[..., 0] < 0) | (xy[..., 0] > track.width) | (xy[..., 1] < 0) | (xy[..., 1] > track.height)
    if np.mean(outside.any(axis=1)) > OUT_OF_FRAME_SHARE:
        out.append("the lifter is partly out of frame (head or feet cut off): keep the whole body in view")
    return out


def analyze_track(track: PoseTrack, config: dict | None = None, symptoms=(),
                  height_m: float | None = None) -> Analysis:
    """The whole analysis of one track; `height_m`, the lifter's height, gives bar speeds their scale."""
    config = config or load_config()
    specs = specs_from_config(config)
    safety = assess(symptoms)
    warnings = _warnings(track)
    if warnings[:1] == [NO_PERSON]:
        return Analysis(track, None, None, [], [], advice_for([], safety.guidance), safety, warnings, specs)

    clean = clean_track(track)
    sig = compute_signals(clean)
    # A dip is a rep only with a squat's knee bend, in every view: the
    # picture's knee angle where the leg is seen side-on, the 3D one elsewhere.
    side_on = sig.view.kind == "side"
    reps = segment_reps(sig.t, sig.hip_height, sig.knee_bend if side_on else None,
                        knee_bend_world=sig.knee_bend_world)
    evidence = clip_evidence(clean, sig)
    measured = []
    for rep in reps:
        view = clean.view(np.arange(rep.start, rep.end + 1))
        if view.kind == "unknown":
            view = sig.view
        metrics = rep_metrics(sig, rep, view.kind, view.yaw_range)
        measured.append(RepResult(rep, view, with_doubts(metrics, evidence, rep), {}))
    results, found = judge(measured, specs, float(config["clip"]["min_share"]))
    if not any(not r.rep.partial for r in results):
        warnings.append("no complete squat reps found")
    advice = advice_for([f.code for f in found], safety.guidance)
    speed = _speeds(clean, sig, results, height_m, float(config["velocity"]["loss_stop"]))
    return Analysis(track, clean, sig, results, found, advice, safety, warnings, specs, evidence, speed)


def _speeds(clean: CleanTrack, sig: Signals, results: list[RepResult], height_m: float | None,
            loss_stop: float) -> SetSpeed | None:
    """Each complete rep's bar speed (set on it) and the set's velocity loss."""
    complete = [r for r in results if not r.rep.partial]
    if not complete:
        return None
    path = bar_path(clean, sig, height_m)
    for k, r in enumerate(complete):
        after = complete[k + 1].rep.start if k + 1 < len(complete) else None
        r.speed = rep_speed(path, sig.t, r.rep, after, r.view.kind == "side")
    return set_speed(path, [(r.rep.index + 1, r.speed) for r in complete], loss_stop)


def judge(measured: list[RepResult], specs: tuple[FaultSpec, ...],
          min_share: float) -> tuple[list[RepResult], list[ClipFault]]:
    """Every fault's verdict on every measured rep (new RepResults), and the clip's faults.

    A finding in one rep that none of the clip's other reps repeats is, unless
    it is severe and clear, within what a tracking slip produces: it is shown
    as "can't tell" rather than as a fault the lifter would act on, and it
    makes no clip fault. A clip of a single rep has nothing to repeat it."""
    results = [RepResult(m.rep, m.view, m.metrics,
                         {s.code: s.judge(m.metrics, m.view.kind, m.view.confidence) for s in specs})
               for m in measured]
    complete = [r for r in results if not r.rep.partial]
    if len(complete) > 1:
        for spec in specs:
            hits = [r for r in complete if r.findings[spec.code].is_fault]
            if len(hits) == 1 and not _stands_alone(hits[0].findings[spec.code]):
                hits[0].findings[spec.code] = Finding(spec.code, "cant_tell", reason=ISOLATED)
    for r in results:
        r.depth_class = rep_depth(r.metrics, r.findings, specs)
    found = clip_faults([r.findings for r in complete], specs, min_share, [r.rep.index + 1 for r in complete])
    return results, found


def _stands_alone(f: Finding) -> bool:
    return f.severity == "severe" and (f.confidence or 0.0) >= ALONE_CONFIDENCE
