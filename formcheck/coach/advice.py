"""Findings -> corrective advice (cues, drills, progressions) read from data/advice.toml.

The text lives in TOML so it can be reviewed and edited without touching code;
this module only loads it, checks its shape, and decides what to show in what
order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Iterable

from formcheck.coach.config import fault_codes, tomllib

# Symptom the user reports (see formcheck.coach.safety) -> advice entry it unlocks.
# Order here is the order those entries are shown in.
SYMPTOM_ENTRIES: dict[str, str] = {
    "back_cramping": "cramping",
    "tight_hamstrings": "tight_hamstrings",
    "pain_after_stretching": "pain_after_stretching",
}

GENERAL = "general"
# What an item names as its source where the five articles do not cover it.
GENERAL_PRACTICE = "general coaching practice"
_TEXT_KEYS = ("title", "why", "progression")
_LIST_KEYS = ("cues", "drills")


@dataclass(frozen=True)
class Item:
    """One cue or drill, written once and shared by every entry that lists it."""

    key: str
    text: str
    source: str  # "; "-joined article titles
    call: str = ""  # the few words the live coach shows mid-set (cues only)


@dataclass(frozen=True)
class Advice:
    fault: str
    title: str
    why: str
    cue_items: tuple[Item, ...]
    drill_items: tuple[Item, ...]
    progression: str
    source: str
    # Kept out of to_dict(): it is selection logic, not something to show.
    requires: tuple[str, ...] = ()

    @property
    def is_combination(self) -> bool:
        return len(self.requires) > 1

    @property
    def cues(self) -> tuple[str, ...]:
        return tuple(c.text for c in self.cue_items)

    @property
    def drills(self) -> tuple[str, ...]:
        return tuple(d.text for d in self.drill_items)

    def to_dict(self) -> dict:
        return {
            "fault": self.fault,
            "title": self.title,
            "why": self.why,
            "cues": list(self.cues),
            "drills": list(self.drills),
            "progression": self.progression,
            "source": self.source,
        }


def _sources(raw: dict) -> str:
    return "; ".join(raw.get("sources") or ([raw["source"]] if raw.get("source") else []))


def _items(table: dict, kind: str) -> dict[str, Item]:
    out = {}
    for key, raw in table.items():
        if not isinstance(raw.get("text"), str) or not raw["text"].strip() or not _sources(raw):
            raise ValueError(f"advice.toml: {kind} {key!r} needs a text and a source")
        out[key] = Item(key, raw["text"].strip(), _sources(raw), str(raw.get("call", "")).strip())
    return out


def _parse(raw: dict, cues: dict[str, Item], drills: dict[str, Item]) -> Advice:
    fault = raw.get("fault", "?")
    # A malformed entry is a packaging bug; fail loudly at load, naming it.
    for key in _TEXT_KEYS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ValueError(f"advice.toml: entry {fault!r} needs a non-empty {key!r}")
    for key in _LIST_KEYS:
        if not raw.get(key) or not all(isinstance(x, str) and x.strip() for x in raw[key]):
            raise ValueError(f"advice.toml: entry {fault!r} needs a non-empty list {key!r}")
    unknown = [k for k in raw["cues"] if k not in cues] + [k for k in raw["drills"] if k not in drills]
    if unknown:
        raise ValueError(f"advice.toml: entry {fault!r} lists unknown cues or drills {unknown}")
    if not _sources(raw):
        raise ValueError(f"advice.toml: entry {fault!r} names no source")
    requires = tuple(raw.get("requires", ()))
    unknown = [code for code in requires if code not in fault_codes()]
    if unknown:
        raise ValueError(f"advice.toml: entry {fault!r} requires unknown faults {unknown}")
    return Advice(
        fault=fault,
        title=raw["title"].strip(),
        why=raw["why"].strip(),
        cue_items=tuple(cues[k] for k in raw["cues"]),
        drill_items=tuple(drills[k] for k in raw["drills"]),
        progression=raw["progression"].strip(),
        source=_sources(raw),
        requires=requires,
    )


@lru_cache(maxsize=1)
def _load() -> tuple[Advice, ...]:
    resource = files("formcheck.coach") / "data" / "advice.toml"
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    cues, drills = _items(data.get("cue", {}), "cue"), _items(data.get("drill", {}), "drill")
    entries = tuple(_parse(raw, cues, drills) for raw in data.get("advice", []))
    names = {e.fault for e in entries}
    missing = [n for n in (*fault_codes(), *SYMPTOM_ENTRIES.values(), GENERAL) if n not in names]
    if missing:
        raise ValueError(f"advice.toml: no entry for {missing}")
    return entries


def entry(name: str) -> Advice:
    """The entry for a fault code, a "+"-joined combination, a symptom entry or "general"."""
    return next(e for e in _load() if e.fault == name)


def call(code: str) -> str:
    """What the live coach shows mid-set for a fault: the call of the first
    cue of its entry, which is also the cue the report leads with."""
    return next((c.call for c in entry(code).cue_items if c.call), "")


def all_entries() -> list[Advice]:
    """Every advice entry, in file order."""
    return list(_load())


def advice_for(faults: Iterable[str], symptoms: Iterable[str] = ()) -> list[Advice]:
    """Advice to show for a set of detected faults and reported symptoms.

    Order: matching combinations (most specific first), then single faults in
    the fault specifications' priority order, then symptom entries, then `general` if any fault was
    found. Unknown fault or symptom codes are ignored: validating symptoms is
    formcheck.coach.safety's job, and a newer detector may emit codes we have no
    text for yet.
    """
    present = {f for f in faults if f in fault_codes()}
    reported = set(symptoms)
    entries = _load()
    by_name = {e.fault: e for e in entries}

    combos = [e for e in entries if e.is_combination and present.issuperset(e.requires)]
    # sorted() is stable, so combos of equal size keep their file order.
    combos = sorted(combos, key=lambda e: -len(e.requires))
    singles = [by_name[code] for code in fault_codes() if code in present]
    extras = [by_name[name] for code, name in SYMPTOM_ENTRIES.items() if code in reported]
    general = [by_name[GENERAL]] if present else []
    return [*combos, *singles, *extras, *general]
