"""sample_videos/: the synthetic samples, their README and make_samples.py agree,
and the files meant for `formcheck analyze` are the pose tracks."""

from __future__ import annotations

import importlib.util
import re
import shlex

import numpy as np
import pytest

from formcheck.analyze import analyze_track
from formcheck.pose.track import PoseTrack
from shared_data import REPO

FOLDER = REPO / "sample_videos"
README = (FOLDER / "README.md").read_text(encoding="utf-8")


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", FOLDER / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _make_samples()


def _outputs(cmd: str) -> list[str]:
    argv = shlex.split(cmd)
    return [argv[argv.index(flag) + 1] for flag in ("-o", "--preview") if flag in argv]


SAMPLE_FILES = [name for cmd in MAKE.SAMPLES for name in _outputs(cmd)]


def test_folder_holds_exactly_what_make_samples_writes():
    present = {p.name for p in FOLDER.iterdir() if p.name != "__pycache__"}
    assert present == {*SAMPLE_FILES, "README.md", "make_samples.py"}


def test_videos_are_named_as_previews_of_a_track():
    # A stick figure is no person to the pose model, so an .mp4 here must not
    # look like something to analyse: each is NAME_preview.mp4 beside NAME.npz.
    videos = [n for n in SAMPLE_FILES if not n.endswith(".npz")]
    assert videos and all(n.endswith("_preview.mp4") for n in videos)
    assert all(n.replace("_preview.mp4", ".npz") in SAMPLE_FILES for n in videos)


def test_readme_shows_the_script_commands_and_names_every_file():
    commands = re.findall(r"^ {4}formcheck simulate (.+)$", README, re.M)
    assert commands == MAKE.SAMPLES
    for name in SAMPLE_FILES:
        assert f"`{name}`" in README, name


def test_regenerated_tracks_equal_the_committed_ones(tmp_path):
    MAKE.make(tmp_path)
    for name in (n for n in SAMPLE_FILES if n.endswith(".npz")):
        ours, fresh = PoseTrack.load(FOLDER / name), PoseTrack.load(tmp_path / name)
        np.testing.assert_array_equal(ours.image, fresh.image, err_msg=name)
        assert ours.meta == fresh.meta, name


@pytest.mark.parametrize("name, faults", [
    ("clean_side.npz", set()),
    ("forward_lean_side.npz", {"forward_lean"}),
    ("butt_wink_side.npz", {"butt_wink"}),
])
def test_each_track_analyses_to_what_the_readme_says_it_shows(name, faults):
    analysis = analyze_track(PoseTrack.load(FOLDER / name))
    assert len(analysis.complete_reps) == 2
    assert {f.code for f in analysis.faults} == faults
