"""What a hostile but fair user tries: outputs aimed at inputs, pipes and
devices named .mp4, damaged caches and tracks, files that change while read,
codecs OpenCV cannot read, re-encoded copies of a set, out-of-order
timestamps, config files that would crash or lie, folders with links and
odd extensions. Each must end in the right result, exit code and message,
with nothing lost (docs/robustness.md lists them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clips import write_clip

REPO = Path(__file__).resolve().parent.parent
SHORT = "dnly09_gf_1_goodform.mp4"  # 87 frames, one rep
THREE_REPS = "zhmai_test_video.mp4"  # 3.6 s, three reps


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def one_error(res: subprocess.CompletedProcess) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith("formcheck: error: "), res.stderr
    return lines[0]


def tiny_clip(path: Path, n: int = 12) -> Path:
    return write_clip(path, [np.full((64, 96, 3), 30 + 10 * i, np.uint8) for i in range(n)], fps=10)


# ---------------------------------------------------------------- outputs aimed at inputs

@pytest.mark.parametrize("flags", [
    ["--video-out", "{v}"], ["--json", "{v}"], ["--html", "{v}"], ["--csv", "{v}"], ["--frames-csv", "{v}"],
    ["--json", "{link}"],
])
def test_an_output_aimed_at_the_input_is_refused_before_any_work(tmp_path, flags):
    video = tiny_clip(tmp_path / "v.mp4")
    (tmp_path / "link.mp4").symlink_to(video)
    before = video.read_bytes()
    args = [f.format(v=video, link=tmp_path / "link.mp4") for f in flags]
    line = one_error(run_cli("analyze", str(video), *args, "--no-cache"))
    assert "is the input file" in line and "nothing was written" in line
    assert video.read_bytes() == before


def test_two_outputs_with_one_name_are_refused(tmp_path):
    video = tiny_clip(tmp_path / "v.mp4")
    line = one_error(run_cli("analyze", str(video), "--json", str(tmp_path / "r"), "--csv", str(tmp_path / "r")))
    assert "both name" in line
    assert not (tmp_path / "r").exists()


def test_pose_output_aimed_at_the_input_is_refused(tmp_path):
    video = tiny_clip(tmp_path / "v.mp4")
    before = video.read_bytes()
    assert "is the input file" in one_error(run_cli("pose", str(video), "-o", str(video)))
    assert video.read_bytes() == before


def test_a_track_given_as_input_is_never_overwritten_by_out(tmp_path):
    from formcheck.pose.simulate import simulate

    track, _ = simulate(reps=1, seed=1)
    out = tmp_path / "out"
    track.save(out / "report_pose.npz")
    before = (out / "report_pose.npz").read_bytes()
    line = one_error(run_cli("analyze", str(out / "report_pose.npz"), "--out", str(out)))
    assert "is the input file" in line and (out / "report_pose.npz").read_bytes() == before


# ---------------------------------------------------------------- what is not a regular file

@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_a_device_named_mp4_is_refused_at_once(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "stream.mp4"
        os.mkfifo(path)
    else:
        path = tmp_path / "zero.mp4"
        path.symlink_to("/dev/zero")
    line = one_error(run_cli("analyze", str(path), timeout=60))
    assert ("a pipe (FIFO)" if kind == "fifo" else "a device") in line and str(path) in line


# ---------------------------------------------------------------- damaged caches and tracks

def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # one flipped bit in the middle of the compressed arrays
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "bit_flip"])
def test_a_damaged_cache_entry_is_a_miss(tmp_path, videos, how):
    from formcheck.pose.cache import cache_entries

    cache = tmp_path / "cache"
    env = {"FORMCHECK_CACHE": str(cache)}
    clip = videos / SHORT
    assert run_cli("pose", str(clip), "-o", str(tmp_path / "first.npz"), env=env).returncode == 0
    (entry,) = cache_entries(cache / "tracks")
    _damage(entry, how)
    res = run_cli("analyze", str(clip), env=env)
    assert res.returncode == 0, res.stderr
    assert "a cached pose track of" in res.stderr and "unusable" in res.stderr
    (again,) = cache_entries(cache / "tracks")
    from formcheck.pose.track import PoseTrack

    assert PoseTrack.load(again).frames == PoseTrack.load(tmp_path / "first.npz").frames  # inferred again


@pytest.mark.parametrize("how", ["truncated", "bit_flip"])
def test_a_damaged_track_given_by_the_user_is_bad_input(tmp_path, how):
    from formcheck.pose.simulate import simulate

    track, _ = simulate(reps=2, seed=3)
    path = tmp_path / "mine.npz"
    track.save(path)
    _damage(path, how)
    line = one_error(run_cli("analyze", str(path)))
    assert "not a formcheck pose track" in line and str(path) in line


def test_a_cached_track_that_does_not_fit_the_video_is_not_used(tmp_path, monkeypatch):
    from formcheck.pose import extract
    from formcheck.pose.backend import Person
    from formcheck.pose.cache import cache_dir, cache_key
    from formcheck.pose.run import PoseSettings
    from formcheck.pose.track import PoseTrack

    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    video = tiny_clip(tmp_path / "v.mp4")
    model = extract.resolve_model(None)
    wrong = PoseTrack.empty(12, 10.0, 640, 480, str(video))  # another picture size
    wrong.meta["read_checks"] = 1
    entry = cache_dir() / f"{cache_key(video, model, PoseSettings())}.npz"
    wrong.save(entry)
    calls = []

    class Nobody:
        def detect(self, rgb, ts):
            calls.append(ts)
            return [] if rgb.shape[:2] != (64, 96) else [Person(np.full((33, 3), 0.5, np.float32),
                                                                 np.ones(33, np.float32), np.ones(33, np.float32),
                                                                 np.zeros((33, 3), np.float32))]

        def close(self):
            pass

    track = extract.extract_track(video, backend=Nobody(), quiet=True, warn=False)
    assert calls and (track.width, track.height) == (96, 64)


def test_a_clip_that_changes_while_it_is_read_is_not_cached(tmp_path, monkeypatch, capsys):
    from formcheck.pose import extract
    from formcheck.pose.cache import cache_entries

    monkeypatch.setenv("FORMCHECK_CACHE", str(tmp_path / "cache"))
    video = tiny_clip(tmp_path / "v.mp4", n=20)

    class Rewriter:
        """Stands for another program writing the file while formcheck reads it."""

        def detect(self, rgb, ts):
            if ts > 500:
                with open(video, "ab") as fh:
                    fh.write(b"\0")
            return []

        def close(self):
            pass

    extract.extract_track(video, backend=Rewriter(), quiet=True)
    assert cache_entries(tmp_path / "cache" / "tracks") == []
    assert "changed while it was read" in capsys.readouterr().err


# ---------------------------------------------------------------- codecs and containers

def _frames(path: Path) -> list[np.ndarray]:
    from formcheck.media.video import VideoSource

    with VideoSource(path) as src:
        return [f.bgr for f in src.frames()]


def test_av1_is_decoded(tmp_path):
    import av

    try:
        av.codec.Codec("libsvtav1", "w")
    except Exception:
        pytest.skip("this PyAV build cannot encode AV1")
    frames = [np.full((64, 96, 3), 20 * i, np.uint8) for i in range(10)]
    clip = write_clip(tmp_path / "av1.mp4", frames, codec="libsvtav1")
    decoded = _frames(clip)
    assert len(decoded) == 10 and decoded[0].shape == (64, 96, 3)


def _doubled(src: Path, dst: Path) -> Path:
    """The clip played twice, its packets copied (bit-identical frames), as `-c copy` concatenation does."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        outs = out.add_stream_from_template(ins)
        packets = [p for p in inp.demux(ins) if p.dts is not None]
        step = packets[1].pts - packets[0].pts
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + step
        for k in range(2):
            for p in packets:
                p.pts, p.dts = p.pts + k * span if k else p.pts, p.dts + k * span if k else p.dts
                p.stream = outs
                out.mux(p)
    return dst


def test_reencoded_and_doubled_copies_of_a_set_count_the_same_reps(tmp_path, videos):
    """A rep count must not depend on the codec: the same set as VP9, as
    visually lossless HEVC and played twice gives the same reps (twice)."""
    from formcheck.analyze import analyze_track
    from formcheck.pose.extract import extract_track

    original = videos / THREE_REPS

    def reps(path: Path) -> int:
        return len(analyze_track(extract_track(path, quiet=True, warn=False)).complete_reps)

    base = reps(original)
    assert base == 3
    frames = _frames(original)
    fps = 30
    assert reps(write_clip(tmp_path / "vp9.webm", frames, fps, codec="libvpx-vp9")) == base
    lossless_look = {"crf": "12", "x265-params": "log-level=none"}  # visually lossless, about 45 dB
    assert reps(write_clip(tmp_path / "hevc.mp4", frames, fps, codec="libx265", options=lossless_look)) == base
    assert reps(_doubled(original, tmp_path / "twice.mp4")) == 2 * base


def test_out_of_order_timestamps_are_dropped_with_a_note(videos, tmp_path):
    """physiback_squat_3 (a clinic's export) has a frame whose timestamp does not move forward."""
    res = run_cli("analyze", str(videos / "physiback_squat_3.mp4"), "--json", str(tmp_path / "r.json"))
    assert res.returncode == 0, res.stderr
    assert "timestamp out of order in the file and was left out" in res.stderr
    import json

    assert json.loads((tmp_path / "r.json").read_text())["rep_count"] == 3


