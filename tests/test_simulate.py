"""The simulator's ground truth must be exactly what its landmarks show."""

import json

import numpy as np
import pytest

from formcheck.errors import FormcheckError
from formcheck.pose.track import LM, PoseTrack
from formcheck.pose.simulate import PRESETS, SquatParams, render_preview, simulate


def pts(track, name):
    return track.image[:, LM[name], :2].astype(float)


def seg_angle(track, a, b, forward_sign, lean_back=False):
    """Angle from vertical of the a->b segment in pixels, positive toward the lifter's front."""
    d = pts(track, b) - pts(track, a)
    fwd, up = forward_sign * d[:, 0], -d[:, 1]
    return np.degrees(np.arctan2(-fwd if lean_back else fwd, up))


def measured(track, side, facing):
    s = -1.0 if facing == "left" else 1.0
    shin = seg_angle(track, f"{side}_ankle", f"{side}_knee", s)
    thigh = seg_angle(track, f"{side}_knee", f"{side}_hip", s, lean_back=True)
    trunk = seg_angle(track, f"{side}_hip", f"{side}_shoulder", s)
    return dict(shin=shin, thigh=thigh, trunk=trunk, knee_flexion=shin + thigh,
                hip_flexion=trunk + thigh)


def frame(truth, t):
    return int(np.argmin(np.abs(truth.t - t)))


@pytest.mark.parametrize("facing", ["left", "right"])
def test_side_view_angles_match_truth(facing):
    track, truth = simulate(facing=facing)
    assert truth.near_side == facing
    got = measured(track, truth.near_side, facing)
    for k, v in got.items():
        assert np.max(np.abs(v - getattr(truth, k))) < 0.5, k
    # Clean squat reaches the requested bottom and returns to standing.
    assert truth.thigh.max() == pytest.approx(95.0, abs=0.01)
    assert truth.knee_flexion[0] == pytest.approx(2.0) and truth.knee_flexion[-1] == pytest.approx(2.0)


@pytest.mark.parametrize("facing", ["left", "right"])
def test_facing_convention(facing):
    track, truth = simulate(facing=facing)
    near, far = facing, "right" if facing == "left" else "left"
    nh, fh = LM[f"{near}_hip"], LM[f"{far}_hip"]
    assert (track.visibility[:, nh] > 0.95).all() and (track.visibility[:, fh] < 0.8).all()
    assert (track.world[:, nh, 2] < track.world[:, fh, 2]).all()  # smaller z = nearer
    nose_dx = pts(track, "nose")[0, 0] - pts(track, f"{near}_shoulder")[0, 0]
    assert np.sign(nose_dx) == (-1 if facing == "left" else 1)


def test_frame_count_and_timeline():
    p = SquatParams()
    track, truth = simulate(p)
    dur = p.lead_in_s + p.reps * (p.descent_s + p.bottom_pause_s + p.ascent_s) \
        + (p.reps - 1) * p.top_pause_s + p.lead_out_s
    assert track.frames == round(dur * p.fps)
    assert np.allclose(np.diff(track.t), 1 / p.fps)
    assert len(truth.rep_start_s) == len(truth.rep_bottom_s) == len(truth.rep_end_s) == p.reps
    assert truth.rep_start_s[0] == pytest.approx(p.lead_in_s)
    assert truth.descent_start_s == truth.rep_start_s == truth.knee_onset_s
    assert not truth.partial_rep


def test_rep_bottom_is_hip_height_minimum():
    track, truth = simulate()
    for start, bottom, end in zip(truth.rep_start_s, truth.rep_bottom_s, truth.rep_end_s):
        window = (truth.t >= start) & (truth.t <= end)
        lowest = truth.hip_height[window].min()
        assert truth.hip_height[frame(truth, bottom)] == pytest.approx(lowest, abs=1e-9)
        # ...and the image shows the hip lowest there too (y grows downward).
        hip_y = pts(track, "left_hip")[:, 1]
        assert hip_y[frame(truth, bottom)] == pytest.approx(hip_y[window].max(), abs=1e-3)
    assert truth.hip_height[0] == pytest.approx(1.0, abs=0.01)


