"""A lifter lying sideways in the picture is turned upright before analysis.

The decision logic runs on small synthetic clips through a stand-in pose
model (fast, every quarter turn); two real clips made by turning the pixels
of a shared clip, and by tagging it with a rotation, check the whole path.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import formcheck.pose.extract as extract
from formcheck.errors import FormcheckError
from formcheck.pose import extract_track
from formcheck.pose.person import Person
from formcheck.pose.orientation import tilt_deg
from clips import write_clip
from formcheck.pose.track import LM, N_LANDMARKS

REPO = Path(__file__).resolve().parent.parent
CLIP = "spotter_squat-full-squat.mp4"  # 67 frames, 480x270, the index at the front of the file


def tag_rotation_90(path: Path) -> None:
    """Write a 90-degree display matrix into the video track header (tkhd),
    as a phone does for a clip filmed upright with the sensor sideways."""
    data = bytearray(path.read_bytes())
    box = data.find(b"tkhd") - 4
    matrix = box + (60 if data[box + 8] == 1 else 48)  # version 1 has 64-bit times
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(data)


# ---------------------------------------------------------------- the measure

def _figure(up: tuple[float, float], feet: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks in pixels of a person whose head points along `up`."""
    d = np.array(up, dtype=np.float32)
    centre = np.array([320.0, 240.0])
    image = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
    vis = np.zeros(N_LANDMARKS, dtype=np.float32)
    parts = {"shoulder": 150, "hip": 0, "knee": -80}
    if feet:
        parts["ankle"] = -160
    for part, along in parts.items():
        for side, across in (("left", -20), ("right", 20)):
            image[LM[f"{side}_{part}"], :2] = centre + along * d + across * np.array([-d[1], d[0]])
            image[LM[f"{side}_{part}"], 2] = 0
            vis[LM[f"{side}_{part}"]] = 0.9
    return image, vis


@pytest.mark.parametrize("up, expected", [((0, -1), 0), ((1, 0), 90), ((-1, 0), 90), ((0, 1), 180),
                                          ((0.5, -0.866), 30)])
def test_tilt_is_the_angle_from_straight_up(up, expected):
    assert tilt_deg(*_figure(up)) == pytest.approx(expected, abs=0.5)
    assert tilt_deg(*_figure(up, feet=False)) == pytest.approx(expected, abs=0.5)  # knees stand in


def test_tilt_without_a_person_is_nan():
    image, vis = _figure((0, -1))
    image[:] = np.nan
    assert np.isnan(tilt_deg(image, vis))


# ---------------------------------------------------------------- the decision, with a stand-in model

class HeadTowardsBrightSide:
    """Stands in for the pose model: 'sees' a person whose head points to the
    brightest edge of the frame, or nobody in a grey frame. So a synthetic
    clip says where the head is, and turning it moves the head like a real
    turned picture."""

    def __init__(self, lying_always: bool = False):
        self.lying_always = lying_always
        self.calls = 0

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list[Person]:
        self.calls += 1
        grey = rgb.mean(axis=2)
        h, w = grey.shape
        edges = {(0, -1): grey[: h // 4].mean(), (0, 1): grey[-h // 4:].mean(),
                 (-1, 0): grey[:, : w // 4].mean(), (1, 0): grey[:, -w // 4:].mean()}
        up = max(edges, key=edges.get)
        if edges[up] - min(edges.values()) < 50:
            return []
        if self.lying_always:
            up = (1, 0)
        image, vis = _figure(up)
        image[:, 0] /= w
        image[:, 1] /= h
        image = np.nan_to_num(image, nan=0.5)
        return [Person(image=image, visibility=vis, presence=vis, world=np.zeros((N_LANDMARKS, 3), np.float32))]

    def close(self) -> None:
        pass


def _bright_side_clip(tmp_path: Path, side: str, n: int = 30) -> Path:
    frames = []
    for _ in range(n):
        bgr = np.full((96, 128, 3), 30, np.uint8)
        if side == "top":
            bgr[:24] = 230
        elif side == "bottom":
            bgr[-24:] = 230
        elif side == "left":
            bgr[:, :32] = 230
        elif side == "right":
            bgr[:, -32:] = 230
        frames.append(bgr)
    return write_clip(tmp_path / f"{side}.mp4", frames)


@pytest.mark.parametrize("side, turn", [("top", 0), ("left", 90), ("bottom", 180), ("right", 270)])
def test_every_quarter_turn_is_found(tmp_path, monkeypatch, capsys, side, turn):
    model = HeadTowardsBrightSide()
    monkeypatch.setattr(extract, "backend_for", lambda *a, **k: model)
    track = extract_track(_bright_side_clip(tmp_path, side), use_cache=False, quiet=True)
    assert track.meta.get("turn", 0) == turn
    assert track.frames == 30 and track.detected.all()
    # Upright in the turned picture: shoulders above the ankles on every frame.
    assert (track.image[:, LM["left_shoulder"], 1] < track.image[:, LM["left_ankle"], 1]).all()
    np.testing.assert_allclose(track.t, np.arange(30) / 30, atol=1e-3)  # the file's own clock
    w, h = (128, 96) if turn in (0, 180) else (96, 128)
    assert (track.width, track.height) == (w, h)
    err = capsys.readouterr().err
    assert ("turned" in err) == bool(turn), err
    if turn == 0:
        assert model.calls == 30, "an upright clip costs no extra inference"
    else:
        # The first run stops after a few frames; a few probes; then one whole run.
        assert model.calls < 30 + 15 + 2 * 4 * 5 + 1


def test_a_person_lying_in_every_orientation_is_a_clear_error(tmp_path, monkeypatch):
    model = HeadTowardsBrightSide(lying_always=True)
    monkeypatch.setattr(extract, "backend_for", lambda *a, **k: model)
    with pytest.raises(FormcheckError, match="not upright in any orientation"):
        extract_track(_bright_side_clip(tmp_path, "top"), use_cache=False, quiet=True)


def test_nobody_in_any_orientation_stays_an_empty_track(tmp_path, monkeypatch):
    model = HeadTowardsBrightSide()
    monkeypatch.setattr(extract, "backend_for", lambda *a, **k: model)
    track = extract_track(_bright_side_clip(tmp_path, "none"), use_cache=False, quiet=True)
    assert track.frames == 30 and not track.detected.any() and "turn" not in track.meta


# ---------------------------------------------------------------- real clips

def _decoded(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def upright_reference(videos):
    from formcheck.analyze import analyze_track

    track = extract_track(videos / CLIP, quiet=True)
    return track, analyze_track(track)


def _run_analyze(tmp_path: Path, clip: Path) -> tuple[subprocess.CompletedProcess, dict]:
    import json

    env = {**os.environ, "FORMCHECK_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(clip), "--quiet",
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    return res, json.loads((tmp_path / "out" / "report.json").read_text())


@pytest.mark.real
@pytest.mark.parametrize("how", ["pixels", "tag"])
def test_sideways_real_clip_is_analysed_upright(tmp_path, videos, upright_reference, how):
    from formcheck.pose import PoseTrack

    frames = _decoded(videos / CLIP)
    if how == "pixels":  # sideways pixels, no tag: a camera that did not record its rotation
        clip = write_clip(tmp_path / "sideways.mp4", [cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in frames])
    else:  # upright pixels with a wrong rotate=90 tag: the player turns it sideways
        clip = write_clip(tmp_path / "tagged.mp4", frames)
        tag_rotation_90(clip)
    res, report = _run_analyze(tmp_path, clip)
    assert "formcheck: note: the lifter was lying sideways in the picture: the video was turned " \
           "90 degrees counter-clockwise" in res.stderr
    assert any("turned" in w for w in report["warnings"])
    track = PoseTrack.load(tmp_path / "out" / "report_pose.npz")
    ref_track, ref = upright_reference
    assert (track.width, track.height) == (ref_track.width, ref_track.height)
    np.testing.assert_allclose(track.t, ref_track.t, atol=1e-3)  # timestamps unchanged
    assert report["view"]["kind"] == "side"
    assert report["rep_count"] == len(ref.complete_reps)
    lean = [r["metrics"]["trunk_lean_max"]["value"] for r in report["reps"] if not r["partial"]]
    ref_lean = [r.metrics["trunk_lean_max"].value for r in ref.complete_reps]
    np.testing.assert_allclose(lean, ref_lean, atol=5.0)  # degrees; re-encoding moves points a little


def test_a_sideways_track_cached_by_an_earlier_version_is_redone(tmp_path, monkeypatch):
    from formcheck.pose import PoseTrack
    from formcheck.pose.run import READ_CHECKS
    from formcheck.pose.cache import cache_dir

    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    model = HeadTowardsBrightSide()
    monkeypatch.setattr(extract, "backend_for", lambda *a, **k: model)
    clip = _bright_side_clip(tmp_path, "left")
    assert extract_track(clip, quiet=True).meta["turn"] == 90
    (entry,) = cache_dir().glob("*.npz")
    # What an earlier version cached: the lifter lying, no checks recorded.
    lying = PoseTrack.load(entry)
    lying.image[:, :, :2] = lying.image[:, :, 1::-1] * [1, 0.75]
    del lying.meta[READ_CHECKS], lying.meta["turn"]
    lying.save(entry)
    calls = model.calls
    assert extract_track(clip, quiet=True).meta["turn"] == 90
    assert model.calls > calls, "a lying cached track is a miss"
