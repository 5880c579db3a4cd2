"""What the lifter reads, decided once: the verdict, the one thing to fix
first and the plan for it, then the details.

Terminal, HTML, JSON and the live session's report all render a `Coaching`
and none of them writes coaching text of its own, so they say the same
things in the same order. No sentence is said twice: cues and drills are
shared items (formcheck.coach.advice), and an item already said is never repeated
further down, whichever entry lists it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formcheck.coach.advice import GENERAL, SYMPTOM_ENTRIES, Advice, Item, entry
from formcheck.coach.faults import SEVERITIES, ClipFault, FaultSpec

# The per-rep numbers shown in the details, in this order; tempo last.
DETAIL_METRICS = ("depth", "trunk_lean_ascent", "trunk_lean_max", "shin_angle_bottom", "knee_travel", "tuck",
                  "hip_first_lag", "heel_rise", "descent_time", "ascent_time")
PLAN_DRILLS = 2  # drills shown for the fault to fix first; the rest are in the details


@dataclass(frozen=True)
class Line:
    """One thing to read, with the articles it comes from ("; "-joined titles)."""

    kind: str  # cue | drill | progression | why | also | symptom
    text: str
    source: str = ""
    call: str = ""  # for a cue: the words the live coach shows mid-set


LEADS = {"drill": "Drill:", "progression": "Then:", "why": "Why:"}


def spoken(x: Line, plan: bool = True) -> tuple[str, str, str]:
    """(lead, call, rest) of a line as every renderer shows it: in the plan a
    cue leads with the words the live coach calls, quoted, e.g.
    ("Next set, think", "Chest up", " as you drive out of the bottom")."""
    if x.kind != "cue":
        return LEADS.get(x.kind, ""), "", x.text
    if not (plan and x.call):
        return "Cue:", "", x.text
    if x.text.lower().startswith(x.call.lower()):
        return "Next set, think", x.text[:len(x.call)], x.text[len(x.call):]
    return "Next set, think", x.call, f": {x.text[0].lower()}{x.text[1:]}"


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class RepDetail:
    number: int
    bottom_s: float
    partial: bool
    faults: tuple[str, ...]  # "forward lean (moderate)"
    values: tuple[tuple[str, str], ...]  # (metric name, what the lifter reads)


@dataclass
class Coaching:
    safety: tuple[str, ...]  # the red-flag message, paragraph by paragraph; shown before anything else
    urgent: bool
    verdict: tuple[str, ...]  # one or two sentences
    primary: str | None  # code of the fault to fix first
    plan: Section | None  # the next set's cue, drills and progression for it
    also: tuple[Line, ...]  # one line per other fault, then the symptoms reported
    details: tuple[Section, ...]  # the why, more cues and drills, what could not be judged
    reps: tuple[RepDetail, ...]
    sources: tuple[str, ...] = field(default=())  # article titles, in order of first use

    def source_numbers(self, source: str) -> str:
        """"[1]" or "[1, 3]" for a "; "-joined source."""
        if not source:
            return ""
        return "[" + ", ".join(str(self.sources.index(s) + 1) for s in source.split("; ")) + "]"

    def to_dict(self) -> dict:
        def lines(ls):
            return [{"kind": x.kind, "text": x.text, **({"source": x.source} if x.source else {}),
                     **({"call": x.call} if x.call else {})} for x in ls]

        return {
            "verdict": list(self.verdict), "primary": self.primary,
            "plan": {"title": self.plan.title, "lines": lines(self.plan.lines)} if self.plan else None,
            "also": lines(self.also),
            "details": [{"title": s.title, "lines": lines(s.lines)} for s in self.details],
            "sources": list(self.sources),
        }


def rank_faults(faults: list[ClipFault], specs: tuple[FaultSpec, ...], reps: int) -> list[ClipFault]:
    """The clip's faults, the one to fix first first: by how directly the
    documents tie it to load on the lower back, then severity, then the share
    of the `reps` complete reps it shows in (the specifications' order breaks ties)."""
    order = {s.code: (s.back_load, k) for k, s in enumerate(specs)}
    return sorted(faults, key=lambda f: (-order[f.code][0], -SEVERITIES.index(f.severity),
                                         -len(f.reps) / max(1, reps), order[f.code][1]))


def _reps_text(reps: tuple[int, ...], total: int) -> str:
    if len(reps) == total and total > 1:
        return "both reps" if total == 2 else f"all {total} reps"
    if len(reps) == 1:
        return f"rep {reps[0]}"
    return f"reps {', '.join(map(str, reps[:-1]))} and {reps[-1]}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _depth_text(analysis) -> str:
    classes = [r.depth_class for r in analysis.complete_reps]
    names = {"below_parallel": "below parallel", "parallel": "to parallel", "above_parallel": "above parallel"}
    counts = {c: classes.count(c) for c in names if c in classes}
    if not counts:
        return ""
    if len(counts) == 1 and len(classes) > 1:
        return f", all {names[next(iter(counts))]}"
    return ": " + ", ".join(f"{n} {names[c]}" for c, n in counts.items())


FILMING_VIEWS = {"side": "the side", "front": "the front", "oblique": "an angle"}  # the order to suggest them in


def _where_to_film(missing: list[FaultSpec]) -> str:
    """`from the side to check X and Y`: one view for all the faults when one
    shows them all, else each view with the faults it shows."""
    groups, left = [], list(missing)
    common = set.intersection(*(set(s.views) for s in missing))
    for view, words in FILMING_VIEWS.items():
        here = left if view in common else [s for s in left if view in s.views]
        if here:
            groups.append(f"from {words} to check {_and([s.label for s in here])}")
            left = [s for s in left if s not in here]
    return " and ".join(groups)


def _verdict(analysis, primary: ClipFault | None) -> list[str]:
    n = len(analysis.complete_reps)
    if not n:
        return ["No complete squat reps found, so there is nothing to judge."]
    first = f"{n} rep{'' if n == 1 else 's'}{_depth_text(analysis)} ({analysis.view.kind} view)."
    if primary is not None:
        spec = analysis.spec(primary.code)
        lead = "Fix this first" if spec.back_load else "Worth a look (a choice, not a fault)"
        return [first, f"{lead}: {spec.label}, {primary.severity}, in {_reps_text(primary.reps, n)}."]
    possible = [s for s in analysis.specs if any(r.findings[s.code].possible for r in analysis.complete_reps)]
    if possible:  # the rules fired, but not surely enough to count: say what would settle it
        one = next((words for view, words in FILMING_VIEWS.items() if all(view in s.views for s in possible)), None)
        settle = f"film from {one} at hip height, the whole body in view, to settle it" if one \
            else f"film {_where_to_film(possible)}"
        return [first, f"No sure fault, but possibly {_and([s.label for s in possible])}: {settle}."]
    missing = [s for s in analysis.specs if s.code in analysis.not_measurable]
    if missing:
        check = f"film {_where_to_film(missing)}."
        if any(s.back_load >= 2 for s in missing):  # what loads the back most was not seen at all
            return [first, f"Nothing to fix that this view can show. {check[0].upper()}{check[1:]}"]
        return [first, f"Nothing to fix in these reps; {check}"]
    unsure = _mostly_unjudged(analysis)
    if unsure:
        return [first, f"No fault found, but {_and([analysis.spec(c).label for c in unsure])} could not be "
                       "judged in most reps; the details say why."]
    return [first, "Nothing to fix in these reps: keep this form."]


def _mostly_unjudged(analysis) -> list[str]:
    reps = analysis.complete_reps
    return [s.code for s in analysis.specs
            if sum(r.findings[s.code].verdict == "cant_tell" for r in reps) * 2 > len(reps)]


class _Said:
    """Everything said so far, so nothing is said twice."""

    def __init__(self) -> None:
        self.texts: set[str] = set()
        self.sources: list[str] = []

    def new(self, text: str) -> bool:
        return text.strip().lower() not in self.texts

    def line(self, kind: str, text: str, source: str = "", call: str = "") -> Line | None:
        if not self.new(text):
            return None
        self.texts.add(text.strip().lower())
        for s in source.split("; ") if source else ():
            if s not in self.sources:
                self.sources.append(s)
        return Line(kind, text, source, call)

    def item(self, kind: str, it: Item) -> Line | None:
        return self.line(kind, it.text, it.source, it.call)


def _plan_entry(codes: list[str], primary: str) -> Advice:
    """The advice for the fault to fix first: a combination with the other
    faults found when there is one (it explains them together), else its own."""
    from formcheck.coach.advice import advice_for

    for e in advice_for(codes):
        if e.is_combination and primary in e.requires:
            return e
    return entry(primary)


def _keep(*lines: Line | None) -> tuple[Line, ...]:
    return tuple(x for x in lines if x is not None)


def coach(analysis) -> Coaching:
    """The whole text of a report for one analysis."""
    said = _Said()
    safety = tuple(p for p in analysis.safety.message.splitlines() if p.strip()) if analysis.safety.message else ()
    for p in safety:
        said.line("safety", p)
    n = len(analysis.complete_reps)
    ranked = rank_faults(analysis.faults, analysis.specs, n)
    primary = ranked[0] if ranked else None
    verdict = _verdict(analysis, primary)
    for v in verdict:
        said.line("verdict", v)

    plan = None
    shown: list[Advice] = []
    covered: set[str] = set()
    if primary is not None:
        e = _plan_entry([f.code for f in ranked], primary.code)
        shown.append(e)
        covered = set(e.requires)
        drills = [d for d in e.drill_items if said.new(d.text)][:PLAN_DRILLS]
        plan = Section(e.title, _keep(said.item("cue", e.cue_items[0]), *(said.item("drill", d) for d in drills),
                                      said.line("progression", e.progression, e.source)))

    also = []
    for f in ranked[1:]:
        spec = analysis.spec(f.code)
        head = f"{spec.label} ({f.severity}, {_reps_text(f.reps, n)})"
        if f.code in covered:
            also.append(Line("also", f"{head}: the same pattern, which the plan above covers."))
            continue
        e = entry(f.code)
        shown.append(e)
        cue = next((c for c in e.cue_items if said.new(c.text)), None)
        also.append(Line("also", f"{head}: {cue.text}." if cue else f"{head}.", cue.source if cue else "",
                         cue.call if cue else ""))
        if cue:
            said.item("cue", cue)
    for code, name in SYMPTOM_ENTRIES.items():
        if code in analysis.safety.guidance:
            e = entry(name)
            shown.append(e)
            drill = next((d for d in e.drill_items if said.new(d.text)), None)
            if drill:
                also.append(Line("symptom", f"{e.title}: {drill.text}", drill.source))
                said.item("drill", drill)

    details = []
    for e in shown + ([entry(GENERAL)] if ranked else []):
        lines = _keep(said.line("why", e.why, e.source), *(said.item("cue", c) for c in e.cue_items),
                      *(said.item("drill", d) for d in e.drill_items), said.line("progression", e.progression,
                                                                                  e.source))
        if lines:
            details.append(Section(e.title, lines))
    judged = _judging_notes(analysis)
    if judged:
        details.append(Section("What could not be judged", tuple(Line("note", t) for t in judged)))
    return Coaching(safety, analysis.safety.urgent, tuple(verdict), primary.code if primary else None, plan,
                    tuple(also), tuple(details), _rep_details(analysis), tuple(said.sources))


def _judging_notes(analysis) -> list[str]:
    """Can't-tell reasons, one line per fault and reason with the reps it
    applies to, and the faults this view cannot show."""
    out = []
    reps = analysis.complete_reps
    for spec in analysis.specs:
        reasons: dict[str, list[int]] = {}
        for r in reps:
            f = r.findings[spec.code]
            if f.verdict == "cant_tell":
                reasons.setdefault(f.reason or "the evidence does not hold", []).append(r.rep.index + 1)
        for reason, numbers in reasons.items():
            out.append(f"{spec.label.capitalize()}, {_reps_text(tuple(numbers), len(reps))}: can't tell, {reason}.")
    missing = [s.label for s in analysis.specs if s.code in analysis.not_measurable]
    if missing and reps:
        out.append(f"Not measurable from a {analysis.view.kind} view: {_and(missing)}.")
    return out


def _rep_details(analysis) -> tuple[RepDetail, ...]:
    from formcheck.kinematics.metrics import plain_name, plain_short

    tr = analysis.track
    t0 = tr.t[0] if tr.frames else 0.0
    out = []
    for r in analysis.reps:
        values = []
        for name in DETAIL_METRICS:
            m = r.metrics[name]
            if not m.measurable or m.value is None:
                text = "not measurable" if m.note.startswith("not measurable") else "not seen"
            elif m.doubt:
                text = "can't tell"
            else:
                text = plain_short(name, m.value)
            values.append((plain_name(name), text))
        faults = tuple(f"{analysis.spec(f.code).label} ({f.severity})" for f in r.faults)
        out.append(RepDetail(r.rep.index + 1, float(tr.t[r.rep.bottom] - t0), r.rep.partial, faults, tuple(values)))
    return tuple(out)
