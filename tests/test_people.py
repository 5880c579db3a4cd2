"""Everyone in view: numbering people frame to frame, choosing the lifter,
--person, and what the reports and drawings say about the others. On
simulated people, whose answers are known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from formcheck.analyze import analyze_track
from formcheck.errors import FormcheckError
from formcheck.pose import people as pp
from formcheck.pose.chunks import join
from formcheck.pose.simulate import simulate
from formcheck.pose.track import Crowd, PoseTrack

PANEL = 720  # each simulated person stands in a panel of this width, side by side


def _crowd_track(lifter_scale: float = 0.6, panels=("stand", "squat", "stand"), reps: int = 3, seed: int = 0,
                 hide=None, move=None) -> PoseTrack:
    """People side by side in one wide picture: a simulated squatter (smaller,
    farther away) and people standing still (the squatter's first frame),
    in slots shuffled frame by frame as a detector would give them.
    `hide=(panel, start, stop)` leaves a panel's person out of frames start..stop;
    `move=(panel, start, dx)` shifts them dx pixels across from frame start on."""
    lifter, _ = simulate(reps=reps, seed=seed)
    n = lifter.frames
    rng = np.random.default_rng(seed)
    people = []
    for k, kind in enumerate(panels):
        img = lifter.image.copy() if kind == "squat" else np.repeat(lifter.image[:1], n, axis=0)
        if kind == "empty":  # a panel nobody stands in (someone may walk into it)
            img[:] = np.nan
        scale = lifter_scale if kind == "squat" else 1.0
        feet = lifter.image[0, :, 1].max()
        img[..., 0] = (img[..., 0] - PANEL / 2) * scale + PANEL / 2 + k * PANEL
        img[..., 1] = feet - (feet - img[..., 1]) * scale
        if move and move[0] == k:
            img[move[1]:, :, 0] += move[2]
        people.append(img)
    slots = len(panels)
    image = np.full((n, slots, 33, 3), np.nan, np.float32)
    for i in range(n):
        order = rng.permutation(slots)
        for slot, k in zip(order, range(slots)):
            if hide and hide[0] == k and hide[1] <= i < hide[2]:
                continue
            image[i, slot] = people[k][i]
    vis = np.where(np.isnan(image[..., 0]), np.nan, 0.9).astype(np.float32)
    world = np.repeat(lifter.world[:, None], slots, axis=1)
    crowd = Crowd(np.full((n, slots), -1, np.int16), image, vis, vis.copy(), world)
    blank = PoseTrack.empty(n, lifter.fps, PANEL * slots, lifter.height, "crowd.mp4")
    blank.t, blank.crowd = lifter.t, crowd
    return blank


def _person_at(track: PoseTrack, panel: int) -> int:
    """The number of the person standing in a panel."""
    choice = pp.choice_of(track)
    return next(s.id for s in choice.people if int(s.x * len(choice.people)) == panel)


def test_the_lifter_who_squats_is_chosen_over_two_larger_people_standing():
    track = pp.follow(_crowd_track())
    choice = pp.choice_of(track)
    assert len(choice.people) == 3
    me = choice.person(choice.analysed)
    assert me.squats and me.where == "in the middle" and choice.reason == "who squats"
    assert not any(s.squats for s in choice.people if s.id != me.id)
    assert all(s.size > me.size for s in choice.people if s.id != me.id)  # the bystanders are larger
    sentence = choice.sentence()
    assert sentence.startswith("3 people in view; analysed person") and "(in the middle), who squats" in sentence
    assert "the others did not squat" in sentence and f"--person {choice.runner_up.id}" in sentence
    analysis = analyze_track(track)
    assert len(analysis.complete_reps) == 3 and not any("more than one person" in w for w in analysis.warnings)


def test_numbers_follow_each_person_whatever_slot_the_detector_gives_them():
    track = pp.follow(_crowd_track(seed=3))
    crowd = track.crowd
    for pid in np.unique(crowd.ids[crowd.ids >= 0]):
        x = crowd.image[crowd.ids == pid][:, 23:25, 0].mean(axis=1)
        assert np.ptp(x) < PANEL / 2, f"person {pid} jumps between panels"
    assert sorted(np.unique(crowd.ids[crowd.ids >= 0]).tolist()) == [1, 2, 3]


def test_someone_lost_a_while_keeps_their_number_and_one_back_elsewhere_gets_a_new_one():
    fps = 30
    for hidden_s in (0.5, pp.MAX_GAP_S + 0.5):  # the second is longer than the frame-to-frame numbering holds on
        lost = pp.follow(_crowd_track(hide=(1, 60, 60 + int(hidden_s * fps))))
        assert len(np.unique(lost.crowd.ids[lost.crowd.ids >= 0])) == 3, hidden_s
    gap = 60 + int((pp.MAX_GAP_S + 0.5) * fps)
    elsewhere = pp.follow(_crowd_track(panels=("stand", "squat", "stand", "empty"), hide=(1, 60, gap),
                                       move=(1, gap, 2 * PANEL)))  # came back in the empty panel on the right
    assert len(np.unique(elsewhere.crowd.ids[elsewhere.crowd.ids >= 0])) == 4


def test_hip_dips_count_squats_and_not_standing():
    lifter, truth = simulate(reps=4)
    dips = pp.HipDips()
    for p in lifter.image:
        dips.update(p)
    assert dips.count == 4
    still = pp.HipDips()
    for p in np.repeat(lifter.image[:1], 100, axis=0) + np.random.default_rng(0).normal(0, 2, (100, 33, 3)):
        still.update(p)
    assert still.count == 0


def test_person_picks_by_place_size_or_number_and_says_so():
    track = _crowd_track()
    left, middle, right = (_person_at(pp.follow(track), k) for k in range(3))
    assert pp.choice_of(pp.follow(track, "left")).analysed == left
    assert pp.choice_of(pp.follow(track, "right")).analysed == right
    assert pp.choice_of(pp.follow(track, "center")).analysed == middle
    assert pp.choice_of(pp.follow(track, "largest")).analysed in (left, right)
    chosen = pp.follow(track, str(left))
    assert pp.choice_of(chosen).analysed == left
    assert f"the one chosen (--person {left})" in pp.choice_of(chosen).sentence()
    assert len(analyze_track(chosen).complete_reps) == 0  # the one standing still
    with pytest.raises(FormcheckError, match=r"no person 9 in this clip \(people in view: 1 \("):
        pp.follow(track, "9")


def test_two_people_squatting_are_both_said_and_the_longer_in_view_is_analysed():
    track = _crowd_track(panels=("squat", "squat"), lifter_scale=0.8, hide=(0, 0, 40))
    choice = pp.choice_of(pp.follow(track))
    assert len(choice.people) == 2 and all(s.squats for s in choice.people)
    assert choice.person(choice.analysed).where == "on the right"  # the left one came into view later
    assert choice.reason == "the one longest in view"
    assert ", both squat;" in choice.sentence() and "squats too" in choice.sentence()
    assert pp.everyone(track) == sorted(s.id for s in choice.people)


def test_person_values_are_checked():
    assert pp.person_rule(" Centre ") == "center"
    assert pp.person_rule("2") == "2"
    for bad in ("0", "bob", "-1", ""):
        with pytest.raises(ValueError, match="--person takes"):
            pp.person_rule(bad)


def test_a_track_keeps_its_crowd_on_disk_and_a_damaged_crowd_is_refused(tmp_path):
    track = pp.follow(_crowd_track())
    track.save(tmp_path / "t.npz")
    back = PoseTrack.load(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.crowd.ids, track.crowd.ids)
    np.testing.assert_allclose(back.image, track.image)
    assert pp.choice_of(back).analysed == pp.choice_of(track).analysed
    assert pp.choice_of(pp.follow(back, "left")).analysed == pp.choice_of(pp.follow(track, "left")).analysed
    data = dict(np.load(tmp_path / "t.npz"))
    data["crowd_image"] = data["crowd_image"][:, :2, :5]
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(FormcheckError, match="crowd_image has shape"):
        PoseTrack.load(tmp_path / "bad.npz")


def test_a_track_of_one_person_only_still_analyses_and_refuses_other_numbers():
    lifter, _ = simulate(reps=2)
    assert pp.follow(lifter) is lifter and pp.follow(lifter, "left") is lifter
    with pytest.raises(FormcheckError, match="holds one person only"):
        pp.follow(lifter, "2")


def test_chunks_join_their_crowds_and_the_numbers_run_across_the_cut():
    whole = _crowd_track(panels=("stand", "squat"))
    cut = whole.frames // 2
    parts = []
    for a, b in ((0, cut + 1), (cut - 1, whole.frames)):  # the second chunk starts before the cut
        part = PoseTrack.empty(b - a, whole.fps, whole.width, whole.height, "crowd.mp4")
        part.t = whole.t[a:b]
        slots = 2 if a == 0 else 3  # the later chunk saw a third slot's worth of people at most
        pad = [(0, 0), (0, slots - 2), (0, 0), (0, 0)]
        c = whole.crowd
        part.crowd = Crowd(np.full((b - a, slots), -1, np.int16), np.pad(c.image[a:b], pad, constant_values=np.nan),
                           np.pad(c.visibility[a:b], pad[:3], constant_values=np.nan),
                           np.pad(c.presence[a:b], pad[:3], constant_values=np.nan),
                           np.pad(c.world[a:b], pad, constant_values=np.nan))
        part.meta["source_frames"] = list(range(a, b))
        parts.append(part)
    joined = pp.follow(join(parts))
    assert joined.crowd.ids.shape == (whole.frames, 3)
    assert sorted(np.unique(joined.crowd.ids[joined.crowd.ids >= 0]).tolist()) == [1, 2]
    assert pp.choice_of(joined).analysed == pp.choice_of(pp.follow(whole)).analysed


def test_the_report_names_the_people_and_validates(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    from formcheck.outputs.report import format_text, to_dict

    analysis = analyze_track(pp.follow(_crowd_track()))
    report = to_dict(analysis)
    jsonschema.validate(report, json.loads(files("formcheck.schemas").joinpath("report.schema.json").read_text()))
    assert report["people"]["seen"] == 3 and report["people"]["analysed"] == analysis.people.analysed
    assert report["people"]["sentence"] == analysis.people.sentence()
    assert "People: 3 people in view; analysed person" in format_text(analysis).replace("\n  ", " ")
    alone = to_dict(analyze_track(simulate(reps=2)[0]))
    jsonschema.validate(alone, json.loads(files("formcheck.schemas").joinpath("report.schema.json").read_text()))
    assert alone["people"] is None


def test_the_others_are_drawn_faint_and_numbered_the_lifter_over_them():
    from dataclasses import replace

    from formcheck.outputs.render.skeleton import OTHERS, draw_frame, people_boxes, people_moment

    analysis = analyze_track(pp.follow(_crowd_track()))
    i = people_moment(analysis)
    assert i is not None and len(people_boxes(analysis, i)) == 3
    shape = (analysis.track.height, analysis.track.width, 3)
    crowded, alone = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    draw_frame(crowded, analysis, i)
    draw_frame(alone, replace(analysis, track=replace(analysis.track, crowd=None)), i)  # the lifter only
    lifter = analysis.people.analysed
    for pid, (x0, y0, x1, y1) in people_boxes(analysis, i):
        box = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
        added = np.abs(crowded[box].astype(int) - alone[box]).max(axis=2) > 0
        faint = (np.abs(crowded[box].astype(int) - np.array(OTHERS) * 0.45).max(axis=2) < 12) & added
        if pid == lifter:
            assert faint.sum() == 0  # their own skeleton is drawn as before, over nobody's
        else:
            assert faint.sum() > 200, f"person {pid}'s skeleton is not drawn"


def test_each_persons_files_are_named_apart_and_standard_output_is_refused(tmp_path):
    from pathlib import Path

    from formcheck.outputs.writers import STDOUT, OutputOptions, person_stem

    options = OutputOptions(json=tmp_path / "r.json", html=tmp_path / "r.html", out=tmp_path / "o")
    two = options.for_person(2)
    assert (two.json.name, two.html.name, two.out) == ("r.person2.json", "r.person2.html", tmp_path / "o")
    assert {p.name for _, p in two.targets(person_stem(2))} >= {"report_person2_pose.npz", "report_person2_reps.csv"}
    with pytest.raises(FormcheckError, match="not - "):
        OutputOptions(json=STDOUT).for_person(1)
    assert Path("-") == STDOUT


def test_a_batch_reads_each_clips_person_from_the_file_beside_it(tmp_path):
    from formcheck.batch.clips import discover, person_for

    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.mp4").write_bytes(b"x")
    (tmp_path / "b.mp4.person").write_text("left\n")
    (tmp_path / "notes.txt").write_text("")
    skipped: list[str] = []
    assert [p.name for p in discover(tmp_path, skipped=skipped)] == ["a.mp4", "b.mp4"]
    assert len(skipped) == 1 and "notes.txt" in skipped[0]  # the sidecar is not "left out"
    assert person_for(tmp_path / "a.mp4", "right") == "right"
    assert person_for(tmp_path / "b.mp4", "right") == "left"
    (tmp_path / "b.mp4.person").write_text("all")
    with pytest.raises(FormcheckError, match="b.mp4.person: a batch writes one report per clip"):
        person_for(tmp_path / "b.mp4", "auto")
    (tmp_path / "b.mp4.person").write_text("the tall one")
    with pytest.raises(FormcheckError, match=r"b.mp4.person: --person takes .* not 'the tall one'"):
        person_for(tmp_path / "b.mp4", "auto")


def test_a_live_picker_keeps_the_person_asked_for_and_moves_to_someone_who_squats():
    from formcheck.pose.person import Person

    track = _crowd_track()
    w, h = track.width, track.height
    scale = np.array([w, h, w], np.float32)
    centre, auto = pp.LivePicker("center"), pp.LivePicker("auto")
    picked_centre, picked_auto = [], []
    for i in range(track.frames):
        found = [Person(track.crowd.image[i, k] / scale, track.crowd.visibility[i, k], track.crowd.presence[i, k],
                        track.crowd.world[i, k]) for k in range(3) if not np.isnan(track.crowd.image[i, k, 0, 0])]
        for picker, out in ((centre, picked_centre), (auto, picked_auto)):
            lifter = picker.pick(float(track.t[i]), found, w, h)
            out.append(float(lifter.image[23:25, 0].mean() * w) // PANEL)
    assert set(picked_centre) == {1.0}  # the middle panel throughout
    assert picked_auto[0] != 1.0 and picked_auto[-1] == 1.0  # first the largest, then the one who squats


def _cli(*args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=300)


def test_person_on_the_command_line_bad_values_are_one_line_and_all_writes_each(tmp_path):
    track = pp.follow(_crowd_track())
    track.save(tmp_path / "crowd.npz")
    saved = tmp_path / "crowd.npz"
    for args, message in ((["--person", "bob"], "argument --person: one of auto, left, right, center, largest, "
                                                "all or a person's number from a report, not 'bob'"),
                          (["--person", "9"], "--person 9: no person 9 in this clip (people in view: 1 ("),
                          (["--person", "all", "--json", "-"], "--person all writes one report per person")):
        done = _cli("analyze", str(saved), *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert done.stdout == ""
    done = _cli("analyze", str(saved), "--person", "all", "--out", str(tmp_path / "r"), "-q")
    assert done.returncode == 0, done.stderr
    reports = sorted((tmp_path / "r").glob("report_person*.json"))
    assert [p.name for p in reports] == ["report_person1.json", "report_person2.json", "report_person3.json"]
    reps = sorted(json.loads(p.read_text())["rep_count"] for p in reports)
    assert reps == [0, 0, 3]  # the squatter's own reps, and none for the two standing still
    assert done.stdout.count("People: 3 people in view") == 3
    live = _cli("live", "--source", str(saved), "--person", "2")
    assert live.returncode == 2 and "a live session numbers people as they come" in live.stderr
