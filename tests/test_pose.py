"""Pose layer on real clips with the real model, and every bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from formcheck.errors import FormcheckError
from formcheck.media.model import default_model_path, file_sha256, resolve_model
from formcheck.pose import PoseSettings, PoseTrack, extract_track
from formcheck.media.quiet import native_stderr_silenced
from formcheck.pose.blazepose import LiteRTBackend
from formcheck.media.video import VideoSource

MODEL_SHA256 = "e5893a46decface1607e5719f6588055d3f3ff6dc0c678373a1a6934ec663ec6"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def test_bundled_model_is_found_and_is_the_documented_file():
    path = default_model_path()
    assert path.is_file()
    assert file_sha256(str(path)) == MODEL_SHA256
    readme = (Path(__file__).resolve().parent.parent / "models" / "README.md").read_text()
    assert MODEL_SHA256 in readme


@pytest.mark.parametrize("clip", ["evk_good_side01.mp4", "dnly09_gf_1_goodform.mp4", "kham_perfect_demo.mp4"])
def test_tracks_from_real_clips(real_track, videos, clip):
    track = real_track(clip)
    with VideoSource(videos / clip) as src:
        decoded = sum(1 for _ in src.frames())
        width, height = src.width, src.height
    assert track.frames == decoded
    assert (track.width, track.height) == (width, height)
    assert np.all(np.diff(track.t) > 0), "timestamps must increase strictly"
    assert track.image.shape == (track.frames, 33, 3) and track.world.shape == (track.frames, 33, 3)
    assert track.detected.mean() > 0.9, "the lifter is visible throughout these clips"
    # Image landmarks are pixels of the upright frame, world landmarks metres.
    hips = track.image[track.detected][:, [23, 24], :2]
    assert np.nanmedian(hips[..., 0]) < width and np.nanmedian(hips[..., 1]) < height
    leg = np.linalg.norm(track.world[:, 23] - track.world[:, 27], axis=1)
    assert 0.5 < np.nanmedian(leg) < 1.2


def test_portrait_rotation_is_applied(real_track, videos):
    """kham_perfect_demo.mp4 is stored landscape with a 90-degree rotation flag."""
    track = real_track("kham_perfect_demo.mp4")
    assert track.height > track.width
    head = track.image[track.detected][:, 0, 1]
    feet = track.image[track.detected][:, [27, 28], 1].mean(axis=1)
    assert np.nanmedian(head) < np.nanmedian(feet), "an upright person has the head above the feet"


def test_cache_hit_runs_no_inference(tmp_path, monkeypatch, videos):
    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    clip = videos / "dnly09_gf_1_goodform.mp4"
    with LiteRTBackend() as backend:
        first = extract_track(clip, backend=backend, quiet=True)
        calls = backend.calls
        assert calls == first.frames
        second = extract_track(clip, backend=backend, quiet=True)
        assert backend.calls == calls, "the second run must come from the cache"
    np.testing.assert_array_equal(first.image, second.image)
    # Other settings are another cache entry.
    with LiteRTBackend(masks=True) as backend:
        masked = extract_track(clip, backend=backend, settings=PoseSettings(masks=True), quiet=True)
        assert backend.calls == masked.frames
    assert masked.masks is not None and masked.masks.shape[0] == masked.frames
    assert masked.masks.max() > 0


def test_track_roundtrip(tmp_path, real_track):
    track = real_track("evk_good_side01.mp4")
    track.save(tmp_path / "t.npz")
    back = PoseTrack.load(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.image, track.image)
    np.testing.assert_array_equal(back.t, track.t)
    assert (back.fps, back.width, back.height) == (track.fps, track.width, track.height)


def test_pose_command_writes_track_and_summary(tmp_path, videos):
    out = tmp_path / "track.npz"
    res = run_cli("pose", str(videos / "dnly09_gf_1_goodform.mp4"), "-o", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "87 frames" in res.stdout and "person in 100% of frames" in res.stdout
    assert PoseTrack.load(out).frames == 87


def test_help_and_version():
    assert run_cli("--version").stdout.startswith("formcheck ")
    res = run_cli("--help")
    assert res.returncode == 0 and "analyze" in res.stdout and "pose" in res.stdout


def _bad(tmp_path: Path, videos: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nope.mp4"
    if kind == "directory":
        return tmp_path
    if kind == "text":
        p = tmp_path / "notes.mp4"
        p.write_text("this is not a video\n")
        return p
    if kind == "truncated":
        data = (videos / "evk_good_side01.mp4").read_bytes()
        p = tmp_path / "cut.mp4"
        p.write_bytes(data[: len(data) // 2])
        return p
    if kind == "zero_frames":
        import av

        p = tmp_path / "empty.mp4"
        with av.open(str(p), "w") as out:
            stream = out.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        return p
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "directory", "text", "truncated", "zero_frames"])
def test_bad_video_gives_one_line_error(tmp_path, videos, kind):
    res = run_cli("pose", str(_bad(tmp_path, videos, kind)), "-o", str(tmp_path / "x.npz"), "--no-cache")
    assert res.returncode != 0
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("formcheck: error:"), res.stderr
    assert "Traceback" not in res.stderr


def _wall_clip(path: Path) -> Path:
    """30 frames of a plain wall: a video without a person."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(30):
            img = np.full((120, 160, 3), 90 + i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_video_without_person_is_bad_input(tmp_path):
    """Exit 2 with one line, like any other bad input, so a script can tell
    it from a success; no track or report file that could pass for a result."""
    clip = _wall_clip(tmp_path / "wall.mp4")
    cache = {**os.environ, "FORMCHECK_CACHE": str(tmp_path / "cache")}
    for command in (["pose", str(clip), "-o", str(tmp_path / "t.npz")],
                    ["analyze", str(clip), "--out", str(tmp_path / "report"), "--json", str(tmp_path / "r.json")]):
        res = run_cli(*command, env=cache)
        assert res.returncode == 2, res.stderr
        lines = [l for l in res.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"formcheck: error: no person found in {clip}"), res.stderr
        assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "wall.mp4"]
    # The empty track is still what the pose layer returns (and caches).
    track = extract_track(clip, quiet=True, use_cache=False)
    assert track.frames == 30 and np.isnan(track.image).all()


