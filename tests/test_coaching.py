"""What the lifter reads: the verdict, the fault to fix first, a short plan,
no sentence twice, the same words everywhere."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from formcheck.coach.advice import all_entries, entry
from formcheck.analyze import analyze_track
from formcheck.coach.coaching import coach, rank_faults
from formcheck.coach.faults import ClipFault, packaged_specs
from formcheck.outputs.report import format_text, to_dict
from formcheck.pose.simulate import PRESETS, simulate


def analysis_of(preset: str, symptoms=(), **kw):
    track, _ = simulate(**{**PRESETS[preset], **kw})
    track.source = f"{preset}.npz"
    return analyze_track(track, symptoms=symptoms)


@pytest.fixture(scope="module")
def two_faults():
    """Five reps with stiff ankles and a lean that grows on the way up: forward lean and limited knee travel."""
    a = analysis_of("limited_ankle", reps=5, ascent_lean_extra_deg=12.0, noise_px=1.0, seed=7)
    assert [f.code for f in a.faults] == ["forward_lean", "limited_knee_travel"]
    return a


def sentences(text: str) -> list[str]:
    """Sentences of a report, wrapped lines joined, lower case; short
    fragments (labels, table cells) are not sentences."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\[\d+(, \d+)*\]", " ", text)  # source numbers
    parts = re.split(r"(?<=[.!?;])\s+|\s+(?=(?:Drill|Then|Why|Cue):)", text)
    return [p.strip(" .;").lower() for p in parts if len(p.split()) >= 5]


def repeated(text: str) -> list[str]:
    seen, out = set(), []
    for s in sentences(text):
        if s in seen:
            out.append(s)
        seen.add(s)
    return out


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<(li|p|h[1-6]|tr|figcaption|th|td)\b", r"\n<\1", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_five_reps_two_faults_fit_in_twenty_lines(two_faults):
    text = format_text(two_faults)
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 20, text
    assert max(len(ln) for ln in lines) <= 96
    # The verdict opens the report: reps, depth, the fault to fix first.
    assert lines[0].startswith("limited_ankle.npz: 5 reps, all ") and "parallel" in lines[0]
    assert lines[1] == "Fix this first: forward lean, moderate, in all 5 reps."
    # One cue, one or two drills, one progression; the other fault on one line.
    assert text.count("Next set, think") == 1 and text.count("Drill:") in (1, 2) and text.count("Then:") == 1
    assert sum(ln.startswith("Also: ") for ln in lines) == 1 and "limited knee travel" in text
    assert not re.search(r"\((m|s)\)|hipLag|shin lengths|\(feet\)", text)  # no jargon, no abbreviations


def test_combination_merges_rather_than_repeats(two_faults):
    c = coach(two_faults)
    assert c.plan.title == entry("forward_lean+limited_knee_travel").title
    drills = [x.text for x in c.plan.lines if x.kind == "drill"]
    assert len(drills) == 2 and any("wedge" in d for d in drills) and any("wall" in d for d in drills)
    # The single-fault entries list the same two drills; they appear once in the whole detailed report.
    text = format_text(two_faults, details=True)
    for d in drills:
        assert text.replace("\n", " ").count(d.split(":")[0] + ":") == 1
    assert text.lower().count("brace 360 degrees") == 1


CASES = [
    ("limited_ankle", (), dict(reps=5, ascent_lean_extra_deg=12.0)),
    ("butt_wink", (), dict(trunk_bottom_deg=56.0, ascent_lean_extra_deg=8.0)),
    ("forward_lean", ("back_cramping", "tight_hamstrings", "pain_after_stretching"), {}),
    ("heel_lift", (), {}),
    ("shallow", ("numbness_tingling",), {}),
    ("forward_lean", (), dict(view="front")),
    ("clean", (), {}),
]


@pytest.mark.parametrize("preset, symptoms, kw", CASES, ids=[c[0] + ("+" if c[1] else "") for c in CASES])
def test_no_sentence_twice_in_a_report(preset, symptoms, kw):
    a = analysis_of(preset, symptoms, **kw)
    for details in (False, True):
        text = format_text(a, details=details)
        assert repeated(text) == [], text


def test_no_sentence_twice_in_the_html(two_faults):
    from formcheck.outputs.render.html import build_html

    page, _ = build_html(two_faults)
    text = visible_text(page)
    assert repeated(text) == []
    # The page says what the terminal says, in the same order.
    c = coach(two_faults)
    plan = [x.text[-30:] for x in c.plan.lines]
    where = [text.find(p) for p in [c.verdict[1], *plan]]
    assert -1 not in where and where == sorted(where)


def test_the_sentence_splitter_finds_repeats():
    assert repeated("Keep the bar over mid-foot always. Keep the bar over mid-foot always.") != []
    assert repeated("Drill: one two three four five six\n  Drill: one two three four five six") != []


def test_front_view_says_what_it_cannot_show():
    a = analysis_of("forward_lean", view="front")
    c = coach(a)
    assert c.primary is None and c.plan is None
    assert c.verdict[1].startswith("Nothing to fix that this view can show. Film from the side to check ")
    assert "forward lean" in c.verdict[1]
    assert "keep it up" not in format_text(a).lower()


def test_a_view_that_misses_faults_of_two_views_names_both():
    # From an angle, heel lift needs the side and knee cave or hip shift the front.
    c = coach(analysis_of("clean", view="oblique"))
    assert c.primary is None
    assert "film from the side to check heel lift and from the front to check knees cave in and " \
           "hips shift to one side." in c.verdict[1].lower(), c.verdict


def test_fault_to_fix_first_ranks_back_load_over_severity_and_share():
    specs = packaged_specs()
    depth = ClipFault("shallow_depth", (1, 2, 3, 4), "severe")
    lean = ClipFault("forward_lean", (2, 3), "mild")
    heels = ClipFault("heel_lift", (1, 2, 3, 4), "severe")
    assert [f.code for f in rank_faults([depth, heels, lean], specs, 4)] == ["forward_lean", "heel_lift",
                                                                              "shallow_depth"]
    # Same back load: severity, then the share of reps.
    wink = ClipFault("butt_wink", (1, 2), "moderate")
    assert rank_faults([lean, wink], specs, 4)[0].code == "butt_wink"
    wink_mild = ClipFault("butt_wink", (1, 2, 3, 4), "mild")
    assert rank_faults([lean, wink_mild], specs, 4)[0].code == "butt_wink"


def test_depth_alone_is_worth_a_look_not_a_fault():
    c = coach(analysis_of("shallow"))
    assert c.primary == "shallow_depth" and c.verdict[1].startswith("Worth a look (a choice, not a fault)")


def test_red_flags_come_before_everything():
    a = analysis_of("forward_lean", ("numbness_tingling",))
    text = format_text(a)
    assert text.index("medical professional") < text.index("Fix this first") < text.index("Next set")
    assert text.index("cleared") < text.index("Next set")


def test_every_item_names_its_source(two_faults):
    a = analysis_of("forward_lean", ("back_cramping",))
    for c in (coach(two_faults), coach(a)):
        items = [*c.plan.lines, *(x for s in c.details for x in s.lines if x.kind != "note")]
        items += [x for x in c.also if x.kind == "symptom"]
        assert items and all(x.source for x in items)
        assert set(c.sources) >= {t for x in items for t in x.source.split("; ")}
    text = format_text(two_faults)
    assert "[1] Why Does My Back Hurt When I Squat?" in text


def test_live_calls_are_the_words_the_report_leads_with():
    for spec in packaged_specs():
        lead = entry(spec.code).cue_items[0]
        assert spec.cue == lead.call and lead.call
        assert lead.call.lower() in lead.text.lower()  # the same words, not a second wording
    for e in all_entries():
        for c in e.cue_items:
            assert not c.call or c.call.lower() in c.text.lower()


def test_details_spell_out_units_and_tempo(two_faults):
    text = format_text(two_faults, details=True)
    assert "knee ahead of the ankle (of shin length)" in text and "26%" in text
    assert "chest lean on the way up (from upright)" in text
    assert "time down" in text and "time up" in text
    assert "Why:" in text


def test_cant_tell_reasons_are_grouped_in_the_details():
    track, _ = simulate(reps=3)
    track.image[:, [27, 28, 29, 30, 31, 32], 1] += track.height  # feet below the frame edge
    a = analyze_track(track)
    notes = [x.text for s in coach(a).details for x in s.lines if x.kind == "note"]
    heel = [n for n in notes if n.startswith("Heel lift")]
    assert len(heel) == 1 and "can't tell" in heel[0] and "all 3 reps" in heel[0]


def test_json_carries_the_same_coaching(two_faults):
    d = to_dict(two_faults)["coaching"]
    c = coach(two_faults)
    assert d["verdict"] == list(c.verdict) and d["primary"] == "forward_lean"
    assert [x["text"] for x in d["plan"]["lines"]] == [x.text for x in c.plan.lines]


def test_panel_avoids_the_lifter():
    from formcheck.outputs.render.skeleton import panel_corner

    shape = (720, 1280, 3)
    head_top_left = np.array([[0.0, 0.0, 300.0, 700.0]])
    assert panel_corner(shape, (200, 250), head_top_left) == "top-right"
    assert panel_corner(shape, (200, 250), np.array([[1000.0, 0.0, 1280.0, 720.0]])) == "top-left"
    everywhere = np.array([[0.0, 0.0, 1280.0, 400.0]])  # top covered: a bottom corner, unless a note sits there
    assert panel_corner(shape, (200, 250), everywhere).startswith("bottom")
    assert panel_corner(shape, (200, 250), everywhere, note=True).startswith("top")
