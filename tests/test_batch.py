"""`formcheck batch`: a folder in, per-clip reports and a summary out; failures
isolated, outputs contained, and a killed batch resumes without redoing work."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from formcheck.batch.clips import CRASHED, Clip, ClipResult, folder_names
from formcheck.batch.pool import run_pool
from formcheck.pose.backend import ReusedBackend
from formcheck.cli.main import main

SHORT = {  # name in the batch folder -> shared clip
    "evk_good_side01.mp4": "evk_good_side01.mp4",
    "lean/evk_lean_side01.mov": "evk_lean_side01.mp4",
    "sub1/a.mp4": "hackdartmouth_squat.mp4",  # same file name in two folders
    "sub2/a.MP4": "dnly09_gf_1_goodform.mp4",
    "C:\\..\\..\\escape.mp4": "dnly09_gf_1_goodform.mp4",  # one odd file name, not a path
}


def make_folder(root: Path, videos: Path, clips: dict[str, str]) -> Path:
    src = root / "sets"
    for rel, name in clips.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).symlink_to(videos / name)
    return src


def run_batch_cli(*args: str) -> subprocess.Popen:
    # Own session: the test can kill the whole process group, workers included.
    return subprocess.Popen([sys.executable, "-m", "formcheck", "batch", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def summary(out: Path) -> dict[str, dict]:
    return {c["clip"]: c for c in json.loads((out / "summary.json").read_text())["clips"]}


@pytest.mark.real
def test_batch_reports_every_clip_isolates_failures_and_stays_inside_out(tmp_path, videos, real_track, capsys):
    from formcheck.analyze import analyze_track

    src = make_folder(tmp_path, videos, SHORT)
    (src / "broken.mp4").write_bytes(os.urandom(4000))
    (src / "notes.txt").write_text("not a video")
    out = tmp_path / "out"

    assert main(["batch", str(src), "--out", str(out), "--jobs", "2", "--quiet"]) == 1
    printed = capsys.readouterr().out
    clips = summary(out)
    assert set(clips) == set(SHORT) | {"broken.mp4"}  # the .txt is not a video

    bad = clips.pop("broken.mp4")
    assert bad["status"] == "failed" and "cannot read video" in bad["error"]
    assert bad["folder"] == "" and not (out / "clips" / "broken").exists()  # no half-made folder
    assert "broken.mp4" in printed and "cannot read video" in printed
    for rel, c in clips.items():
        expected = len(analyze_track(real_track(SHORT[rel])).complete_reps)
        assert (c["status"], c["run"], c["reps"]) == ("ok", "analysed", expected), rel
        report = json.loads((out / c["folder"] / "report.json").read_text())
        assert report["rep_count"] == expected and report["video"]["path"].endswith(rel)
        assert (out / c["folder"] / "report_reps.csv").is_file() and (out / c["folder"] / "done.json").is_file()

    # Same file name in two folders: two folders, two different reports.
    assert clips["sub1/a.mp4"]["folder"] != clips["sub2/a.MP4"]["folder"]
    assert clips["sub1/a.mp4"]["reps"] == len(analyze_track(real_track("hackdartmouth_squat.mp4")).complete_reps)

    # Nothing written outside OUT, and nothing above OUT/clips/<one folder> per clip.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "sets"]
    assert {p.relative_to(src).as_posix() for p in src.rglob("*")} == set(SHORT) | {
        "broken.mp4", "notes.txt", "lean", "sub1", "sub2"}
    assert sorted(p.name for p in out.iterdir()) == ["clips", "summary.csv", "summary.json", "summary_reps.csv"]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert len({c["folder"] for c in clips.values()}) == len(clips)

    with open(out / "summary_reps.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for rel, c in clips.items():
        assert sum(r["clip"] == rel and r["partial"] == "False" for r in rows) == c["reps"]
    with open(out / "summary.csv", newline="") as fh:
        table = {r["clip"]: r for r in csv.DictReader(fh)}
    assert table["broken.mp4"]["status"] == "failed" and table["broken.mp4"]["error"]
    assert table["evk_good_side01.mp4"]["top_fault"] == clips["evk_good_side01.mp4"]["top_fault"]

    # The same command again redoes only the failed clip; --force redoes all.
    assert main(["batch", str(src), "--out", str(out), "--quiet"]) == 1
    again = summary(out)
    assert {rel for rel, c in again.items() if c["run"] == "skipped"} == set(SHORT)
    assert {rel: c["reps"] for rel, c in again.items() if rel in SHORT} == {r: c["reps"] for r, c in clips.items()}
    (src / "broken.mp4").unlink()
    assert main(["batch", str(src), "--out", str(out), "--quiet", "--force", "--jobs", "2"]) == 0
    assert all(c["run"] == "analysed" and c["status"] == "ok" for c in summary(out).values())


@pytest.mark.real
def test_killed_batch_resumes_without_redoing_finished_clips(tmp_path, videos):
    # --no-cache: each clip takes seconds, so the kill lands between two clips' done markers.
    clips = {"a.mp4": "evk_good_side01.mp4", "b.mp4": "mlsac_no_depth.mp4", "c.mp4": "dnly09_gf_1_goodform.mp4"}
    src, out = make_folder(tmp_path, videos, clips), tmp_path / "out"
    command = (str(src), "--out", str(out), "--jobs", "1", "--no-cache", "--quiet")
    proc = run_batch_cli(*command)
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("clips/*/done.json")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    done_before = {p.parent.name for p in out.glob("clips/*/done.json")}
    assert 0 < len(done_before) < len(clips)
    assert not (out / "summary.json").exists()

    rerun = run_batch_cli(*command)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr
    result = summary(out)
    assert set(result) == set(clips) and all(c["status"] == "ok" for c in result.values())
    for c in result.values():  # skipped exactly when finished before the kill
        assert (c["run"] == "skipped") == (c["folder"].split("/")[1] in done_before), c
    for folder in out.glob("clips/*"):
        assert sorted(p.name for p in folder.iterdir()) == ["done.json", "report.json", "report_pose.npz",
                                                            "report_reps.csv"]
        json.loads((folder / "report.json").read_text())
        json.loads((folder / "done.json").read_text())
    assert not list(out.rglob("*.part"))


def crash_on_purpose(clip: Clip) -> dict:
    """Stands in for analyse_clip in a worker: one clip takes its process down."""
    if "crash" in clip.rel:
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(0.2)
    return ClipResult(clip, {"clip": clip.rel, "status": "ok", "run": "analysed"})


def test_a_worker_crash_fails_only_its_clip(tmp_path):
    clips = [Clip(rel, str(tmp_path / rel), str(tmp_path / "out" / rel)) for rel in
             ("a.mp4", "crash.mp4", "b.mp4", "c.mp4", "d.mp4")]
    results: list[dict] = []
    run_pool(clips, 2, ({"model": "unused"}, {}), lambda r: results.append(r.record), work=crash_on_purpose)
    by_clip = {r["clip"]: r for r in results}
    assert len(results) == len(by_clip) == len(clips)  # each clip reported once
    assert by_clip.pop("crash.mp4")["error"] == CRASHED
    assert all(r["status"] == "ok" for r in by_clip.values())


def test_folder_names_are_safe_and_distinct():
    rels = ["sub1/a.mp4", "sub2/a.mp4", "sub1__a.mov", "x/..hidden.mp4", "C:\\..\\win.mp4", "A.mp4", "a.mkv"]
    names = folder_names(rels)
    assert len(set(n.lower() for n in names.values())) == len(rels)
    for name in names.values():
        assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert names["sub2/a.mp4"].startswith("sub2__a")


@pytest.mark.real
def test_a_reused_model_gives_each_clip_the_same_track_as_a_fresh_one(videos, real_track):
    from formcheck.pose import PoseSettings, extract_track
    from formcheck.media.model import resolve_model

    shared = ReusedBackend(str(resolve_model(None)), PoseSettings())
    try:
        for name in ("mlsac_no_depth.mp4", "dnly09_gf_1_goodform.mp4"):
            shared.next_clip()
            track = extract_track(videos / name, use_cache=False, quiet=True, backend=shared)
            np.testing.assert_allclose(track.image, real_track(name).image, atol=0.5)
    finally:
        shared.close()


@pytest.mark.parametrize("case, message", [
    ("empty", "no videos in"), ("file", "expected a folder"), ("missing", "no such folder"),
    ("unwritable", "cannot write to"),
])
def test_bad_input_is_one_clear_line(tmp_path, videos, capsys, case, message):
    src = tmp_path / "sets"
    src.mkdir()
    (src / "notes.txt").write_text("no videos here")
    out = tmp_path / "out"
    if case == "file":
        src = src / "notes.txt"
    elif case == "missing":
        src = tmp_path / "nowhere"
    elif case == "unwritable":
        (src / "a.mp4").symlink_to(videos / "dnly09_gf_1_goodform.mp4")
        out = src / "notes.txt" / "out"  # below a file: cannot be created, even as root
    assert main(["batch", str(src), "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


class _PoolClosingBackend:
    """Stands in for a pose model whose close() hands work to a thread pool,
    as MediaPipe's does in some releases."""

    def detect(self, rgb, timestamp_ms):
        return []

    def close(self):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(print, "pose model closed", flush=True).result()