@pytest.mark.parametrize("kind", ["missing", "not_a_bundle", "corrupt_bundle"])
def test_bad_model_gives_one_line_error(tmp_path, videos, kind):
    model = tmp_path / "model.task"
    if kind == "not_a_bundle":
        model.write_text("hello")
    elif kind == "corrupt_bundle":
        model.write_bytes(default_model_path().read_bytes()[:3_000_000])
    res = run_cli("pose", str(videos / "dnly09_gf_1_goodform.mp4"), "--model", str(model), "--no-cache",
                  "-o", str(tmp_path / "x.npz"))
    assert res.returncode == 2
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and str(model) in lines[0], res.stderr


def test_resolve_model_errors_name_the_path(tmp_path):
    with pytest.raises(FormcheckError, match=str(tmp_path / "x.task")):
        resolve_model(tmp_path / "x.task")


def test_model_found_from_regular_install(tmp_path):
    """A non-editable `pip install .` ships the model as package data."""
    repo = Path(__file__).resolve().parent.parent
    target = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                          "--target", str(target), "-q", str(repo)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {res.stderr.strip().splitlines()[-1:]}")
    code = ("import formcheck.media.model as m; p = m.default_model_path(); "
            "print(p); assert p.is_file(); assert 'site' in str(p)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr


def test_malformed_track_file_is_one_line_error(tmp_path, real_track):
    track = real_track("dnly09_gf_1_goodform.mp4")
    track.save(tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["t"] = arrays["t"][:-1]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(FormcheckError, match="not a formcheck pose track"):
        PoseTrack.load(tmp_path / "short.npz")
    res = run_cli("analyze", str(tmp_path / "short.npz"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1


@pytest.mark.real
def test_native_chatter_hidden_and_shown_with_verbose(tmp_path, videos):
    """MediaPipe's INFO/W lines (and FFmpeg's) stay off stderr unless -v asks."""
    env = {**os.environ, "FORMCHECK_CACHE": str(tmp_path / "cache")}
    env.pop("FORMCHECK_DEBUG", None)
    env.pop("FORMCHECK_VERBOSE", None)
    clip = str(videos / "dnly09_gf_1_goodform.mp4")
    res = run_cli("analyze", clip, "--no-cache", "--quiet", env=env)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert re.search(r"\d+ reps?\b", res.stdout)
    res = run_cli("analyze", clip, "--no-cache", "--quiet", "--verbose", env=env)
    assert res.returncode == 0
    assert "XNNPACK" in res.stderr or "W0000" in res.stderr or "I0000" in res.stderr, res.stderr


def test_python_messages_still_show_while_native_stderr_is_silenced(tmp_path):
    """Inside a silenced call fd 2 goes nowhere, but Python's stderr (our
    warnings, the progress bar) still reaches the terminal."""
    code = ("import os, sys\n"
            "from formcheck.media.quiet import native_stderr_silenced\n"
            "with native_stderr_silenced():\n"
            "    os.write(2, b'native chatter\\n')\n"
            "    print('our warning', file=sys.stderr)\n"
            "    with native_stderr_silenced():\n"
            "        os.write(2, b'nested chatter\\n')\n"
            "os.write(2, b'after\\n')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("FORMCHECK_DEBUG", "FORMCHECK_VERBOSE")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.stderr.splitlines() == ["our warning", "after"], res.stderr
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "FORMCHECK_VERBOSE": "1"})
    assert res.stderr.splitlines() == ["native chatter", "our warning", "nested chatter", "after"]


def _cut(videos: Path, tmp_path: Path) -> Path:
    # This clip has its index at the front, so a cut file still opens and
    # plays up to the cut, as an interrupted copy or upload does.
    data = (videos / "spotter_squat-full-squat.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:30_000])
    return path


@pytest.mark.real
def test_truncated_video_is_analysed_with_one_plain_warning(tmp_path, videos):
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("FORMCHECK_DEBUG", "FORMCHECK_VERBOSE")}
    env["FORMCHECK_CACHE"] = str(tmp_path / "cache")
    clip = _cut(videos, tmp_path)
    warning = "formcheck: warning: the video ends early at 0.9 s of 2.2 s: the file looks truncated"
    res = run_cli("analyze", str(clip), "--quiet", "--json", str(tmp_path / "r.json"), env=env)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert lines[0] == warning and not any(l.startswith("[") for l in lines), res.stderr  # no raw FFmpeg lines
    report = json.loads((tmp_path / "r.json").read_text())
    with VideoSource(clip) as src:  # what this FFmpeg can decode of the cut file (27 frames with PyAV 19)
        decodable = sum(1 for _ in src.frames())
    assert decodable >= 25 and report["video"]["frames"] == decodable  # everything decoded is kept and analysed
    assert any("the file looks truncated" in w for w in report["warnings"])
    # From the cache too: the warning lives in the track.
    res = run_cli("analyze", str(clip), "--quiet", env=env)
    assert res.stderr.splitlines()[0] == warning
    # -v shows the decoder's own complaints.
    res = run_cli("analyze", str(clip), "--quiet", "--no-cache", "--verbose", env=env)
    assert "Invalid NAL unit size" in res.stderr or "partial file" in res.stderr, res.stderr


@pytest.mark.parametrize("clip", ["hackdartmouth_squat.mp4", "spotme_test_bad5.mp4", "evk_good_side01.mp4"])
def test_whole_videos_are_not_called_truncated(videos, clip):
    """Variable-frame-rate phone clips state far more frames than they hold
    (hackdartmouth: 159 stated, 86 decoded): only the stated duration counts."""
    with VideoSource(videos / clip) as src:
        for _ in src.frames():
            pass
        assert src.truncation() is None, (src.decoded_s, src.stated_s)


def test_cut_video_is_called_truncated(tmp_path, videos):
    with VideoSource(_cut(videos, tmp_path)) as src:
        frames = sum(1 for _ in src.frames())
        decoded, stated = src.truncation()
    # 27 frames with PyAV 19's FFmpeg, 26 with PyAV 15's: the last partial frame is a decoder's call.
    assert frames in (26, 27) and decoded == pytest.approx(frames / 30, abs=0.01) and decoded < 0.95
    assert stated == pytest.approx(2.233, abs=0.01)


@pytest.mark.real
def test_tracks_cached_before_the_reading_checks_are_checked_without_inference(tmp_path, monkeypatch, videos):
    from formcheck.pose.run import READ_CHECKS
    from formcheck.pose.cache import cache_dir

    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    clip = _cut(videos, tmp_path)
    fresh = extract_track(clip, quiet=True, warn=False)
    assert fresh.meta["truncated"]["decoded_s"] == pytest.approx(0.9, abs=0.04)  # 26 or 27 frames (decoder)
    (entry,) = cache_dir().glob("*.npz")
    old = PoseTrack.load(entry)  # as an earlier version cached it: no checks, no warning
    del old.meta[READ_CHECKS], old.meta["truncated"]
    old.save(entry)

    class NoInference:
        def detect(self, rgb, timestamp_ms):
            raise AssertionError("the cached track must be reused")

    again = extract_track(clip, quiet=True, warn=False, backend=NoInference())
    assert again.meta["truncated"] == fresh.meta["truncated"] and again.meta[READ_CHECKS] == 1
    assert PoseTrack.load(entry).meta[READ_CHECKS] == 1  # saved back, checked once


# ---------------------------------------------------------------- the LiteRT pipeline

def test_detector_anchors_follow_the_ssd_layout():
    from formcheck.pose.blazepose import anchors

    a = anchors()
    assert a.shape == (2254, 2)  # 28x28x2 + 14x14x2 + 7x7x6
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1], a[0])  # two anchors per cell
    np.testing.assert_allclose(a[28 * 28 * 2], [0.5 / 14, 0.5 / 14])
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_a_region_crop_and_its_projection_agree():
    """A point drawn in the frame lands where the crop says, and back."""
    import cv2

    from formcheck.pose.blazepose import Region

    region = Region.from_points(np.array([200.0, 150.0]), np.array([230.0, 60.0]))  # a body leaning right
    frame = np.zeros((300, 400), np.float32)
    spot = region.to_image(np.array([0.3, 0.7]))
    cv2.circle(frame, (int(round(spot[0])), int(round(spot[1]))), 3, 1.0, -1)
    crop = cv2.warpAffine(frame, region.crop_matrix(256), (256, 256), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    y, x = np.unravel_index(np.argmax(crop), crop.shape)
    assert abs(x / 256 - 0.3) < 0.02 and abs(y / 256 - 0.7) < 0.02
    assert abs(region.size - 2 * np.hypot(30, 90) * 1.25) < 1e-6


def test_the_heatmap_moves_a_landmark_to_its_confident_peak():
    from formcheck.pose.blazepose import refine_with_heatmap

    heat = np.full((64, 64, 39), -10.0, np.float32)
    heat[20, 30, 0] = 10.0  # landmark 0 is sure it sits at column 30, row 20
    uv = np.full((39, 2), 0.5)
    uv[0] = [31.5 / 64, 21.5 / 64]
    out = refine_with_heatmap(uv, heat)
    np.testing.assert_allclose(out[0], [30 / 64, 20 / 64], atol=1e-3)
    np.testing.assert_allclose(out[1:], uv[1:])  # no confident cell near them: left alone


@pytest.mark.real
@pytest.mark.reference
def test_litert_pipeline_reproduces_mediapipes_per_frame_landmarks(videos):
    """With the detector on every frame, MediaPipe's IMAGE mode runs the same
    models through the same steps: our landmarks must match its to a fraction
    of a percent of the torso (it is the reference, VIDEO mode adds its own
    tracking and smoothing)."""
    pytest.importorskip("mediapipe", reason="needs the mediapipe extra")
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from formcheck.media.model import resolve_model


    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(resolve_model(None))),
                                           running_mode=vision.RunningMode.IMAGE, num_poses=1)
    dist, same_presence = [], []
    with native_stderr_silenced():
        reference = vision.PoseLandmarker.create_from_options(options)
    with reference, LiteRTBackend(max_people=1) as ours, VideoSource(videos / "evk_lean_side01.mp4") as src:
        for frame in src.frames():
            rgb = cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB)
            a = ours.detect(rgb, 0)
            b = reference.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)).pose_landmarks
            same_presence.append(bool(a) == bool(b))  # a score right at a threshold may fall either way
            if a and b:
                pa = a[0].image[:, :2] * [src.width, src.height]
                pb = np.array([(q.x, q.y) for q in b[0]]) * [src.width, src.height]
                torso = np.linalg.norm(pb[[11, 12]].mean(0) - pb[[23, 24]].mean(0))
                dist.append(np.linalg.norm(pa - pb, axis=1) / torso)
    dist = np.array(dist)
    assert np.mean(same_presence) >= 0.95 and len(dist) > 50
    assert np.median(dist) < 0.005 and np.percentile(dist, 95) < 0.02