def test_hip_first_delays_knee_onset():
    lead = 0.35
    track, truth = simulate(hip_first_s=lead)
    for hip_on, knee_on in zip(truth.descent_start_s, truth.knee_onset_s):
        assert knee_on - hip_on == pytest.approx(lead)
        before = (truth.t >= hip_on - 0.5) & (truth.t < knee_on)
        assert np.ptp(truth.knee_flexion[before]) < 1e-6  # knee still
        assert truth.hip_flexion[frame(truth, knee_on)] - truth.hip_flexion[frame(truth, hip_on)] > 5
        # The image agrees: hips go back (image +x for a lifter facing left) before the knee bends.
        m = measured(track, "left", "left")
        assert np.ptp(m["knee_flexion"][before]) < 0.1
        hip_x = pts(track, "left_hip")[:, 0]
        assert hip_x[frame(truth, knee_on)] - hip_x[frame(truth, hip_on)] > 3
    # The descent as a whole lasts descent_s + hip_first_s.
    p = SquatParams()
    assert track.frames == simulate()[0].frames + round(lead * p.reps * p.fps)


def test_tuck_adds_hip_flexion_after_knee_stops():
    tuck, p = 15.0, SquatParams(thigh_bottom_deg=110.0)
    track, truth = simulate(p, tuck_deg=tuck)
    m = measured(track, "left", "left")
    for knee_on, bottom in zip(truth.knee_onset_s, truth.rep_bottom_s):
        stop, end = frame(truth, knee_on + 0.75 * p.descent_s), frame(truth, knee_on + p.descent_s)
        for src in (truth.__dict__, m):
            assert np.ptp(src["knee_flexion"][stop:end + 1]) < 0.05
            assert src["hip_flexion"][end] - src["hip_flexion"][stop] == pytest.approx(tuck, abs=0.3)
        assert truth.hip_flexion[frame(truth, bottom)] == pytest.approx(110 + 35 + tuck, abs=0.01)
    assert truth.hip_flexion[-1] == pytest.approx(3.0)  # fully untucked when standing


def test_ascent_lean_peaks_early_in_ascent():
    p = SquatParams(trunk_bottom_deg=55.0)
    _, base = simulate(p)
    _, lean = simulate(p, ascent_lean_extra_deg=12.0)
    extra = lean.trunk - base.trunk
    assert extra.max() == pytest.approx(12.0, abs=0.2)
    a0 = base.rep_bottom_s[0] + p.bottom_pause_s / 2
    assert base.t[np.argmax(extra)] == pytest.approx(a0 + 0.3 * p.ascent_s, abs=1.5 / p.fps)
    assert np.all(extra[base.t <= a0] == 0)


def test_heel_lift_raises_heel_by_fraction_of_foot():
    lift = 0.2
    track, truth = simulate(heel_lift=lift)
    heel, toe = pts(track, "left_heel"), pts(track, "left_foot_index")
    foot_px = np.linalg.norm(heel[0] - toe[0])
    assert foot_px == pytest.approx(0.152 * 1.75 * truth.px_per_m, rel=1e-3)
    b = frame(truth, truth.rep_bottom_s[0])
    assert heel[0, 1] - heel[b, 1] == pytest.approx(lift * foot_px, rel=1e-3)
    assert np.ptp(toe[:, 1]) < 1e-3  # toe stays on the floor
    assert pts(track, "left_ankle")[b, 1] < pts(track, "left_ankle")[0, 1]
    assert truth.heel_rise.max() == pytest.approx(lift)


def test_front_view_shows_shoulder_width():
    def width(view):
        track, _ = simulate(view=view)
        return np.abs(pts(track, "left_shoulder")[:, 0] - pts(track, "right_shoulder")[:, 0]).mean()

    assert width("front") > 100 and width("side") < 0.05 * width("front")
    track, truth = simulate(view="front")
    assert truth.near_side is None and truth.yaw_deg == 90
    # Facing the camera, the lifter's left shoulder is on image right (no mirroring).
    assert (pts(track, "left_shoulder")[:, 0] > pts(track, "right_shoulder")[:, 0]).all()


def test_swaps_exchange_left_and_right():
    clean, _ = simulate()
    track, truth = simulate(swap_frac=0.1, seed=3)
    s = truth.swapped
    assert 0.08 <= s.mean() <= 0.15
    l, r = LM["left_knee"], LM["right_knee"]
    assert np.array_equal(track.image[s, l], clean.image[s, r])
    assert np.array_equal(track.visibility[s, l], clean.visibility[s, r])
    assert np.array_equal(track.image[~s], clean.image[~s])
    assert np.array_equal(track.image[:, LM["nose"]], clean.image[:, LM["nose"]])