def use_the_reused_backend(clip: Clip) -> dict:
    """Stands in for analyse_clip: loads the worker's model the way a clip does."""
    import formcheck.pose.backend as backend_module
    from formcheck.batch.pool import _worker

    backend_module.create_backend = lambda *a, **k: _PoolClosingBackend()
    _worker["backend"].next_clip()
    _worker["backend"].detect(np.zeros((8, 8, 3), np.uint8), 0)
    return ClipResult(clip, {"clip": clip.rel, "status": "ok", "run": "analysed"})


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="the stand-in is MediaPipe's close, which needs a thread "
                    "pool; MediaPipe has no wheel past 3.12, and from 3.13 worker finalizers run after threads stop")
def test_workers_close_the_pose_model_before_interpreter_shutdown(tmp_path, capfd):
    """The model is closed when the worker's loop ends, while thread pools
    still work: no "Exception ignored in atexit callback" per worker."""
    clips = [Clip(rel, str(tmp_path / rel), str(tmp_path / "out" / rel)) for rel in ("a.mp4", "b.mp4")]
    results: list[dict] = []
    run_pool(clips, 2, ({"model": "unused"}, {}), lambda r: results.append(r.record), work=use_the_reused_backend)
    out, err = capfd.readouterr()
    assert len(results) == 2
    assert "Exception ignored" not in err and "cannot schedule new futures" not in err, err
    assert "pose model closed" in out  # the close did run, in every worker that loaded the model


