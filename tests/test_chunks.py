"""One clip in time chunks on several cores gives the one-process track."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clips import write_clip
from formcheck.pose import chunks
from formcheck.pose.run import PoseSettings, run_pose
from formcheck.pose.track import PoseTrack
from formcheck.media.video import VideoSource, sample_stride

REPO = Path(__file__).resolve().parent.parent


# -- cutting and joining ----------------------------------------------------------

def test_a_clip_is_cut_in_equal_stretches_that_cover_it_all():
    plan = chunks.plan(first_t=0.5, duration_s=12.0, workers=3)
    assert [c.start_s for c in plan] == [None, 4.5, 8.5]
    assert [c.stop_s for c in plan] == [4.5, 8.5, None]  # each ends where the next begins
    assert len(chunks.plan(0.0, 12.0, workers=1)) == 1


def test_no_stretch_is_shorter_than_a_worker_is_worth():
    assert len(chunks.plan(0.0, 2 * chunks.MIN_CHUNK_S - 0.1, workers=8)) == 1
    assert len(chunks.plan(0.0, 3 * chunks.MIN_CHUNK_S, workers=8)) == 3
    assert len(chunks.plan(0.0, 0.0, workers=2)) == 1  # a clip of unknown length runs whole


def _track(t: list[float], first_frame: int = 0) -> PoseTrack:
    """Rows 0.1 s apart, each telling its time; file frames numbered from `first_frame`."""
    track = PoseTrack.empty(len(t), 30.0, 64, 48)
    track.t = np.asarray(t, dtype=np.float64)
    track.image[:] = np.asarray(t, dtype=np.float32)[:, None, None]
    track.people = np.ones(len(t), dtype=np.int8)
    track.meta["source_frames"] = list(range(first_frame, first_frame + len(t)))
    return track


def test_joining_drops_each_chunks_warm_up_frames():
    first = _track([0.0, 0.1, 0.2, 0.3])
    # Started before the cut at 0.35, to warm up; its frame numbers count from its seek point.
    second = _track([0.2, 0.3, 0.4, 0.5], first_frame=0)
    whole = chunks.join([first, second])
    assert whole.t.tolist() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert whole.image[:, 0, 0].tolist() == pytest.approx(whole.t.tolist())
    assert whole.people.tolist() == [1] * 6
    assert whole.meta["source_frames"] == [0, 1, 2, 3, 4, 5]  # counted from the file's start again


def test_chunks_that_do_not_line_up_are_not_joined():
    with pytest.raises(chunks.Mismatch):  # the second chunk did not reach back to 0.3 s
        chunks.join([_track([0.0, 0.1, 0.2, 0.3]), _track([0.4, 0.5])])
    with pytest.raises(chunks.Mismatch):
        chunks.join([_track([0.0, 0.1]), _track([])])


# -- reading a stretch of a file ----------------------------------------------------

def _numbered(path: Path, n: int = 90) -> Path:
    """Frame k shows its ones in the grey of its top half and its tens in
    the bottom half, in steps of 20 that survive compression (30 fps)."""
    frames = []
    for k in range(n):
        img = np.empty((48, 64, 3), np.uint8)
        img[:24], img[24:] = 40 + 20 * (k % 10), 40 + 20 * (k // 10)
        frames.append(img)
    return write_clip(path, frames)


def _number(bgr: np.ndarray) -> int:
    ones, tens = (round((float(half.mean()) - 40) / 20) for half in (bgr[4:20], bgr[28:44]))
    return 10 * tens + ones


def _read(path: Path, start=None, stop=None, stride=1) -> list[tuple[float, int]]:
    with VideoSource(path) as source:
        return [(f.t, _number(f.bgr)) for f in source.frames(start, stop, stride)]


def test_a_stretch_read_after_a_seek_is_the_same_frames_as_in_a_whole_read(tmp_path):
    clip = _numbered(tmp_path / "n.mp4")
    whole = _read(clip)
    assert [k for _, k in whole] == list(range(90))
    for start, stop in ((1.5, 2.2), (0.05, 1.0), (2.9, None), (None, 0.5)):
        part = _read(clip, start, stop)
        expected = [(t, k) for t, k in whole if (start is None or t >= start) and (stop is None or t < stop)]
        assert part == expected, (start, stop)


def test_a_high_rate_clip_is_read_at_about_30_frames_a_second():
    assert [sample_stride(fps) for fps in (24, 30, 50, 59.94, 60, 120, 240)] == [1, 1, 1, 2, 2, 4, 8]
    assert sample_stride(120, full_rate=True) == 1


def test_a_strided_stretch_keeps_the_frames_a_whole_strided_read_keeps(tmp_path):
    clip = _numbered(tmp_path / "n.mp4")
    whole = _read(clip, stride=3)
    assert [k for _, k in whole] == list(range(0, 90, 3))
    for start, stop in ((1.05, 2.2), (0.5, None)):
        expected = [(t, k) for t, k in whole if t >= start and (stop is None or t < stop)]
        assert _read(clip, start, stop, stride=3) == expected


class _NoOne:
    """A pose backend that finds nobody, counting its calls and the frame sizes it sees."""

    def __init__(self):
        self.calls, self.sizes = 0, set()

    def detect(self, rgb, timestamp_ms):
        self.calls += 1
        self.sizes.add(rgb.shape[:2])
        return []


def test_frames_over_1920_pixels_reach_the_model_shrunk_and_the_track_keeps_the_file_size(tmp_path):
    clip = write_clip(tmp_path / "wide.mp4", [np.full((240, 2400, 3), 90, np.uint8)] * 3)
    backend = _NoOne()
    with VideoSource(clip) as source:
        track = run_pose(source, backend, PoseSettings(), quiet=True)
    assert backend.sizes == {(192, 1920)}
    assert (track.width, track.height) == (2400, 240)


def test_pose_runs_on_every_other_frame_of_a_60_fps_clip_with_true_times(tmp_path):
    clip = write_clip(tmp_path / "fast.mp4", [np.full((48, 64, 3), 90, np.uint8)] * 60, fps=60)
    backend = _NoOne()
    with VideoSource(clip) as source:
        track = run_pose(source, backend, PoseSettings(), quiet=True)
    assert backend.calls == track.frames == 30 and track.fps == 30
    assert np.diff(track.t) == pytest.approx(np.full(29, 2 / 60), abs=1e-3)
    assert track.meta["source_frames"] == list(range(0, 60, 2))  # where the drawings go
    full = _NoOne()
    with VideoSource(clip) as source:
        track = run_pose(source, full, PoseSettings(full_rate=True), quiet=True)
    assert full.calls == track.frames == 60 and track.fps == 60 and "source_frames" not in track.meta


def test_where_the_video_ends_is_known_only_from_a_read_that_reached_it(tmp_path):
    clip = _numbered(tmp_path / "n.mp4")
    with VideoSource(clip) as source:
        list(source.frames(None, 1.0))
        assert source.decoded_s is None
    with VideoSource(clip) as source:
        list(source.frames(2.0, None))
        assert source.decoded_s == pytest.approx(3.0, abs=0.04)


# -- the real thing -------------------------------------------------------------------

def _pose(clip: Path, out: Path, workers: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "formcheck", "pose", str(clip), "-o", str(out), "--no-cache",
                           "-q", "--workers", str(workers)], capture_output=True, text=True, env=env, cwd=REPO)


@pytest.mark.real
def test_a_clip_in_two_chunks_gives_the_one_process_track_to_the_bit(videos, tmp_path):
    # 26 s with a second person in 87 frames (where MediaPipe tracks two
    # people and skips its detector): the cut falls mid-clip, where the
    # one-process run has been tracking for 13 s.
    clip = videos / "kavya_squats.mp4"
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    assert _pose(clip, one, 1).returncode == 0
    done = _pose(clip, two, 2)
    assert done.returncode == 0, done.stderr
    a, b = PoseTrack.load(one), PoseTrack.load(two)
    assert b.meta["chunks"] == 2 and "chunks" not in a.meta
    assert np.array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.world, b.world)
    np.testing.assert_array_equal(a.visibility, b.visibility)
    np.testing.assert_array_equal(a.people, b.people)


def test_workers_must_be_a_positive_number(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(tmp_path / "x.mp4"), "--workers", "0"],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 2
    assert "--workers: must be at least 1, got 0" in done.stderr and "Traceback" not in done.stderr


def test_a_process_that_already_ran_a_model_does_not_fork(monkeypatch):
    from formcheck.pose import person as backend

    monkeypatch.setattr(backend, "_loaded", [1])
    assert not chunks.can_fork()
    assert chunks.runner_for(Path("unused.mp4"), Path("unused.task"), None, workers=2) is None


@pytest.mark.real
def test_a_60_fps_clip_in_chunks_gives_the_one_process_track_and_frame_numbers(videos, tmp_path):
    import cv2

    cap = cv2.VideoCapture(str(videos / "formfit_squat.mp4"))  # 8.5 s at 30 fps, each frame written twice
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames += [bgr, bgr]
    clip = write_clip(tmp_path / "sixty.mp4", frames, fps=60)
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    assert _pose(clip, one, 1).returncode == 0
    done = _pose(clip, two, 2)
    assert done.returncode == 0, done.stderr
    a, b = PoseTrack.load(one), PoseTrack.load(two)
    assert b.meta["chunks"] == 2 and a.fps == b.fps == 30
    assert a.meta["source_frames"] == b.meta["source_frames"] == list(range(0, len(frames), 2))
    assert np.array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.image, b.image)
