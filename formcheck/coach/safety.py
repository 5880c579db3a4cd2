"""Symptoms the user reports, screened for red flags before any exercise advice.

Video can't see nerves or organs, so some symptoms mean "see a professional
first" regardless of what the squat looks like. This module never tries to
name a cause; it only says who to see and how soon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, TextIO

from formcheck.coach.advice import SYMPTOM_ENTRIES, advice_for
from formcheck.errors import FormcheckError

# Code -> the label shown to the user (also the checklist question).
SYMPTOMS: dict[str, str] = {
    "back_cramping": "Back cramping during or after squats",
    "radiating_leg_pain": "Pain shooting down the leg, past the knee",
    "numbness_tingling": "Numbness or tingling in the legs or feet",
    "leg_weakness": "Weakness in the legs or feet",
    "bladder_bowel": "Bladder or bowel changes",
    "trauma": "Pain that started after a fall or other trauma",
    "fever_weight_loss": "Fever or unexplained weight loss",
    "worsening_despite_rest": "Pain getting worse over time despite rest",
    "tight_hamstrings": "Tight hamstrings / stiffness after sitting",
    "pain_after_stretching": "Back pain after stretching",
}

RED_FLAGS: frozenset[str] = frozenset({
    "radiating_leg_pain",
    "numbness_tingling",
    "leg_weakness",
    "bladder_bowel",
    "trauma",
    "fever_weight_loss",
    "worsening_despite_rest",
})

# Red flags that can't wait for an ordinary appointment.
URGENT: frozenset[str] = frozenset({"bladder_bowel"})


def _key(text: str) -> str:
    # One normal form for codes and labels, so "Leg-Weakness", "leg weakness"
    # and the label itself all land on the same code.
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


_LOOKUP: dict[str, str] = {
    **{_key(label): code for code, label in SYMPTOMS.items()},
    **{_key(code): code for code in SYMPTOMS},
}


@dataclass
class Safety:
    red_flags: list[str] = field(default_factory=list)
    urgent: bool = False
    message: str = ""
    guidance: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"red_flags": list(self.red_flags), "message": self.message, "urgent": self.urgent}


def normalize(symptoms: Iterable[str]) -> list[str]:
    """Symptom codes in SYMPTOMS order, deduplicated; FormcheckError on unknown input."""
    found = set()
    for raw in symptoms:
        code = _LOOKUP.get(_key(raw))
        if code is None:
            raise FormcheckError(
                f"unknown symptom {raw!r}; valid codes: {', '.join(SYMPTOMS)}")
        found.add(code)
    return [code for code in SYMPTOMS if code in found]


def _referral(red_flags: list[str]) -> str:
    reported = "; ".join(SYMPTOMS[c].lower() for c in red_flags)
    lines = []
    if any(c in URGENT for c in red_flags):
        lines.append(
            "URGENT: bladder or bowel changes together with back pain need medical "
            "attention today. Go to an emergency department or call your local "
            "emergency number now, and don't try to handle this with exercise.")
    lines.append(
        "Please see a medical professional (a doctor or physiotherapist) before "
        "using any of the exercise advice.")
    lines.append(f"You reported: {reported}.")
    lines.append(
        "Signs like these deserve a proper in-person check. A video of your squat "
        "can't tell what is behind them, so get assessed first and come back to "
        "the form notes once you've been cleared.")
    return "\n".join(lines)


def assess(symptoms: Iterable[str]) -> Safety:
    codes = normalize(symptoms)
    red_flags = [c for c in codes if c in RED_FLAGS]
    return Safety(
        red_flags=red_flags,
        urgent=any(c in URGENT for c in red_flags),
        message=_referral(red_flags) if red_flags else "",
        guidance=[c for c in codes if c in SYMPTOM_ENTRIES],
    )


_YES = {"y", "yes"}
_NO = {"n", "no", ""}


def checklist(ask: Callable[[str], str], out: TextIO) -> list[str]:
    """Ask about each symptom (y/n), print the assessment, return the chosen codes.

    `ask` behaves like input(): it may raise EOFError, which ends the checklist
    with every remaining question counted as "no", so piping in a partial
    answer file works.
    """
    out.write("Before the advice, a few yes/no questions (Enter = no).\n")
    selected: list[str] = []
    for code, label in SYMPTOMS.items():
        try:
            answer = _yes_no(ask, f"{label}? [y/N] ", out)
        except EOFError:
            out.write("\n")
            break
        if answer:
            selected.append(code)

    result = assess(selected)
    out.write("\n")
    # The referral goes first so it can't be missed under the exercise notes.
    if result.message:
        out.write(result.message + "\n\n")
    entries = advice_for((), result.guidance)
    if entries:
        heading = ("Once you've been cleared, these notes may help:" if result.red_flags
                   else "Advice that applies:")
        out.write(heading + "\n")
        for entry in entries:
            out.write(f"  - {entry.title} ({entry.fault})\n")
    elif not result.red_flags:
        out.write("No red flags reported; the form advice from your video applies as usual.\n")
    return selected


def _yes_no(ask: Callable[[str], str], prompt: str, out: TextIO) -> bool:
    while True:
        reply = ask(prompt).strip().lower()
        if reply in _YES:
            return True
        if reply in _NO:
            return False
        out.write("Please answer y or n.\n")
