"""The lifter among other people, on clips put together from the shared
clips (tests/crowds.py) and read by the real model: the analysis follows
the one who squats and gives their own rep count and findings, the report
says who else was in view, and --person picks another, from the command
line, in a batch, live and on the web page."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import crowds
from browser import DESKTOP, chromium, open_page  # noqa: F401 (fixtures)
from formcheck.analyze import analyze_track
from formcheck.pose.people import choice_of, follow

pytestmark = pytest.mark.real
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clips(videos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crowds")
    return {name: make(videos, folder / f"{name}.mp4")
            for name, make in (("small_lifter", crowds.small_lifter), ("walker", crowds.walker),
                               ("side_by_side", crowds.side_by_side))}


@pytest.fixture(scope="module")
def alone(real_track):
    """formcheck's own reading of the lifter's and the partner's clips, each alone in view."""
    return {name: analyze_track(real_track(name)) for name in (crowds.LIFTER, crowds.PARTNER)}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=900)


def _codes(analysis) -> list[str]:
    return sorted(f.code for f in analysis.faults)


def test_a_smaller_lifter_between_two_people_standing_is_the_one_analysed(clips, alone, labels, tmp_path):
    done = cli("analyze", str(clips["small_lifter"]), "--json", str(tmp_path / "r.json"), "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rep_count"] == labels[crowds.LIFTER]["reps"] == crowds.LIFTER_REPS
    assert sorted(f["code"] for f in report["faults"]) == _codes(alone[crowds.LIFTER])
    people = report["people"]
    assert people["seen"] == 3
    lifter = next(p for p in people["people"] if p["id"] == people["analysed"])
    assert lifter["where"] == "in the middle" and lifter["squats"]
    assert all(p["size"] > lifter["size"] and not p["squats"] for p in people["people"] if p is not lifter)
    assert "3 people in view; analysed person" in done.stdout.replace("\n  ", " ")
    assert "(in the middle), who squats; the others did not squat" in people["sentence"]
    # Someone else, by place: the person on the left, who stands still.
    done = cli("analyze", str(clips["small_lifter"]), "--person", "left", "--json", str(tmp_path / "l.json"), "-q")
    left = json.loads((tmp_path / "l.json").read_text())
    assert left["rep_count"] == 0 and left["people"]["analysed"] != people["analysed"]
    assert "(on the left), the one chosen (--person left)" in left["people"]["sentence"]


def test_a_walker_crossing_in_front_of_the_lifter_mid_set_changes_nothing(clips, alone, labels, real_track):
    track = real_track(clips["walker"])
    choice = choice_of(track)
    assert len(choice.people) == 2, choice.sentence()
    me = choice.person(choice.analysed)
    assert me.squats and me.share > 0.9  # followed through the crossing under one number
    walker = next(s for s in choice.people if s.id != me.id)
    assert not walker.squats and walker.seen_s < 2.0
    analysis = analyze_track(track)
    assert len(analysis.complete_reps) == labels[crowds.LIFTER]["reps"]
    assert _codes(analysis) == _codes(alone[crowds.LIFTER])


def test_two_people_squatting_side_by_side_are_said_and_each_can_be_analysed(clips, alone, labels, tmp_path):
    video = clips["side_by_side"]
    done = cli("analyze", str(video), "--person", "all", "--json", str(tmp_path / "r.json"), "-q")
    assert done.returncode == 0, done.stderr
    reports = {int(re.search(r"person(\d+)", p.name).group(1)): json.loads(p.read_text())
               for p in tmp_path.glob("r.person*.json")}
    assert len(reports) == 2
    by_reps = sorted((r["rep_count"], sorted(f["code"] for f in r["faults"])) for r in reports.values())
    assert by_reps == sorted([(crowds.LIFTER_REPS, _codes(alone[crowds.LIFTER])),
                              (crowds.PARTNER_REPS, _codes(alone[crowds.PARTNER]))])
    assert labels[crowds.PARTNER]["reps"] == crowds.PARTNER_REPS
    for r in reports.values():
        assert r["people"]["seen"] == 2 and "both squat" in r["people"]["sentence"]
    for where, reps in (("left", crowds.LIFTER_REPS), ("right", crowds.PARTNER_REPS)):
        done = cli("analyze", str(video), "--person", where, "--json", str(tmp_path / f"{where}.json"), "-q")
        assert json.loads((tmp_path / f"{where}.json").read_text())["rep_count"] == reps, done.stderr
    auto = cli("analyze", str(video), "--json", "-", "-q")
    people = json.loads(auto.stdout)["people"]
    assert people["runner_up"] is not None and people["runner_up"] != people["analysed"]
    assert f"--person {people['runner_up']} analyses them instead" in people["sentence"]


