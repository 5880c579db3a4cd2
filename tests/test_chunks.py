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
from formcheck.pose.track import PoseTrack
from formcheck.video import VideoSource

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


def _track(t: list[float]) -> PoseTrack:
    track = PoseTrack.empty(len(t), 30.0, 64, 48)
    track.t = np.asarray(t, dtype=np.float64)
    track.image[:] = np.asarray(t, dtype=np.float32)[:, None, None]  # each row tells its time
    track.people = np.ones(len(t), dtype=np.int8)
    return track


def test_joining_drops_each_chunks_warm_up_frames():
    first = _track([0.0, 0.1, 0.2, 0.3])
    second = _track([0.2, 0.3, 0.4, 0.5])  # started before the cut at 0.35, to warm up
    whole = chunks.join([first, second])
    assert whole.t.tolist() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert whole.image[:, 0, 0].tolist() == pytest.approx(whole.t.tolist())
    assert whole.people.tolist() == [1] * 6


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


def _read(path: Path, start=None, stop=None) -> list[tuple[float, int]]:
    with VideoSource(path) as source:
        return [(f.t, _number(f.bgr)) for f in source.frames(start, stop)]


def test_a_stretch_read_after_a_seek_is_the_same_frames_as_in_a_whole_read(tmp_path):
    clip = _numbered(tmp_path / "n.mp4")
    whole = _read(clip)
    assert [k for _, k in whole] == list(range(90))
    for start, stop in ((1.5, 2.2), (0.05, 1.0), (2.9, None), (None, 0.5)):
        part = _read(clip, start, stop)
        expected = [(t, k) for t, k in whole if (start is None or t >= start) and (stop is None or t < stop)]
        assert part == expected, (start, stop)


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
    from formcheck.pose import backend

    monkeypatch.setattr(backend, "_loaded", [1])
    assert not chunks.can_fork()
    assert chunks.runner_for(Path("unused.mp4"), Path("unused.task"), None, workers=2) is None
