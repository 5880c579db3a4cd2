"""What a new user may feed `formcheck analyze`, each with its outcome: a
clear one-line error and exit 2 for bad input, a normal report otherwise,
and nothing lost or half-written either way (docs/robustness.md lists them).

Clips here are small: synthetic videos made in tmp dirs, or links to the
shortest shared clips, whose pose tracks come from the cache after the
first run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from clips import write_clip
from formcheck.pose import extract_track
from formcheck.media.video import VideoSource

REPO = Path(__file__).resolve().parent.parent
SHORT = "dnly09_gf_1_goodform.mp4"  # 87 frames, one rep


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def one_error_line(res: subprocess.CompletedProcess) -> str:
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("formcheck: error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def _bad_input(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nope.mp4"
    if kind == "directory":
        (tmp_path / "clips").mkdir()
        return tmp_path / "clips"
    if kind == "not_a_video":
        (tmp_path / "notes.mp4").write_text("this is not a video\n")
        return tmp_path / "notes.mp4"
    if kind == "random_bytes":
        (tmp_path / "noise.mov").write_bytes(np.random.default_rng(0).bytes(20_000))
        return tmp_path / "noise.mov"
    if kind == "header_only":  # the container's index, cut before the first frame's data
        import shared_data

        data = (shared_data.path("videos") / "spotter_squat-full-squat.mp4").read_bytes()
        (tmp_path / "header.mp4").write_bytes(data[: data.find(b"mdat") + 4])
        return tmp_path / "header.mp4"
    if kind == "empty_file":
        (tmp_path / "zero.mp4").write_bytes(b"")
        return tmp_path / "zero.mp4"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, message", [
    ("missing", "no such file"), ("directory", "expected a video file, got a directory"),
    ("not_a_video", "cannot read video"), ("random_bytes", "cannot read video"),
    ("header_only", "video has no readable frames"), ("empty_file", "cannot read video"),
])
def test_bad_video_is_one_line_exit_2_and_writes_nothing(tmp_path, kind, message):
    video = _bad_input(tmp_path, kind)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = run_cli("analyze", str(video), "--out", str(tmp_path / "report"), "--no-cache",
                  env={"FORMCHECK_CACHE": str(tmp_path / ".cache")})
    assert res.returncode == 2
    assert message in one_error_line(res)
    assert res.stdout == ""
    assert not (tmp_path / "report").exists()
    assert sorted(p.name for p in tmp_path.rglob("*") if not p.name.startswith(".cache")) == before


HOSTILE_NAMES = [
    "my set; $(touch pwned) 'quoted\".mp4",  # shell syntax: never run, just a name
    "-v.mp4",  # looks like an option (after `--`)
    "Übung_スクワット_🏋.mp4",  # non-ASCII and an emoji
    "line\nbreak.mp4",
    "  spaces  .MP4",
]


@pytest.mark.real
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_and_unicode_file_names(tmp_path, videos, name):
    (tmp_path / name).symlink_to(videos / SHORT)
    out = tmp_path / f"out {name}"
    res = run_cli("analyze", "--quiet", "--out", str(out), "--", name, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "pwned").exists()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["rep_count"] == 1 and Path(report["video"]["path"]).name == name
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report_pose.npz",
                                                     "report_reps.csv"]


@pytest.mark.real
@pytest.mark.parametrize("option, message", [
    (["--json", "{file}/r.json"], "is a file, not a folder"),
    (["--csv", "{file}/sub/r.csv"], "is a file, not a folder"),
    (["--out", "{file}"], "--out must be a folder"),
    (["--json", "{ro}/r.json"], "cannot write"),
])
def test_unwritable_output_is_one_line_exit_2(tmp_path, videos, option, message):
    (tmp_path / "a_file").write_text("in the way")
    ro = tmp_path / "read_only"
    ro.mkdir()
    ro.chmod(0o500)
    if option[1].startswith("{ro}") and os.access(ro, os.W_OK):
        pytest.skip("running as a user who may write anywhere (root): a read-only folder is not read-only")
    args = [a.format(file=tmp_path / "a_file", ro=ro) for a in option]
    res = run_cli("analyze", str(videos / SHORT), "--quiet", *args)
    assert res.returncode == 2
    assert message in one_error_line(res)
    assert (tmp_path / "a_file").read_text() == "in the way"
    assert not list(tmp_path.rglob("*.part"))  # no half-written temp file left


# ---------------------------------------------------------------- unusual but valid videos

def _person_frames(videos: Path, n: int | None = None) -> list[np.ndarray]:
    import av

    with av.open(str(videos / "spotter_squat-full-squat.mp4")) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    return frames[:n] if n else frames


@pytest.mark.real
def test_two_people_analyses_one_and_says_so(tmp_path, videos):
    # The lifter beside a mirror image of themselves: two people in every frame.
    frames = [np.hstack([f, cv2.flip(f, 1)]) for f in _person_frames(videos)]
    clip = write_clip(tmp_path / "two.mp4", frames, 30)
    res = run_cli("analyze", str(clip), "--quiet", "--json", str(tmp_path / "r.json"),
                  env={"FORMCHECK_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    people = report["people"]  # the report says who else was in view, and whom it is about
    assert people["seen"] == 2 and people["sentence"].startswith("2 people in view, both squat; analysed person")
    assert {p["where"] for p in people["people"]} == {"on the left", "on the right"}
    assert report["rep_count"] == 1  # the same single rep as the clip with one person


@pytest.mark.parametrize("fps", [10, 240])
def test_extreme_frame_rates_keep_their_clock(tmp_path, fps):
    """Timestamps come from the container at any rate (the analysis itself
    is checked at 10 and 240 fps on synthetic tracks in test_robustness)."""
    frames = [np.full((48, 64, 3), (i * 5) % 255, np.uint8) for i in range(48)]
    clip = write_clip(tmp_path / f"{fps}.mp4", frames, fps)
    with VideoSource(clip) as src:
        t = np.array([f.t for f in src.frames()])
        assert src.fps == pytest.approx(fps, rel=0.01)
        assert src.truncation() is None
    assert len(t) == 48
    np.testing.assert_allclose(np.diff(t), 1 / fps, rtol=0.05)


@pytest.mark.real
def test_4k_video_gives_landmarks_in_4k_pixels(tmp_path, videos):
    # Ten frames only: decoding and encoding 4K is what costs, not the model
    # (which sees a downscaled image either way). A whole 4K clip streams
    # one frame at a time, so memory does not grow with its length.
    frames = [cv2.resize(f, (3840, 2160), interpolation=cv2.INTER_LINEAR) for f in _person_frames(videos)[20:30]]
    clip = write_clip(tmp_path / "4k.mp4", frames, 30)
    track = extract_track(clip, use_cache=False, quiet=True)
    assert (track.width, track.height) == (3840, 2160) and track.frames == 10
    assert track.detected.mean() >= 0.8
    hips = track.image[track.detected][:, [23, 24], 0]
    small = extract_track(videos / "spotter_squat-full-squat.mp4", quiet=True)
    # The same person at 8x the pixels: hip x scales with the frame.
    np.testing.assert_allclose(np.nanmedian(hips) / 3840,
                               np.nanmedian(small.image[20:30][:, [23, 24], 0]) / 480, atol=0.02)


@pytest.mark.real
def test_ctrl_c_in_analyze_exits_130_and_leaves_nothing_half_made(tmp_path, videos):
    import signal
    import time

    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FORMCHECK_CACHE": str(cache)}
    proc = subprocess.Popen([sys.executable, "-m", "formcheck", "analyze", str(videos / "joelo_landmine_squat.mp4"),
                             "--no-cache", "--out", str(tmp_path / "out")],  # 544 frames: inference takes a while
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            # Ctrl-C as at a terminal, even when the tests run in a background job
                            # (which starts its children with SIGINT ignored).
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(4.0)  # model loaded, inference under way
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "formcheck: interrupted" and "Traceback" not in stderr
    assert not (tmp_path / "out").exists() and not cache.exists()
