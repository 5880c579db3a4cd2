"""The analysis pipeline: pose track -> signals -> reps -> metrics -> faults -> advice.

Front ends (analyze, live, batch, evaluate, demo) call `analyze_track` and
hand the result to the report writers; nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.advice import advice_for
from formcheck.config import load_config
from formcheck.faults import Rule, clip_faults, rules_from_config
from formcheck.metrics import Metric, depth_class, rep_metrics
from formcheck.pose.track import LM, PoseTrack
from formcheck.reps import Rep, segment_reps
from formcheck.safety import Safety, assess
from formcheck.signals import Signals, compute_signals
from formcheck.view import View, decide_view

MULTI_PERSON_SHARE = 0.2  # warn when a second person shows in this share of frames
OUT_OF_FRAME_SHARE = 0.2  # ...or the lifter's feet or head leave the frame this often


@dataclass
class RepResult:
    rep: Rep
    view: View
    metrics: dict[str, Metric]
    faults: list[dict]
    not_measurable: set[str]


@dataclass
class Analysis:
    track: PoseTrack
    signals: Signals | None
    reps: list[RepResult]
    faults: list[dict]
    advice: list
    safety: Safety
    warnings: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    @property
    def view(self) -> View:
        return self.signals.view if self.signals else View("unknown", None, None, 0.0, float("nan"))

    @property
    def complete_reps(self) -> list[RepResult]:
        return [r for r in self.reps if not r.rep.partial]

    @property
    def not_measurable(self) -> set[str]:
        """Faults no complete rep could be judged on (from the clip's view)."""
        complete = self.complete_reps
        return set.intersection(*(r.not_measurable for r in complete)) if complete else set()


def _warnings(track: PoseTrack) -> list[str]:
    out = []
    if track.frames == 0 or not track.detected.any():
        return ["no person found in the video"]
    found = track.detected
    out += [text for _, text in track.reading_notes()]  # a truncated file, a turned picture
    if found.mean() < 0.8:
        out.append(f"the lifter was found in only {found.mean():.0%} of frames")
    if np.mean(track.people >= 2) > MULTI_PERSON_SHARE:
        out.append("more than one person in frame: analysing the most visible one; film the lifter alone for best results")
    img = track.image[found]
    ends = [LM["left_ankle"], LM["right_ankle"], LM["left_heel"], LM["right_heel"], LM["nose"]]
    xy = img[:, ends, :2]
    outside = (xy[..., 0] < 0) | (xy[..., 0] > track.width) | (xy[..., 1] < 0) | (xy[..., 1] > track.height)
    if np.mean(outside.any(axis=1)) > OUT_OF_FRAME_SHARE:
        out.append("the lifter is partly out of frame (head or feet cut off): keep the whole body in view")
    return out


def analyze_track(track: PoseTrack, config: dict | None = None, symptoms=(), smoother: str = "butterworth") -> Analysis:
    config = config or load_config()
    rules = rules_from_config(config)
    safety = assess(symptoms)
    warnings = _warnings(track)
    if warnings[:1] == ["no person found in the video"]:
        return Analysis(track, None, [], [], advice_for([], safety.guidance), safety, warnings, rules)

    sig = compute_signals(track, smoother=smoother)
    # The knee angle tells a squat from a hinge only when the leg is seen side-on.
    side_on = sig.view.kind == "side"
    reps = segment_reps(sig.t, sig.hip_height, sig.knee_bend if side_on else None)
    results: list[RepResult] = []
    previous_end = 0
    for rep in reps:
        view = decide_view(track.image, track.world, track.visibility, np.arange(rep.start, rep.end + 1))
        if view.kind == "unknown":
            view = sig.view
        metrics = rep_metrics(sig, rep, view.kind, previous_end)
        faults, missing = [], set()
        for rule in rules:
            verdict = rule.evaluate(metrics, view.kind, view.confidence)
            if verdict == "not_measurable":
                missing.add(rule.code)
            elif verdict:
                faults.append(verdict)
        results.append(RepResult(rep, view, metrics, faults, missing))
        previous_end = rep.end
    complete = [r for r in results if not r.rep.partial]
    if not complete:
        warnings.append("no complete squat reps found")
    found = clip_faults([r.faults for r in complete], [r.not_measurable for r in complete],
                        rules, float(config["clip"]["min_share"]), [r.rep.index + 1 for r in complete])
    advice = advice_for([f["code"] for f in found], safety.guidance)
    return Analysis(track, sig, results, found, advice, safety, warnings, rules)


def depth_label(result: RepResult) -> str | None:
    return depth_class(result.metrics["depth"])
