"""Report writers: the JSON report (schema formcheck.report/1), a per-rep CSV
and the short terminal summary. All files are written atomically."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

from formcheck import __version__
from formcheck.analyze import Analysis
from formcheck.coach.coaching import Coaching, Line, coach, spoken
from formcheck.media.atomic import write_text

SCHEMA = "formcheck.report/1"
CSV_METRICS = ("depth", "trunk_lean_max", "trunk_lean_ascent", "trunk_minus_shin", "tuck",
               "knee_travel", "shin_angle_bottom", "hip_first_lag", "trunk_pitch_before_knees",
               "heel_rise", "descent_time", "ascent_time")


def to_dict(a: Analysis) -> dict:
    tr = a.track
    reps = []
    for r in a.reps:
        view = r.view.to_dict()
        reps.append({
            "index": r.rep.index + 1,
            **{k: round(v, 3) for k, v in r.rep.times(tr.t).items()},
            "partial": r.rep.partial,
            "view": r.view.kind,
            # The camera's yaw from the lifter's frontal plane (90 = side-on) and the range it may lie in.
            "yaw_deg": view["yaw_deg"], "yaw_range_deg": view["yaw_range_deg"],
            "depth_class": r.depth_class,
            "metrics": {name: m.to_dict() for name, m in r.metrics.items()},
            "faults": [f.to_dict() for f in r.faults],
            "possible": [f.to_dict() for f in r.findings.values() if f.possible],
            "speed": r.speed.to_dict() if r.speed else None,
            "verdicts": {code: f.verdict for code, f in r.findings.items()},
            "not_measurable": sorted(r.not_measurable),
        })
    return {
        "schema": SCHEMA,
        "formcheck_version": __version__,
        "video": {"path": tr.shown_as, "fps": round(tr.fps, 3), "frames": tr.frames,
                  "duration_s": round(tr.duration, 3), "width": tr.width, "height": tr.height},
        "view": a.view.to_dict(),
        "rep_count": len(a.complete_reps),
        "reps": reps,
        "faults": [f.to_dict() for f in a.faults],
        "not_measurable": sorted(a.not_measurable),
        "speed": a.speed.to_dict() if a.speed else None,
        "advice": [adv.to_dict() for adv in a.advice],
        "coaching": coach(a).to_dict(),
        "safety": a.safety.to_dict(),
        "warnings": a.warnings,
        "people": _people(a),
    }


def _people(a: Analysis) -> dict | None:
    """Everyone in view and whom the report is about (None: the track held one person only)."""
    choice = a.people
    return None if choice is None else {**choice.to_dict(), "sentence": choice.sentence()}


def json_text(a: Analysis) -> str:
    return json.dumps(to_dict(a), indent=2, ensure_ascii=False) + "\n"


def write_json(a: Analysis, path: str | Path) -> None:
    write_text(path, json_text(a))


SPEED_FIELDS = ("mean_velocity", "peak_velocity", "velocity_unit", "range", "range_unit", "sticking_point_s",
                "drift")  # the bar's concentric speed (RepSpeed.to_dict), its units in their own columns
REP_FIELDS = ("clip", "rep", "start_s", "bottom_s", "end_s", "descent_end_s", "ascent_start_s", "partial",
              "view", "depth_class", *CSV_METRICS, *SPEED_FIELDS, "faults")  # the per-rep CSV's columns


def csv_rows(a: Analysis, clip: str | None = None) -> list[dict]:
    rows = []
    for r in a.reps:
        row = {"clip": clip or a.track.name, "rep": r.rep.index + 1,
               **{k: round(v, 3) for k, v in r.rep.times(a.track.t).items()},
               "partial": r.rep.partial, "view": r.view.kind, "depth_class": r.depth_class or ""}
        for name in CSV_METRICS:
            m = r.metrics[name]
            row[name] = "" if not m.measurable or m.value is None else round(m.value, 3)
        speed = r.speed.to_dict() if r.speed else {}
        row.update({k: "" if speed.get(k) is None else speed[k] for k in SPEED_FIELDS})
        row["faults"] = ";".join(f.code for f in r.faults)
        rows.append({k: row[k] for k in REP_FIELDS})
    return rows


def rows_to_csv(rows: list[dict], fields: tuple[str, ...] | None = None) -> str:
    """CSV text with a header, also when there are no rows (given `fields`)."""
    fields = fields or (tuple(rows[0]) if rows else ())
    if not fields:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def csv_text(a: Analysis) -> str:
    return rows_to_csv(csv_rows(a), REP_FIELDS)


def write_csv(a: Analysis, path: str | Path) -> None:
    write_text(path, csv_text(a))


WIDTH = 96  # columns the text report wraps at


def _wrap(text: str, indent: str = "", hang: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + hang,
                         break_on_hyphens=False) or [indent]


def _line_text(c: Coaching, x: Line, plan: bool = True) -> str:
    lead, call, rest = spoken(x, plan)
    text = f'"{call}"{rest}' if call else rest
    return " ".join(p for p in (lead, text, c.source_numbers(x.source)) if p)


def format_text(a: Analysis, details: bool = False) -> str:
    """The terminal report: red flags, the verdict, the plan for the fault to
    fix first and a line per other fault; `details` adds every rep's numbers,
    the why, the remaining cues and drills and what could not be judged."""
    c = coach(a)
    tr = a.track
    out: list[str] = []
    if c.safety:
        out += ["!" * WIDTH, *(ln for p in c.safety for ln in _wrap(p, hang="")), "!" * WIDTH, ""]
    name = tr.name
    out += _wrap(f"{name}: {c.verdict[0]}", hang="  ")
    out += [ln for v in c.verdict[1:] for ln in _wrap(v, hang="  ")]
    out += [ln for w in a.warnings for ln in _wrap(f"warning: {w}", hang="  ")]
    if a.people is not None and a.people.sentence():
        out += _wrap(f"People: {a.people.sentence()}.", hang="  ")
    if a.speed is not None:
        out += _wrap(a.speed.sentence(), hang="  ")
    if c.safety and (c.plan or c.also):
        out.append("Once a professional has cleared you, this may help:")
    if c.plan:
        out += ["", c.plan.title]
        out += [ln for x in c.plan.lines for ln in _wrap(_line_text(c, x), "  ")]
    also = [x for x in c.also if x.kind == "also"]
    for k, x in enumerate(also):
        out += _wrap(("Also: " if k == 0 else "      ") + _line_text(c, x), hang="        ")
    out += [ln for x in c.also if x.kind != "also" for ln in _wrap(_line_text(c, x), hang="    ")]
    if details:
        out += _details_text(a, c)
    # Sources are numbered in order of first use, plan first, so the short
    # report lists a prefix of them and the numbers match the detailed one.
    shown = [*(c.plan.lines if c.plan else ()), *c.also, *(x for s in c.details for x in s.lines if details)]
    used = {t for x in shown for t in x.source.split("; ") if x.source}
    if used:
        out.append("")
        out += [ln for i, s in enumerate(c.sources, 1) if s in used for ln in _wrap(f"[{i}] {s}", hang="  ")]
    if not details and (c.details or c.reps):
        out.append("More: --details shows every rep's numbers, tempo, why it matters and what could not "
                   "be judged.")
    return "\n".join(out) + "\n"


TABLE_REPS = 5  # reps side by side in the detailed table; more reps continue below


def _details_text(a: Analysis, c: Coaching) -> list[str]:
    out = ["", "Details: every rep"]
    for k in range(0, len(c.reps), TABLE_REPS):
        reps = c.reps[k:k + TABLE_REPS]
        names = [name for name, _ in reps[0].values]
        left = max(len(n) for n in names)
        cols = [[f"rep {r.number}" + (" (partial)" if r.partial else ""), *(v for _, v in r.values)] for r in reps]
        widths = [max(len(x) for x in col) for col in cols]
        out.append(" " * (left + 2) + "  ".join(col[0].ljust(w) for col, w in zip(cols, widths)).rstrip())
        for i, name in enumerate(names, 1):
            out.append(f"  {name.ljust(left)}" + "".join("  " + col[i].ljust(w) for col, w in zip(cols, widths)).rstrip())
        for r in reps:
            out += _wrap(f"rep {r.number}, bottom at {r.bottom_s:.1f} s: {', '.join(r.faults) or 'no fault'}", "  ")
    for section in c.details:
        out += ["", section.title]
        out += [ln for x in section.lines for ln in _wrap(_line_text(c, x, plan=False), "  ")]
    return out
