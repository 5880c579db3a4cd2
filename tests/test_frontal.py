"""Knee cave and side shift from the front and back, per leg, on simulated
squats with known geometry: the right leg and direction are named, a hip
shift is not read as a cave, and hidden knees or a side view never give a
finding."""

import numpy as np
import pytest

from formcheck.analyze import analyze_track
from formcheck.pose.track import LM
from formcheck.outputs.render.skeleton import caving_legs
from formcheck.kinematics.signals import legs_by_position
from formcheck.pose.simulate import simulate

NOISE = dict(noise_px=1.0, seed=3)


def _run(**kw):
    track, truth = simulate(**NOISE, **kw)
    return analyze_track(track), track, truth


def _findings(a, code):
    return [r.findings[code] for r in a.complete_reps]


@pytest.mark.parametrize("view", ["front", "back"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_one_knee_caving_is_named(view, side):
    a, _, _ = _run(view=view, knee_valgus=0.3, valgus_side=side)
    other = "right" if side == "left" else "left"
    found = _findings(a, "knee_cave")
    assert found and all(f.is_fault for f in found)
    for f in found:
        assert f"at the {side} knee" in f.evidence and f"{other} knee" not in f.evidence, f.evidence
    m = a.complete_reps[0].metrics["knee_in"]
    assert m.sides[side] == pytest.approx(0.3, abs=0.03) and abs(m.sides[other]) < 0.05


def test_both_knees_caving_names_both_and_measures_the_truth():
    a, _, _ = _run(view="front", knee_valgus=0.25)
    for r in a.complete_reps:
        assert r.metrics["knee_in"].value == pytest.approx(0.25, abs=0.03)
        assert r.metrics["knee_narrowing"].value == pytest.approx(0.25, abs=0.03)
        assert "left knee" in r.findings["knee_cave"].evidence and "right knee" in r.findings["knee_cave"].evidence


@pytest.mark.parametrize("view,shift,towards", [("front", 0.45, "left"), ("front", -0.45, "right"),
                                                 ("back", 0.45, "left"), ("back", -0.45, "right")])
def test_side_shift_names_the_side(view, shift, towards):
    a, _, _ = _run(view=view, hip_shift=shift)
    found = _findings(a, "side_shift")
    assert found and all(f.is_fault and f.evidence.endswith(f"to the {towards}") for f in found), found
    assert all(r.metrics["side_shift"].value == pytest.approx(0.45, abs=0.04) for r in a.complete_reps)


def test_a_hip_shift_alone_is_not_a_knee_cave():
    # The shifting pelvis drags one knee towards the midline, but the pair keeps its width.
    a, _, _ = _run(view="front", hip_shift=0.45)
    assert max(r.metrics["knee_in"].value for r in a.complete_reps) > 0.3  # one knee did move in...
    assert not any(f.is_fault for f in _findings(a, "knee_cave"))  # ...and the gate keeps it from being a cave


def test_clean_front_squat_has_neither():
    a, _, _ = _run(view="front")
    assert [f.verdict for f in _findings(a, "knee_cave")] == ["ok"] * 3
    assert [f.verdict for f in _findings(a, "side_shift")] == ["ok"] * 3


def test_side_view_is_not_measurable():
    a, _, _ = _run(view="side", knee_valgus=0.4, hip_shift=0.5)
    for code in ("knee_cave", "side_shift"):
        assert {f.verdict for f in _findings(a, code)} == {"not_measurable"}


def test_hidden_knees_give_cant_tell():
    track, truth = simulate(view="front", knee_valgus=0.4, **NOISE)
    for t0, t1 in zip(truth.rep_start_s, truth.rep_end_s):  # something in front of the knees for mid-rep
        mid = (track.t > t0 + 0.3 * (t1 - t0)) & (track.t < t1 - 0.3 * (t1 - t0))
        for name in ("left_knee", "right_knee"):
            track.visibility[mid, LM[name]] = 0.1  # MediaPipe guessing
    a = analyze_track(track)
    found = _findings(a, "knee_cave")
    assert len(found) == 3 and {f.verdict for f in found} == {"cant_tell"}
    assert all("knee is hidden" in f.reason for f in found), found


@pytest.mark.parametrize("facing,image_right", [("camera", "left"), ("away", "right")])
def test_legs_are_taken_by_position_not_label(facing, image_right):
    # MediaPipe often flips left and right from the front: the leg further right
    # in the picture is the lifter's left when they face the camera, whatever its label.
    xy = np.full((2, 33, 2), np.nan)
    xy[:, LM["left_knee"]] = [[300, 500], [100, 500]]  # frame 1: labels swapped
    xy[:, LM["right_knee"]] = [[100, 500], [300, 500]]
    legs = legs_by_position(xy, facing)
    assert (legs[image_right]["knee"][:, 0] == 300).all()


def test_drawing_reddens_the_caving_leg_only():
    a, _, _ = _run(view="front", knee_valgus=0.3, valgus_side="left")
    rep = a.complete_reps[0]
    assert caving_legs(a, rep.rep.bottom, [a.spec("knee_cave")]) == {"left"}
    assert caving_legs(a, rep.rep.bottom, [a.spec("shallow_depth")]) == set()
    assert np.isfinite(a.signals.legs["left"]["knee"][rep.rep.bottom]).all()
