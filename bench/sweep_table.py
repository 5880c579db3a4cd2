"""Fault-detection sweeps on simulated squats, written as a markdown table.

Each sweep moves one simulator parameter across its fault's threshold
(formcheck/coach/data/faults.toml). The expected verdict comes from the simulator's
ground truth (the true angle, time or height the metric is meant to measure),
never from our own measurement; points within the sweep's margin of the
threshold are shown but not judged. tests/test_simulate_sweep.py asserts the
same points.

    python bench/sweep_table.py [--out docs/sweep.md]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from formcheck.analyze import analyze_track
from formcheck.coach.config import load_config
from formcheck.coach.faults import specs_from_config
from formcheck.pose.simulate import Truth, simulate

REPO = Path(__file__).resolve().parent.parent
NOISE = dict(noise_px=1.0, seed=0)  # a little tracker-like jitter, so the filters are exercised too


def _in_reps(truth: Truth, x: np.ndarray, start: str, end: str, reduce) -> float:
    """`reduce` of x within each rep (between two Truth event lists), median over reps."""
    vals = [reduce(x[(truth.t >= a) & (truth.t <= b)])
            for a, b in zip(getattr(truth, start), getattr(truth, end))]
    return float(np.median(vals))


def _true_lean(tr: Truth) -> float:
    return _in_reps(tr, tr.trunk, "rep_bottom_s", "rep_end_s", np.max)


def _true_lag_ms(tr: Truth) -> float:
    return float(np.median(np.subtract(tr.knee_onset_s, tr.descent_start_s))) * 1000.0


def _true_shin(tr: Truth) -> float:
    return _in_reps(tr, tr.shin, "rep_start_s", "rep_end_s", np.max)


def _true_depth(tr: Truth) -> float:
    # Hip height over the knee in thigh lengths is the cosine of the thigh angle.
    return float(np.cos(np.radians(_in_reps(tr, tr.thigh, "rep_start_s", "rep_end_s", np.max))))


def _true_heel(tr: Truth) -> float:
    return _in_reps(tr, tr.heel_rise, "rep_start_s", "rep_end_s", np.max)


@dataclass(frozen=True)
class Sweep:
    code: str
    param: str
    values: tuple
    truth: Callable[[Truth], float]  # the true value of the rule's metric
    margin: float  # |true - threshold| below this is too close to call
    base: tuple = ()  # fixed simulator parameters, as (key, value) pairs

    @property
    def label(self) -> str:
        fixed = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in self.base)
        return f"{self.param}" + (f" ({fixed})" if fixed else "")


# Values reach well past both sides of each threshold, so moderate re-tuning of
# faults.toml keeps every sweep meaningful (a test checks that it still is).
SWEEPS = [
    # The peak trunk angle in the ascent is about trunk_bottom_deg + 0.94 * extra.
    Sweep("forward_lean", "trunk_bottom_deg", (30, 38, 42, 45, 47, 50, 54, 60), _true_lean, 2.0,
          (("ascent_lean_extra_deg", 8.0),)),
    # The proxy starts counting when the knees are within 3 deg of their maximum,
    # so it reads a few degrees above the true tuck: hence the wider margin.
    Sweep("butt_wink", "tuck_deg", (0, 4, 8, 10, 12, 14, 16, 18, 22, 26, 30), lambda tr: tr.params.tuck_deg, 3.0,
          (("thigh_bottom_deg", 110.0),)),
    Sweep("hip_first", "hip_first_s", (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5), _true_lag_ms, 50.0),
    # Trunk at 55 deg keeps the rule's gate (trunk - shin >= 15) open across the sweep.
    Sweep("limited_knee_travel", "shin_bottom_deg", (10, 14, 17, 19, 21, 23, 25, 28, 32, 38), _true_shin, 2.0,
          (("trunk_bottom_deg", 55.0),)),
    Sweep("heel_lift", "heel_lift", (0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.49), _true_heel, 0.02),
    Sweep("shallow_depth", "thigh_bottom_deg", (40, 50, 55, 60, 63, 67, 70, 75, 85, 95, 110), _true_depth, 0.05),
    # From the front: the simulator's valgus is the share of standing width each knee gives up at the bottom.
    Sweep("knee_cave", "knee_valgus", (0.0, 0.05, 0.1, 0.12, 0.18, 0.22, 0.3, 0.4, 0.5),
          lambda tr: tr.params.knee_valgus, 0.02, (("view", "front"),)),
    # One knee alone: the other keeps its width, so the pair narrows half as much and the gate still opens.
    Sweep("knee_cave", "knee_valgus", (0.0, 0.1, 0.2, 0.3, 0.45), lambda tr: tr.params.knee_valgus, 0.02,
          (("view", "front"), ("valgus_side", "right"))),
    # Seen from behind, so the lifter's sides are mirrored in the picture.
    Sweep("side_shift", "hip_shift", (0.0, 0.1, 0.2, 0.25, 0.35, 0.45, 0.6, 0.8), lambda tr: abs(tr.params.hip_shift),
          0.03, (("view", "back"),)),
    Sweep("side_shift", "hip_shift", (0.0, -0.2, -0.35, -0.6), lambda tr: abs(tr.params.hip_shift), 0.03,
          (("view", "front"),)),
]


def threshold(code: str, config: dict | None = None) -> tuple[float, bool, str]:
    """The mild band of a rule: (limit, fires-above?, metric name)."""
    rule = next(r for r in specs_from_config(config or load_config()) if r.code == code)
    return rule.bands[0], rule.above, rule.metric


def run_point(sweep: Sweep, value, config: dict | None = None) -> dict:
    config = config or load_config()
    limit, above, metric = threshold(sweep.code, config)
    track, truth = simulate(**dict(sweep.base), **NOISE, **{sweep.param: value})
    analysis = analyze_track(track, config)
    true = sweep.truth(truth)
    expected = None if abs(true - limit) <= sweep.margin else (true > limit if above else true < limit)
    measured = [r.metrics[metric].value for r in analysis.complete_reps
                if r.metrics[metric].measurable and r.metrics[metric].value is not None]
    return {"value": value, "true": true, "measured": float(np.median(measured)) if measured else None,
            "metric": metric, "limit": limit, "expected": expected,
            # A possible fault is the rule firing below the confidence line: found, shown as possible.
            "detected": sweep.code in {f.code for f in analysis.faults}
            or any(r.findings[sweep.code].possible for r in analysis.complete_reps),
            "reps": len(analysis.complete_reps), "reps_true": len(truth.rep_end_s)}


def markdown(config: dict | None = None) -> tuple[str, int]:
    """The sweep tables and the number of judged points that disagree with the truth."""
    out = ["# Fault detection sweeps on simulated squats", "",
           "Generated by `python bench/sweep_table.py`. Each table moves one parameter of the",
           "squat simulator across the fault's threshold (formcheck/coach/data/faults.toml, mildest band),",
           f"side view unless the parameter line names another, 3 reps, {NOISE['noise_px']:g} px landmark",
           "noise. *true* is the metric's value from",
           "the simulator's ground truth, *measured* the median over the detected reps. Points",
           "within the margin of the threshold are too close to call and are not judged.", ""]
    wrong = 0
    for sweep in SWEEPS:
        rows = [run_point(sweep, v, config) for v in sweep.values]
        limit, above, metric = threshold(sweep.code, config)
        out += [f"## {sweep.code}", "",
                f"Parameter {sweep.label}; metric `{metric}`, fault when {'≥' if above else '≤'} {limit:g}, "
                f"margin ±{sweep.margin:g}.", "",
                f"| {sweep.param} | true | measured | expected | detected | reps | |",
                "|---:|---:|---:|:---:|:---:|:---:|:---:|"]
        for r in rows:
            ok = r["expected"] is None or r["expected"] == r["detected"]
            wrong += not ok
            exp = "—" if r["expected"] is None else ("yes" if r["expected"] else "no")
            meas = "n/a" if r["measured"] is None else f"{r['measured']:.3g}"
            out.append(f"| {r['value']:g} | {r['true']:.3g} | {meas} | {exp} | "
                       f"{'yes' if r['detected'] else 'no'} | {r['reps']}/{r['reps_true']} | "
                       f"{'' if ok else '**wrong**'} |")
        out.append("")
    return "\n".join(out), wrong


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "sweep.md"))
    args = ap.parse_args()
    text, wrong = markdown()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}; {wrong} judged point(s) disagree with the ground truth")
    print(f"RESULT name=sweep_table wrong={wrong}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