def test_people_apart_stay_apart_and_one_persons_boxes_merge():
    from formcheck.pose.blazepose import weighted_nms

    boxes = np.array([[0.1, 0.1, 0.4, 0.9], [0.12, 0.1, 0.42, 0.9], [0.6, 0.1, 0.9, 0.9]], np.float32)
    keypoints = np.array([np.full((4, 2), 0.25), np.full((4, 2), 0.27), np.full((4, 2), 0.75)], np.float32)
    people = weighted_nms(boxes, keypoints, np.array([0.9, 0.6, 0.8], np.float32))
    assert [round(s, 2) for s, _, _ in people] == [0.9, 0.8]
    np.testing.assert_allclose(people[0][1], np.full((4, 2), 0.25 * 0.6 + 0.27 * 0.4), atol=1e-6)
    np.testing.assert_allclose(people[1][1], np.full((4, 2), 0.75))


@pytest.mark.real
def test_every_person_the_detector_finds_is_read(videos):
    """Two lifters side by side (frames of two clips): each region the
    detector gives is read by the landmark model, so both people come back."""
    import cv2

    from formcheck.pose.blazepose import LiteRTBackend, Region

    frames = []
    for clip in ("spotme_train_good4.mp4", "kham_perfect_demo.mp4"):
        with VideoSource(videos / clip) as src:
            f = cv2.cvtColor(next(src.frames()).bgr, cv2.COLOR_BGR2RGB)
        frames.append(cv2.resize(f, (f.shape[1] * 480 // f.shape[0], 480)))
    pair = np.hstack(frames)
    with LiteRTBackend(max_people=3) as backend:
        regions = []
        for offset, frame in zip((0, frames[0].shape[1]), frames):
            ((_, r),) = backend.detect_people(frame)  # each alone: one person
            regions.append(Region(r.cx + offset, r.cy, r.size, r.rotation))
        backend.detect_people = lambda rgb: [(1.0, r) for r in regions]  # as a detector seeing both would
        people = backend.detect(pair, 0)
    assert len(people) == 2
    hips = sorted(float(p.image[[23, 24], 0].mean()) for p in people)
    split = frames[0].shape[1] / pair.shape[1]
    assert hips[0] < split < hips[1]  # one on each clip's side of the picture


@pytest.mark.real
def test_detecting_every_few_frames_follows_the_person_in_between(videos):


    calls = {"detector": 0}

    class Counting(LiteRTBackend):
        def detect_people(self, rgb):
            calls["detector"] += 1
            return super().detect_people(rgb)

    import cv2

    with VideoSource(videos / "evk_lean_side01.mp4") as src:
        frames = [cv2.cvtColor(f.bgr, cv2.COLOR_BGR2RGB) for f in src.frames()]
    with Counting(detect_every=3) as sparse, LiteRTBackend() as dense:
        found = [(len(sparse.detect(f, 0)), len(dense.detect(f, 0))) for f in frames]
    assert calls["detector"] <= len(frames) // 3 + 5  # re-detection only when someone is lost
    assert sum(s for s, _ in found) >= 0.95 * sum(d for _, d in found)