def test_dropout_frames_are_nan_rows():
    track, truth = simulate(dropout_frac=0.1, seed=5)
    d = truth.dropped
    assert 0.08 <= d.mean() <= 0.15
    for a in (track.image, track.world, track.visibility, track.presence):
        assert np.isnan(a[d]).all() and not np.isnan(a[~d]).any()
    assert np.array_equal(track.detected, ~d) and (track.people[d] == 0).all()


def test_noise_is_gaussian_in_pixels():
    clean, _ = simulate()
    noisy, _ = simulate(noise_px=2.0, seed=1)
    assert np.std(noisy.image[..., :2] - clean.image[..., :2]) == pytest.approx(2.0, rel=0.05)


def test_partial_last_ends_mid_descent():
    p = SquatParams(partial_last=True)
    track, truth = simulate(p)
    assert truth.partial_rep and len(truth.rep_end_s) == p.reps
    assert truth.partial_start_s == pytest.approx(truth.rep_end_s[-1] + p.top_pause_s)
    k = truth.knee_flexion
    assert 20 < k[-1] < 110 and np.all(np.diff(k[-5:]) > 0)
    assert track.t[-1] < truth.partial_start_s + p.descent_s


def test_world_landmarks_are_metres_hip_centred():
    track, truth = simulate()
    w = track.world.astype(float)
    leg = (np.linalg.norm(w[:, LM["left_hip"]] - w[:, LM["left_knee"]], axis=1)
           + np.linalg.norm(w[:, LM["left_knee"]] - w[:, LM["left_ankle"]], axis=1))
    assert leg == pytest.approx(np.full(len(leg), 0.86), abs=0.01)
    mid = (w[:, LM["left_hip"]] + w[:, LM["right_hip"]]) / 2
    assert np.abs(mid).max() < 1e-5
    assert (w[0, LM["nose"], 1] < w[0, LM["left_ankle"], 1])  # y down: head above feet


def test_setup_motions_are_not_reps():
    track, truth = simulate(walk_in_s=1.5, hinge_pickup=True, bounce=True)
    setup = truth.t < truth.setup_end_s
    assert truth.trunk[setup].max() == pytest.approx(80.0, abs=0.5)
    assert truth.knee_flexion[setup].max() < 15 and truth.hip_height[setup].min() > 0.95
    assert truth.rep_start_s[0] >= truth.setup_end_s
    hip_x = pts(track, "left_hip")[:, 0]
    assert abs(hip_x[0] - hip_x[frame(truth, 1.5)]) > 0.3 * track.width
    # Bounce: thigh gives back 5 deg mid-pause, but hip height stays deep (one dip per rep).
    for bottom in truth.rep_bottom_s:
        assert truth.thigh[frame(truth, bottom)] == pytest.approx(90.0, abs=0.1)
    deep = truth.hip_height < 0.6
    assert np.sum(deep[1:] & ~deep[:-1]) == len(truth.rep_start_s)


def test_presets_and_serialisation(tmp_path):
    for name, over in PRESETS.items():
        track, truth = simulate(**over)
        assert np.isfinite(track.image).all(), name
    assert simulate(**PRESETS["shallow"])[1].thigh.max() == pytest.approx(60.0)
    track, truth = simulate(reps=1)
    d = truth.to_dict()
    assert json.loads(json.dumps(d))["params"]["reps"] == 1
    track.save(tmp_path / "sim.npz")
    back = PoseTrack.load(tmp_path / "sim.npz")
    assert np.array_equal(back.image, track.image) and back.meta["simulated"]["reps"] == 1
    with pytest.raises(FormcheckError):
        simulate(view="top")
    with pytest.raises(FormcheckError):
        simulate(no_such_param=1)


def test_preview_renders(tmp_path):
    cv2 = pytest.importorskip("cv2")
    track, truth = simulate(reps=1, lead_in_s=0.2, lead_out_s=0.2, width=240, height=320,
                            dropout_frac=0.05)
    try:
        path = render_preview(track, tmp_path / "preview.mp4", truth)
    except FormcheckError:
        pytest.skip("this OpenCV build cannot write mp4v")
    cap = cv2.VideoCapture(str(path))
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert frames == track.frames
