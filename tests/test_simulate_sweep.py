"""Simulated squats through the whole numpy path: each fault is found above its
threshold and not below it, judged by the simulator's ground truth.

The sweeps (parameter values, true metric, margins) live in bench/sweep_table.py,
which also writes them as docs/sweep.md.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from sweep_table import SWEEPS, run_point  # noqa: E402

POINTS = [(s, v) for s in SWEEPS for v in s.values]


def _id(s, v) -> str:
    return "-".join([s.code, *(f"{k}={b}" for k, b in s.base), f"{s.param}={v:g}"])


@pytest.mark.parametrize("sweep,value", POINTS, ids=[_id(s, v) for s, v in POINTS])
def test_fault_follows_ground_truth(sweep, value):
    r = run_point(sweep, value)
    assert r["reps"] == r["reps_true"], r
    if r["expected"] is None:
        pytest.skip(f"true {r['metric']} {r['true']:.3g} is within ±{sweep.margin:g} of {r['limit']:g}")
    measured = "n/a" if r["measured"] is None else f"{r['measured']:.3g}"
    assert r["detected"] == r["expected"], (
        f"{sweep.code}: {sweep.param}={value:g}: true {r['metric']} {r['true']:.3g}, measured {measured} "
        f"(threshold {r['limit']:g}); expected {'a' if r['expected'] else 'no'} finding")


def test_sweeps_cross_their_thresholds():
    """Every sweep has judged points on both sides, so it tests something."""
    for s in SWEEPS:
        verdicts = {run_point(s, v)["expected"] for v in (s.values[0], s.values[-1])}
        assert verdicts == {True, False}, s.code
