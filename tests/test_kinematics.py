"""The numpy core on synthetic tracks with known geometry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from formcheck.analyze import analyze_track
from formcheck.kinematics.filters import FILTERS, OneEuro, butterworth, fill_gaps, hampel
from formcheck.kinematics.reps import segment_reps
from formcheck.kinematics.clean import clean_track, fix_swaps
from formcheck.kinematics.signals import compute_signals
from formcheck.pose.simulate import simulate

ANGLES = ("trunk", "shin", "thigh", "knee_flexion", "hip_flexion")


def frame_of(t: np.ndarray, s: float) -> int:
    return int(np.argmin(np.abs(t - s)))


@pytest.mark.parametrize("facing", ["left", "right"])
def test_angles_recovered_within_one_degree(facing):
    track, truth = simulate(facing=facing, trunk_bottom_deg=48, shin_bottom_deg=28, thigh_bottom_deg=100)
    sig = compute_signals(clean_track(track))
    assert sig.view.kind == "side" and sig.view.facing == facing and sig.side == facing
    for name in ANGLES:
        err = np.nanmax(np.abs(getattr(sig, name) - getattr(truth, name)))
        assert err < 1.0, f"{name} off by {err:.2f} deg"
    np.testing.assert_allclose(sig.hip_height, truth.hip_height, atol=0.01)


def test_angles_survive_noise_dropouts_and_swaps():
    track, truth = simulate(noise_px=2.0, dropout_frac=0.05, swap_frac=0.05, seed=3)
    sig = compute_signals(clean_track(track))
    for name in ("trunk", "knee_flexion", "hip_flexion"):
        err = np.abs(getattr(sig, name) - getattr(truth, name))
        assert np.nanmedian(err) < 1.5 and np.nanpercentile(err, 95) < 4.0, name
    assert np.isfinite(sig.hip_height).mean() > 0.97, "short dropouts are filled"


def test_swaps_are_undone():
    track, truth = simulate(swap_frac=0.1, seed=1, facing="left", view="oblique")
    image, *_ , swapped = fix_swaps(track.image, track.world, track.visibility)
    assert truth.swapped.any()
    agree = np.mean(swapped[truth.swapped])
    assert agree > 0.9, f"only {agree:.0%} of swapped frames detected"
    assert np.mean(swapped[~truth.swapped & ~truth.dropped]) < 0.02


@pytest.mark.parametrize("view,expected", [("side", "side"), ("front", "front"), ("back", "front"),
                                           ("oblique", "oblique")])
def test_view_detection(view, expected):
    track, _ = simulate(view=view)
    assert compute_signals(clean_track(track)).view.kind == expected


def test_front_and_back_facing():
    assert compute_signals(clean_track(simulate(view="front")[0])).view.facing == "camera"
    assert compute_signals(clean_track(simulate(view="back")[0])).view.facing == "away"


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0, 240.0])
def test_rep_boundaries_within_one_frame(fps):
    # Symmetric tempo: the bottom is the middle of the frames nearest the lowest
    # point, which for a lopsided rep sits a few milliseconds off the argmin.
    track, truth = simulate(fps=fps, reps=4, bottom_pause_s=0.0, descent_s=1.1, ascent_s=1.1)
    sig = compute_signals(clean_track(track))
    reps = [r for r in segment_reps(sig.t, sig.hip_height, sig.knee_bend) if not r.partial]
    assert len(reps) == 4
    step = 1.0 / fps
    for rep, bottom in zip(reps, truth.rep_bottom_s):
        assert abs(sig.t[rep.bottom] - bottom) <= step + 1e-9
    # Start and end sit in the 10% band next to standing, inside the truth's rep.
    for rep, start, end in zip(reps, truth.rep_start_s, truth.rep_end_s):
        assert start - step <= sig.t[rep.start] < sig.t[rep.bottom] < sig.t[rep.end] <= end + step


def test_pauses_bounces_setup_and_cut_off_reps():
    track, truth = simulate(reps=3, bottom_pause_s=1.5, top_pause_s=2.0, bounce=True, hinge_pickup=True,
                            walk_in_s=1.5, partial_last=True)
    sig = compute_signals(clean_track(track))
    reps = segment_reps(sig.t, sig.hip_height, sig.knee_bend)
    complete = [r for r in reps if not r.partial]
    assert len(complete) == 3, "pauses, bounces, walking in and a hinge are not reps"
    assert reps[-1].partial and truth.partial_rep
    for rep, bottom in zip(complete, truth.rep_bottom_s):
        assert abs(sig.t[rep.bottom] - bottom) < 1.5 / 2 + 0.1, "the bottom lies inside the pause"


def test_phase_order_and_tempo():
    track, truth = simulate(descent_s=2.0, ascent_s=1.0)
    sig = compute_signals(clean_track(track))
    for r in segment_reps(sig.t, sig.hip_height, sig.knee_bend):
        assert r.start < r.descent_end <= r.bottom <= r.ascent_start < r.end
        assert sig.t[r.descent_end] - sig.t[r.start] > sig.t[r.end] - sig.t[r.ascent_start]


def test_filters_registry_and_behaviour():
    t = np.arange(300) / 30.0
    clean = np.sin(2 * np.pi * 0.5 * t)
    noisy = clean + np.random.default_rng(0).normal(0, 0.05, len(t))
    noisy[100] += 3.0  # an outlier
    assert set(FILTERS) >= {"butterworth", "one_euro", "none"}
    despiked = hampel(noisy)
    assert abs(despiked[100] - clean[100]) < 0.3
    smooth = butterworth(despiked, t)
    rms = lambda x: float(np.sqrt(np.mean((x - clean) ** 2)))  # noqa: E731
    assert rms(smooth) < 0.6 * rms(np.where(np.arange(len(t)) == 100, clean, noisy))
    # The causal filter lags but converges; the zero-phase one does not lag.
    live = np.array([OneEuro()(x, ti) for x, ti in zip(clean, t)])
    assert np.corrcoef(live, clean)[0, 1] > 0.95
    gappy = clean.copy()
    gappy[50:55] = np.nan
    gappy[150:200] = np.nan
    filled = fill_gaps(gappy, t, max_gap_s=0.25)
    assert np.isfinite(filled[50:55]).all() and np.isnan(filled[150:200]).all()


def _hip_track(levels: list[tuple[float, float]], fps: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """A hip-height signal through (time s, leg lengths) points, straight lines between."""
    times, heights = zip(*levels)
    t = np.arange(0.0, times[-1], 1 / fps)
    return t, np.interp(t, times, heights)


def test_pulses_in_the_hole_are_no_reps():
    stand, hole, half = 0.95, 0.45, 0.65
    pulses = [(2.0 + 1.2 * k, hole) for k in range(4)]
    pulses = [p for k, (a, b) in enumerate(pulses) for p in ((a, b), (a + 0.6, half))][:-1]
    # Stand, go down, pulse four times in the bottom half, stand up: one rep.
    t, h = _hip_track([(0.0, stand), (1.0, stand), *pulses, (7.5, stand), (9.0, stand)])
    assert len([r for r in segment_reps(t, h) if not r.partial]) == 1
    # Pulses that never stand, as a clip filmed in the hole: no rep at all.
    t, h = _hip_track([(0.0, half), *pulses, (6.5, half)])
    assert segment_reps(t, h) == []
    # The same dips with the hips back to standing between them are four reps.
    full = [p for k in range(4) for p in ((1.0 + 1.6 * k, stand), (1.8 + 1.6 * k, hole))]
    t, h = _hip_track([(0.0, stand), *full, (8.0, stand), (9.0, stand)])
    assert len([r for r in segment_reps(t, h) if not r.partial]) == 4


@pytest.mark.parametrize("off_side", [0.0, 20.0, 45.0, 70.0, 90.0])
def test_camera_yaw_is_estimated_with_a_range_holding_the_truth(off_side):
    # The simulator's yaw is from side-on; a View's from the frontal plane.
    track, _ = simulate(yaw_deg=off_side, noise_px=1.0)
    view = clean_track(track).view()
    lo, hi = view.yaw_range
    assert abs(view.yaw_deg - (90.0 - off_side)) < 5.0, view
    assert lo - 1e-6 <= 90.0 - off_side <= hi + 1e-6, view


def test_a_clip_joining_the_first_rep_partway_down_counts_it():
    track, truth = simulate(reps=3, lead_in_s=0.0, descent_s=1.2, hip_first_s=0.4)
    # Cut the clip 0.55 s before the first bottom: the last part of the descent (under half of it),
    # the bottom and the ascent are seen.
    keep = track.t >= truth.rep_bottom_s[0] - 0.55
    cut = dataclasses.replace(track, t=track.t[keep] - track.t[keep][0], image=track.image[keep],
                              visibility=track.visibility[keep], presence=track.presence[keep],
                              world=track.world[keep])
    a = analyze_track(cut)
    assert len(a.complete_reps) == 3 and a.reps[0].rep.joined
    first = a.reps[0].findings["hip_first"]
    assert first.verdict == "cant_tell" and "partway down" in first.reason
    assert all(r.findings["hip_first"].is_fault for r in a.reps[1:]), "the others still show their start"