# ---------------------------------------------------------------- config files

@pytest.mark.parametrize("text, says", [
    ("forward_lean = 5\n", "forward_lean must be a table"),
    ("[forward_lean]\nviews = [[\"side\"]]\n", "views must be a list drawn from"),
    ("[forward_lean]\nback_load = \"high\"\n", "back_load must be a whole number"),
    ("[forward_lean]\nplot = [\"nonsense\"]\n", "plot must be a list drawn from"),
    ("[forward_lean]\nabove = [-30, -20, -10]\n", "above bands must be above 0"),
    ("[forward_lean]\nthreshold_line = \"false\"\n", "threshold_line must be true or false"),
    ("[forward_lean]\nbones = [\"spine\"]\n", "bones must be a list drawn from"),
    ("[forward_lean]\nlive_signal = \"lean\"\n", "live_signal must be one of"),
    ("[limited_knee_travel.gate]\nabove = nan\n", "gate must be"),
    ("[forward_lean]\nabove = [nan, 65.0, 72.0]\n", "above must be three numbers"),
])
def test_config_errors_are_exit_2_before_any_work_and_name_the_file(tmp_path, text, says):
    video = tiny_clip(tmp_path / "v.mp4")
    config = tmp_path / "mine.toml"
    config.write_text(text)
    out = tmp_path / "out"
    line = one_error(run_cli("analyze", str(video), "--config", str(config), "--out", str(out)))
    assert f"config {config}" in line and says in line
    assert not out.exists()


def test_an_unnoticed_local_config_is_named_as_such(tmp_path):
    video = tiny_clip(tmp_path / "v.mp4")
    (tmp_path / "formcheck.toml").write_text("forward_lean = 5\n")
    res = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(video)], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert "./formcheck.toml (read from the current folder)" in one_error(res)


# ---------------------------------------------------------------- folders and messages

def test_a_batch_says_what_it_left_out(tmp_path):
    src = tmp_path / "sets"
    (src / "real").mkdir(parents=True)
    tiny_clip(src / "real" / "a.mp4")
    shutil.copy(src / "real" / "a.mp4", src / "clip.3gp")  # phone format: taken
    (src / "notes.txt").write_text("reps felt heavy")
    (src / "linked").symlink_to(src / "real")
    res = run_cli("batch", str(src), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert "left out 2 entries" in res.stderr and "linked/ (a link to a folder: not followed)" in res.stderr
    assert "notes.txt (not a video file name)" in res.stderr
    assert "clip.3gp" in (tmp_path / "out" / "summary.csv").read_text()


def test_no_complete_rep_is_said_on_stderr(tmp_path):
    from formcheck.pose.simulate import simulate

    track, _ = simulate(reps=0)
    path = tmp_path / "still.npz"
    track.save(path)
    res = run_cli("analyze", str(path), "--json", "-")
    assert res.returncode == 0
    assert "formcheck: warning: no complete squat reps found" in res.stderr
    assert res.stdout.lstrip().startswith("{")  # stdout stays parseable


def test_a_full_disk_while_saving_a_track_is_one_line(tmp_path):
    """ENOSPC in the middle of a write: the one-line error, no traceback from a half-written zip."""
    code = f"""
import errno, builtins, sys
from formcheck.errors import FormcheckError
from formcheck.pose.simulate import simulate
import formcheck.media.atomic as atomic

class Full:
    def __init__(self, *a, **k): pass
    def write(self, data): raise OSError(errno.ENOSPC, "No space left on device")
    def flush(self): pass
    def fileno(self): return sys.stdout.fileno()
    def close(self): pass
    def __enter__(self): return self
    def __exit__(self, *exc): return False

atomic.open = Full
track, _ = simulate(reps=1)
try:
    track.save({str(tmp_path / 't.npz')!r})
except FormcheckError as exc:
    print("error:", exc)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "error: cannot write" in res.stdout and "No space left on device" in res.stdout, res
    assert "Exception ignored" not in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert not list(tmp_path.iterdir())  # no temp file left behind