def test_a_batch_takes_each_clips_person_from_its_sidecar(clips, tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.mp4").write_bytes(clips["side_by_side"].read_bytes())
    (folder / "b.mp4.person").write_text("right\n")
    done = cli("batch", str(folder), "--out", str(tmp_path / "out"), "--person", "left", "-q")
    assert done.returncode == 0, done.stderr
    summary = {c["clip"]: c for c in json.loads((tmp_path / "out" / "summary.json").read_text())["clips"]}
    assert summary["a.mp4"]["reps"] == crowds.LIFTER_REPS and summary["b.mp4"]["reps"] == crowds.PARTNER_REPS
    assert summary["a.mp4"]["people"] == 2 and summary["a.mp4"]["person"] != summary["b.mp4"]["person"]
    (folder / "b.mp4.person").write_text("left\n")  # a changed choice is a changed clip: analysed again
    again = cli("batch", str(folder), "--out", str(tmp_path / "out"), "--person", "left", "-q")
    runs = {c["clip"]: c for c in json.loads((tmp_path / "out" / "summary.json").read_text())["clips"]}
    assert runs["a.mp4"]["run"] == "skipped" and runs["b.mp4"]["run"] == "analysed", again.stdout
    assert runs["b.mp4"]["reps"] == crowds.LIFTER_REPS


def test_live_coaches_the_person_in_the_middle(clips, tmp_path):
    done = cli("live", "--source", str(clips["small_lifter"]), "--no-window", "--person", "center",
               "--json", str(tmp_path / "live.json"), "--session-log", str(tmp_path / "log.json"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "live.json").read_text())
    people = report["people"]
    lifter = next(p for p in people["people"] if p["id"] == people["analysed"])
    assert lifter["where"] == "in the middle" and lifter["squats"]
    log = json.loads((tmp_path / "log.json").read_text())
    # Live keeps up by dropping frames; a rep it misses for that, the offline pass still counts.
    assert 3 <= log["live_rep_count"] <= crowds.LIFTER_REPS and report["rep_count"] == crowds.LIFTER_REPS


@pytest.mark.browser
def test_the_web_page_lets_the_user_click_the_lifter(clips, tmp_path_factory, open_page, tmp_path):
    pytest.importorskip("starlette", reason="needs the web extra (pip install '.[web]')")
    data = tmp_path_factory.mktemp("web-people")
    # --no-cache: the server's worker reads the clip itself, as for a lifter's own upload.
    proc = subprocess.Popen([sys.executable, "-m", "formcheck", "serve", "--port", "0", "--data", str(data),
                             "--workers", "1", "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        m = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
        assert m, proc.stderr.read()
        page = open_page(DESKTOP)
        p = page.page
        page.open(m.group(1) + "/")
        p.set_input_files("input[data-video] >> nth=0", str(clips["small_lifter"]))
        p.click("#go")
        p.wait_for_selector("#person-picker", timeout=300_000)
        sentence = p.locator("#people p").first.inner_text()
        assert sentence.startswith("3 people in view") and "(in the middle), who squats" in sentence
        buttons = p.locator("#person-picker button")
        assert buttons.count() == 3
        assert p.locator(".person-box.pickable").count() == 2  # the two others; the analysed one is not offered
        page.screenshot(tmp_path / "people_picker.png")
        left = p.locator("#person-picker button", has_text="on the left").get_attribute("value")
        report_before = p.locator(".report").inner_text()
        p.locator(f'.person-box[data-person="{left}"]').click()  # in the picture
        p.wait_for_selector(f"#person-picker button[value='{left}'][disabled]", timeout=120_000)
        after = p.locator("#people p").first.inner_text()
        assert f"analysed person {left} (on the left), the one chosen (--person {left})" in after
        assert "0 reps" in p.locator(".report .facts").inner_text() and report_before != p.locator(".report").inner_text()
        page.screenshot(tmp_path / "people_picked.png")
        assert not page.problems
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
