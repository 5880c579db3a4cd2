"""Per-frame export for researchers: one CSV row per frame of the track.

Columns (units in the header names): time; the rep the frame belongs to and
its phase; the camera view decided for that frame's rep; every per-frame
signal the analysis reads (formcheck.kinematics.signals.SIGNAL_UNITS, angles in
degrees, lengths in the body's own segment lengths); and `quality`: "ok", or
what is wrong with the tracking in that frame (lifter not found, a bone
jumping, legs swapped, shaky points), the same checks that make a metric
"can't tell".
"""

from __future__ import annotations

import numpy as np

from formcheck.kinematics.signals import SIGNAL_UNITS

PER_FRAME = tuple(name for name in SIGNAL_UNITS if name != "heel_rise")  # heel rise is per rep (against its lead-in)


def _phases(analysis) -> tuple[list, list, list]:
    n = analysis.track.frames
    rep, phase, view = [""] * n, ["standing"] * n, [""] * n
    for r in analysis.reps:
        x = r.rep
        for i in range(x.start, min(x.end, n - 1) + 1):
            rep[i] = x.index + 1
            phase[i] = "descent" if i < x.descent_end else "bottom" if i <= x.ascent_start else "ascent"
            view[i] = r.view.kind
    return rep, phase, view


def _quality(analysis) -> list[str]:
    tr, ev = analysis.track, analysis.evidence
    out = []
    for i in range(tr.frames):
        problems = []
        if not tr.detected[i]:
            problems.append("no person")
        elif ev is not None:
            problems += [name for name, flags in (("bone jump", ev.jumps), ("legs swapped", ev.swapped),
                                                  ("shaky", ev.shaky)) if flags[i]]
        out.append(";".join(problems) or "ok")
    return out


def header() -> list[str]:
    return ["t_s", "rep", "phase", "view", *(f"{n}_{SIGNAL_UNITS[n]}" for n in PER_FRAME), "quality"]


def frames_text(analysis) -> str:
    from formcheck.outputs.report import rows_to_csv

    cols = header()
    sig = analysis.signals
    rep, phase, view = _phases(analysis)
    quality = _quality(analysis)
    rows = []
    for i, t in enumerate(analysis.track.t):
        row = {"t_s": round(float(t), 4), "rep": rep[i], "phase": phase[i], "view": view[i], "quality": quality[i]}
        for name, col in zip(PER_FRAME, cols[4:-1]):
            v = float(getattr(sig, name)[i]) if sig is not None else float("nan")
            row[col] = round(v, 4) if np.isfinite(v) else ""
        rows.append(row)
    return rows_to_csv(rows, tuple(cols))
