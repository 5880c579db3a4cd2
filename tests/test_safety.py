"""Red-flag screening and the interactive symptom checklist."""

from __future__ import annotations

import io
import re

import pytest

import shared_data
from formcheck.errors import FormcheckError
from formcheck.coach.safety import RED_FLAGS, SYMPTOMS, Safety, assess, checklist

DOCS = shared_data.path("documents")

EXPECTED_CODES = {
    "back_cramping", "radiating_leg_pain", "numbness_tingling", "leg_weakness",
    "bladder_bowel", "trauma", "fever_weight_loss", "worsening_despite_rest",
    "tight_hamstrings", "pain_after_stretching",
}
EXPECTED_RED_FLAGS = {
    "radiating_leg_pain", "numbness_tingling", "leg_weakness", "bladder_bowel",
    "trauma", "fever_weight_loss", "worsening_despite_rest",
}


def test_symptom_codes_and_red_flags():
    assert set(SYMPTOMS) == EXPECTED_CODES
    assert set(RED_FLAGS) == EXPECTED_RED_FLAGS
    assert all(label.strip() for label in SYMPTOMS.values())


@pytest.mark.parametrize("code", sorted(EXPECTED_RED_FLAGS))
def test_each_red_flag_refers_to_a_professional(code):
    result = assess([code])
    assert result.red_flags == [code]
    assert result.message.strip()
    assert "medical professional" in result.message.lower()
    assert SYMPTOMS[code].lower() in result.message.lower()  # says what was reported
    assert result.urgent is (code == "bladder_bowel")


def test_bladder_bowel_message_is_urgent():
    msg = assess(["bladder_bowel"]).message
    assert msg.startswith("URGENT")
    assert "emergency" in msg.lower() and "today" in msg.lower()


def test_urgent_if_any_flag_is_urgent():
    result = assess(["trauma", "bladder_bowel"])
    assert result.urgent and result.red_flags == ["bladder_bowel", "trauma"]


def test_no_red_flags_no_message():
    result = assess(["back_cramping", "tight_hamstrings"])
    assert result.red_flags == [] and result.message == "" and result.urgent is False
    assert result.guidance == ["back_cramping", "tight_hamstrings"]
    assert assess([]) == Safety()


def test_guidance_kept_alongside_red_flags():
    result = assess(["pain_after_stretching", "leg_weakness"])
    assert result.red_flags == ["leg_weakness"]
    assert result.guidance == ["pain_after_stretching"]


def test_message_never_diagnoses():
    msg = assess(sorted(EXPECTED_RED_FLAGS)).message.lower()
    for word in ("sciatica", "cauda equina", "herniat", "disc", "diagnos", "you have"):
        assert word not in msg


def test_to_dict():
    d = assess(["fever_weight_loss"]).to_dict()
    assert set(d) == {"red_flags", "message", "urgent"}
    assert d["red_flags"] == ["fever_weight_loss"] and d["urgent"] is False


def test_unknown_symptom_raises_one_line_error():
    with pytest.raises(FormcheckError) as err:
        assess(["back_cramping", "sore_toe"])
    text = str(err.value)
    assert "sore_toe" in text and "\n" not in text
    assert all(code in text for code in EXPECTED_CODES)


def test_codes_accepted_loosely():
    result = assess(["Leg-Weakness", "back cramping", "TRAUMA", "leg_weakness"])
    assert result.red_flags == ["leg_weakness", "trauma"]
    assert result.guidance == ["back_cramping"]


# ------------------------------------------------------------- checklist

def scripted(answers):
    """An ask() that replays answers, then raises EOFError like input() does."""
    replies = iter(answers)
    prompts = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(replies)
        except StopIteration:
            raise EOFError from None

    return ask, prompts


def test_checklist_asks_every_label_and_returns_yes_codes():
    codes = list(SYMPTOMS)
    answers = ["y" if c in ("back_cramping", "tight_hamstrings") else "" for c in codes]
    ask, prompts = scripted(answers)
    out = io.StringIO()
    assert checklist(ask, out) == ["back_cramping", "tight_hamstrings"]
    assert len(prompts) == len(codes)
    for prompt, label in zip(prompts, SYMPTOMS.values()):
        assert label in prompt
    text = out.getvalue()
    assert "medical professional" not in text
    assert "cramping" in text.lower() and "hamstrings" in text.lower()


def test_checklist_reasks_on_junk_and_stops_at_eof():
    # 1st question: junk, then "yes"; 2nd: "no"; 3rd: "YES"; then EOF.
    ask, prompts = scripted(["maybe", "yes", "no", "YES"])
    out = io.StringIO()
    assert checklist(ask, out) == ["back_cramping", "numbness_tingling"]
    assert len(prompts) == 5  # four answers plus the question that hit EOF
    assert prompts[0] == prompts[1]  # the junk answer re-asked the same question
    assert "y or n" in out.getvalue()


def test_checklist_prints_referral_before_advice():
    answers = {"back_cramping": "y", "bladder_bowel": "yes", "pain_after_stretching": "y"}
    ask, _ = scripted([answers.get(c, "n") for c in SYMPTOMS])
    out = io.StringIO()
    assert checklist(ask, out) == ["back_cramping", "bladder_bowel", "pain_after_stretching"]
    text = out.getvalue()
    referral = text.index("URGENT")
    assert text.index("medical professional") > referral
    advice = text.index("(cramping)")
    assert referral < advice < text.index("(pain_after_stretching)")


def test_checklist_immediate_eof_selects_nothing():
    ask, _ = scripted([])
    out = io.StringIO()
    assert checklist(ask, out) == []
    assert "No red flags" in out.getvalue()


# ------------------------------------------------------------- own words

@shared_data.needs("documents")
def test_safety_text_is_in_our_own_words():
    def words(t):
        return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", t.lower().replace("\u2019", "'"))

    def grams(t):
        w = words(t)
        return {tuple(w[i:i + 8]) for i in range(len(w) - 7)}

    docs = set()
    for path in DOCS.glob("*.txt"):
        docs |= grams(path.read_text(encoding="utf-8"))
    texts = [*SYMPTOMS.values(), assess(sorted(EXPECTED_RED_FLAGS)).message]
    assert not [t for t in texts if grams(t) & docs]