@pytest.mark.real
def test_batch_stderr_is_clean_and_failed_clips_point_at_no_folder(tmp_path, videos):
    """No MediaPipe or FFmpeg lines and no shutdown noise from the workers; a
    truncated clip is analysed with its warning kept; a clip that failed
    before its folder was made has an empty folder column."""
    src = make_folder(tmp_path, videos, {"a.mp4": "dnly09_gf_1_goodform.mp4"})
    data = (videos / "spotter_squat-full-squat.mp4").read_bytes()  # index first: a cut keeps its header
    (src / "cut.mp4").write_bytes(data[:30_000])
    (src / "broken.mp4").write_bytes(b"\x00" * 4000)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("FORMCHECK_DEBUG", "FORMCHECK_VERBOSE")}
    res = subprocess.run([sys.executable, "-m", "formcheck", "batch", str(src), "--out", str(out), "--jobs", "2",
                          "--no-cache", "--quiet"], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 1, res.stderr  # one clip failed
    assert res.stderr == ""
    clips = summary(out)
    assert clips["a.mp4"]["status"] == "ok" and clips["cut.mp4"]["status"] == "ok"
    assert any("the file looks truncated" in w for w in clips["cut.mp4"]["warnings"])
    assert clips["broken.mp4"]["status"] == "failed" and clips["broken.mp4"]["folder"] == ""
    with open(out / "summary.csv", newline="") as fh:
        table = {r["clip"]: r for r in csv.DictReader(fh)}
    assert table["broken.mp4"]["folder"] == "" and table["a.mp4"]["folder"] == "clips/a"


def test_a_clip_without_a_person_is_a_failed_clip(tmp_path, capsys):
    from test_pose import _wall_clip

    src = tmp_path / "sets"
    src.mkdir()
    _wall_clip(src / "wall.mp4")
    out = tmp_path / "out"
    assert main(["batch", str(src), "--out", str(out), "--jobs", "1", "--no-cache", "--quiet"]) == 1
    clip = summary(out)["wall.mp4"]
    assert clip["status"] == "failed" and clip["folder"] == ""
    assert clip["error"].startswith("no person found in wall.mp4: nobody was detected in any of its 30 frames")
    assert "no person found in wall.mp4" in capsys.readouterr().out
    assert not (out / "clips" / "wall").exists()
