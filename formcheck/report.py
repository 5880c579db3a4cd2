"""Report writers: the JSON report (schema formcheck.report/1), a per-rep CSV
and the short terminal summary. All files are written atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from formcheck import __version__
from formcheck.analyze import Analysis
from formcheck.atomic import write_text
from formcheck.faults import label

SCHEMA = "formcheck.report/1"
CSV_METRICS = ("depth", "trunk_lean_max", "trunk_lean_ascent", "trunk_minus_shin", "tuck",
               "knee_travel", "shin_angle_bottom", "hip_first_lag", "trunk_pitch_before_knees",
               "heel_rise", "descent_time", "ascent_time")


def to_dict(a: Analysis) -> dict:
    tr = a.track
    reps = []
    for r in a.reps:
        reps.append({
            "index": r.rep.index + 1,
            **{k: round(v, 3) for k, v in r.rep.times(tr.t).items()},
            "partial": r.rep.partial,
            "view": r.view.kind,
            "depth_class": r.depth_class,
            "metrics": {name: m.to_dict() for name, m in r.metrics.items()},
            "faults": [f.to_dict() for f in r.faults],
            "verdicts": {code: f.verdict for code, f in r.findings.items()},
            "not_measurable": sorted(r.not_measurable),
        })
    return {
        "schema": SCHEMA,
        "formcheck_version": __version__,
        "video": {"path": tr.source, "fps": round(tr.fps, 3), "frames": tr.frames,
                  "duration_s": round(tr.duration, 3), "width": tr.width, "height": tr.height},
        "view": a.view.to_dict(),
        "rep_count": len(a.complete_reps),
        "reps": reps,
        "faults": [f.to_dict() for f in a.faults],
        "not_measurable": sorted(a.not_measurable),
        "advice": [adv.to_dict() for adv in a.advice],
        "safety": a.safety.to_dict(),
        "warnings": a.warnings,
    }


def json_text(a: Analysis) -> str:
    return json.dumps(to_dict(a), indent=2, ensure_ascii=False) + "\n"


def write_json(a: Analysis, path: str | Path) -> None:
    write_text(path, json_text(a))


REP_FIELDS = ("clip", "rep", "start_s", "bottom_s", "end_s", "descent_end_s", "ascent_start_s", "partial",
              "view", "depth_class", *CSV_METRICS, "faults")  # the per-rep CSV's columns


def csv_rows(a: Analysis, clip: str | None = None) -> list[dict]:
    rows = []
    for r in a.reps:
        row = {"clip": clip or Path(a.track.source).name, "rep": r.rep.index + 1,
               **{k: round(v, 3) for k, v in r.rep.times(a.track.t).items()},
               "partial": r.rep.partial, "view": r.view.kind, "depth_class": r.depth_class or ""}
        for name in CSV_METRICS:
            m = r.metrics[name]
            row[name] = "" if not m.measurable or m.value is None else round(m.value, 3)
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


def format_text(a: Analysis) -> str:
    tr, v = a.track, a.view
    out = []
    if a.safety.message:
        out += ["!" * 72, a.safety.message, "!" * 72, ""]
    facing = f", facing {v.facing}" if v.facing else ""
    out.append(f"{Path(tr.source).name}: {tr.duration:.1f} s, {tr.width}x{tr.height}, "
               f"{v.kind} view{facing} (confidence {v.confidence:.0%})")
    partial = len(a.reps) - len(a.complete_reps)
    out.append(f"Reps: {len(a.complete_reps)}" + (f" (+{partial} partial, not counted)" if partial else ""))
    for w in a.warnings:
        out.append(f"warning: {w}")
    if a.complete_reps:
        missing = a.not_measurable
        if missing:
            out.append("Not measurable from this view: " + ", ".join(label(c) for c in sorted(missing)))
        out.append("")
        out.append(f"{'rep':>3} {'bottom':>7} {'depth':>15} {'lean':>5} {'tuck':>5} {'knee':>5} {'hipLag':>7}  faults")
        for r in a.reps:
            m = r.metrics
            faults = ", ".join(f"{f.code}({f.severity[0]})" for f in r.faults) or "-"
            depth = "partial" if r.rep.partial else (r.depth_class or "n/a").replace("_", " ")
            out.append(f"{r.rep.index + 1:>3} {tr.t[r.rep.bottom]:>6.1f}s {depth:>15} "
                       f"{m['trunk_lean_max'].text():>5} {m['tuck'].text():>5} {m['knee_travel'].text(2):>5} "
                       f"{m['hip_first_lag'].text():>7}  {faults}")
        out.append("  (lean and tuck in degrees, knee travel in shin lengths, hip lag in ms)")
    out.append("")
    if a.faults:
        out.append("Findings:")
        for f in a.faults:
            reps = ", ".join(str(i) for i in f.reps)
            out.append(f"  - {label(f.code)} ({f.severity}), reps {reps}")
    elif a.complete_reps:
        out.append("No consistent faults found in the measurable reps. Keep it up.")
    for adv in a.advice[:4]:
        out += ["", f"## {adv.title}", adv.why]
        out += [f"  cue: {c}" for c in adv.cues[:3]]
        out += [f"  drill: {d}" for d in adv.drills[:3]]
        out.append(f"  progression: {adv.progression}")
        out.append(f"  source: {adv.source}")
    if len(a.advice) > 4:
        out.append(f"\n(+{len(a.advice) - 4} more advice entries in the JSON/HTML report)")
    return "\n".join(out) + "\n"
