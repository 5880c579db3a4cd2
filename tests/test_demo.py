"""`formcheck demo` and `formcheck simulate` work from the package alone, in a fresh process."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from formcheck.pose.track import PoseTrack
from formcheck.pose.simulate import PRESETS


def formcheck(*args, cwd):
    # Run from an empty folder so nothing in the repository can be picked up by accident;
    # the cache beside it, so the folder shows exactly what the command wrote.
    env = {**os.environ, "FORMCHECK_CACHE": str(cwd.parent / "cache")}
    return subprocess.run([sys.executable, "-m", "formcheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def cwd(tmp_path):
    (tmp_path / "cwd").mkdir()
    return tmp_path / "cwd"


def test_demo_writes_nothing_unless_asked(tmp_path, cwd):
    proc = formcheck("demo", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Fix this first: forward lean" in proc.stdout
    assert "--out DIR" in proc.stderr  # says how to get the files
    assert list(cwd.iterdir()) == []
    assert not (tmp_path / "cache").exists()


def test_demo_prints_faults_with_advice_and_writes_json(tmp_path, cwd):
    proc = formcheck("demo", "--out", "tmp", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    # The verdict names the fault to fix first, the plan gives one cue, two
    # drills and a progression, and the other fault gets a line of its own.
    assert "Fix this first: forward lean" in text
    assert text.count("Next set, think") == 1 and text.count("Drill:") == 2 and text.count("Then:") == 1
    assert "Also: limited knee travel" in text
    report = json.loads((cwd / "tmp" / "report.json").read_text())
    assert report["schema"] == "formcheck.report/1" and report["rep_count"] == 3
    assert {f["code"] for f in report["faults"]} >= {"forward_lean", "limited_knee_travel"}
    assert len(report["advice"]) >= 2 and report["video"]["frames"] > 0
    assert (cwd / "tmp" / "report_reps.csv").read_text().count("\n") == 4
    assert (cwd / "tmp" / "report.html").stat().st_size > 0
    assert not (tmp_path / "cache").exists()  # no video, so no pose inference and no cache


def test_simulate_writes_a_track_from_preset_and_overrides(cwd):
    proc = formcheck("simulate", "--preset", "heel_lift", "--reps", "2", "--view", "oblique", "--facing", "right",
                     "--noise", "0.5", "--seed", "3", "--set", "tuck_deg=4", "--set", "bounce=yes",
                     "-o", "sim.npz", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    track = PoseTrack.load(cwd / "sim.npz")
    p = track.meta["simulated"]
    assert (p["reps"], p["view"], p["facing"], p["noise_px"], p["seed"]) == (2, "oblique", "right", 0.5, 3)
    assert p["heel_lift"] == PRESETS["heel_lift"]["heel_lift"] and p["tuck_deg"] == 4.0 and p["bounce"] is True
    assert np.isfinite(track.image).all()

    default = formcheck("simulate", cwd=cwd)
    assert default.returncode == 0 and (cwd / "clean_side.npz").is_file()

    bad = formcheck("simulate", "--set", "no_such=1", cwd=cwd)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr
