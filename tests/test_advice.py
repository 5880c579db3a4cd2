"""Advice data and selection: coverage, sourcing, ordering, and own-words text."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

import shared_data
from formcheck.coach.advice import GENERAL_PRACTICE, SYMPTOM_ENTRIES, Advice, advice_for, all_entries
from formcheck.coach.config import fault_codes

DOCS = shared_data.path("documents")

# The five source articles, as each one's headline reads in its file.
TITLES = {
    "Why Does My Back Hurt When I Squat?",
    "Why Is My Back Cramping During The Squat? Solutions Here!",
    "Can Tight Hamstrings Cause Lower Back Pain?",
    "The Right Way to Stretch for Relief After Stretching Hurts Your Back",
    "Does Weight Training Cause Back Pain? What a Decade of Research Reveals",
}

needs_docs = shared_data.needs("documents")


def entry(name: str) -> Advice:
    return next(e for e in all_entries() if e.fault == name)


def text_of(e: Advice) -> str:
    return " ".join([e.title, e.why, *e.cues, *e.drills, e.progression]).lower()


def sources(e: Advice) -> list[str]:
    return e.source.split("; ")


def doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.txt"))


# ------------------------------------------------------------- data coverage

def test_every_fault_code_has_an_entry():
    names = {e.fault for e in all_entries()}
    for code in (*fault_codes(), *SYMPTOM_ENTRIES.values(), "general"):
        assert code in names


def test_required_combinations_exist():
    names = {e.fault for e in all_entries()}
    assert "forward_lean+limited_knee_travel" in names
    assert "butt_wink+forward_lean" in names


def test_combination_name_matches_requires():
    for e in all_entries():
        if "+" in e.fault:
            assert set(e.fault.split("+")) == set(e.requires)
            assert len(e.requires) >= 2
        elif e.fault in fault_codes():
            assert e.requires == (e.fault,)


@pytest.mark.parametrize("e", all_entries(), ids=lambda e: e.fault)
def test_entry_is_complete(e):
    assert e.title.strip() and e.why.strip() and e.progression.strip()
    assert e.cues and all(c.strip() for c in e.cues)
    assert e.drills and all(d.strip() for d in e.drills)


@pytest.mark.parametrize("e", all_entries(), ids=lambda e: e.fault)
def test_entry_cites_one_of_the_five_titles(e):
    for s in sources(e):
        assert s in TITLES or s == GENERAL_PRACTICE


@needs_docs
def test_hard_coded_titles_match_the_documents():
    # Normally the headline is line 1, but one scraped file opens with a site
    # breadcrumb ("How to Train8 min read read") and has its headline on line 3.
    # So: each document's first few non-empty lines must hold exactly one title.
    found = set()
    for path in doc_files():
        head = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][:3]
        titles = [ln for ln in head if ln in TITLES]
        assert len(titles) == 1, f"{path.name}: {head}"
        found.add(titles[0])
    assert found == TITLES


@needs_docs
def test_every_document_is_used():
    cited = {s for e in all_entries() for s in sources(e)}
    assert cited - {GENERAL_PRACTICE} == TITLES


def test_to_dict_shape():
    d = entry("butt_wink").to_dict()
    assert set(d) == {"fault", "title", "why", "cues", "drills", "progression", "source"}
    assert isinstance(d["source"], str) and "; " in d["source"]
    assert isinstance(d["cues"], list) and isinstance(d["drills"], list)


# ------------------------------------------------------------- content checks

def test_ankle_combo_gives_heel_elevation_and_wall_stretch():
    t = text_of(entry("forward_lean+limited_knee_travel"))
    assert "wedge" in t or "lifting shoes" in t
    assert "ankle stretch" in t and "wall" in t


def test_butt_wink_caps_depth_with_box_or_bench():
    t = text_of(entry("butt_wink"))
    assert "box" in t or "bench" in t
    assert "neutral" in t


def test_hamstring_combo_drills():
    t = text_of(entry("butt_wink+forward_lean"))
    for drill in ("hamstring stretch", "hamstring sweep", "glute bridge", "bird-dog"):
        assert drill in t
    assert "not your lower back" in t  # stretch the hips, not the back


def test_general_covers_bracing_and_recovery_factors():
    t = text_of(entry("general"))
    assert "360" in t and "belly" in t and "sides" in t
    assert "keep training" in t
    for word in ("sleep", "stress"):
        assert word in t


def test_cramping_covers_the_protocol():
    t = text_of(entry("cramping"))
    for word in ("sodium", "potassium", "banana", "failure", "walking",
                 "diaphragm", "bodyweight squats", "two weeks", "ab work"):
        assert word in t, word


def test_shallow_depth_is_neutral():
    t = text_of(entry("shallow_depth"))
    assert "choice" in t or "your call" in t
    for word in ("bad", "wrong", "dangerous", "must"):
        assert not re.search(rf"\b{word}\b", t)


def test_no_diagnosis_words():
    # Advice never names a condition; that belongs to a professional.
    for e in all_entries():
        t = text_of(e)
        for word in ("sciatica", "herniat", "cauda equina", "diagnos"):
            assert word not in t, (e.fault, word)


# ------------------------------------------------------------- selection

def faults_of(result: list[Advice]) -> list[str]:
    return [a.fault for a in result]


def test_no_faults_no_advice():
    assert advice_for([]) == []


def test_single_fault_then_general():
    assert faults_of(advice_for(["heel_lift"])) == ["heel_lift", "general"]


def test_single_faults_follow_fixed_priority():
    got = faults_of(advice_for(["shallow_depth", "heel_lift", "hip_first"]))
    assert got == ["hip_first", "heel_lift", "shallow_depth", "general"]


def test_combination_first_then_its_single_faults():
    got = faults_of(advice_for(["limited_knee_travel", "forward_lean"]))
    assert got == ["forward_lean+limited_knee_travel", "forward_lean",
                   "limited_knee_travel", "general"]


def test_all_matching_combinations_come_before_singles():
    got = faults_of(advice_for(["butt_wink", "forward_lean", "limited_knee_travel"]))
    combos = [f for f in got if "+" in f]
    assert set(combos) == {"forward_lean+limited_knee_travel", "butt_wink+forward_lean"}
    assert got[:len(combos)] == combos
    assert got[len(combos):] == ["forward_lean", "butt_wink", "limited_knee_travel", "general"]


def test_combination_needs_all_its_faults():
    assert "forward_lean+limited_knee_travel" not in faults_of(advice_for(["forward_lean"]))


def test_unknown_faults_ignored_and_duplicates_collapse():
    got = faults_of(advice_for(["knees_cave", "butt_wink", "butt_wink"]))
    assert got == ["butt_wink", "general"]
    assert advice_for(["knees_cave"]) == []


def test_symptom_entries_after_faults_before_general():
    got = faults_of(advice_for(["butt_wink"], ["pain_after_stretching", "back_cramping"]))
    assert got == ["butt_wink", "cramping", "pain_after_stretching", "general"]


def test_symptoms_alone_give_no_general():
    assert faults_of(advice_for([], ["tight_hamstrings"])) == ["tight_hamstrings"]


# ------------------------------------------------------------- own words

def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))


def ngrams(tokens: list[str], n: int = 8) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


@needs_docs
def test_no_eight_word_run_copied_from_the_documents():
    import sys
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    doc_grams = set()
    for path in doc_files():
        doc_grams |= ngrams(words(path.read_text(encoding="utf-8")))
    assert doc_grams

    raw = (files("formcheck.coach") / "data" / "advice.toml").read_text(encoding="utf-8")
    # Source citations are meant to be verbatim titles; everything else is ours.
    # Each string is checked on its own so runs can't span two fields.
    copied = {}
    data = tomllib.loads(raw)
    for kind in ("cue", "drill"):
        for key, item in data[kind].items():
            hits = ngrams(words(item["text"])) & doc_grams
            if hits:
                copied[f"{kind}.{key}"] = sorted(" ".join(h) for h in hits)
    for e in data["advice"]:
        for key, value in e.items():
            if key in ("source", "sources", "fault", "requires"):
                continue
            for text in value if isinstance(value, list) else [value]:
                hits = ngrams(words(text)) & doc_grams
                if hits:
                    copied[f"{e['fault']}.{key}"] = sorted(" ".join(h) for h in hits)
    assert not copied, copied
