"""Per lifter, how the sessions compare: each fault's share of reps, a few
key metrics and the bar speed, session by session, drawn as inline SVG (no
script, no external file), from the report.json of every finished analysis."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from markupsafe import Markup, escape

from formcheck.web import work

# Metrics worth following over weeks: (name in report.json, title, unit shown).
KEY_METRICS = (("trunk_lean_max", "Trunk lean, most forward", "°"),
               ("depth", "Depth: hip above knee", "thigh lengths"),
               ("knee_travel", "Knee travel", "shin lengths"),
               ("mean_velocity", "Bar speed, concentric", "m/s"))
PALETTE = ("#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037")
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 560, 190, 46, 12, 12, 34


@dataclass
class Session:
    id: str
    created: float
    reps: int
    fault_share: dict[str, float]  # code -> share of complete reps with it
    metrics: dict[str, float]  # name -> mean over complete reps


def session(job, store) -> Session | None:
    try:
        report = json.loads((store.folder(job.id) / work.REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    reps = [r for r in report.get("reps", []) if not r.get("partial")]
    if not reps:
        return Session(job.id, job.created, 0, {}, {})
    share: dict[str, float] = {}
    for r in reps:
        for f in r.get("faults", []):
            share[f["code"]] = share.get(f["code"], 0) + 1 / len(reps)
    metrics = {}
    for name, _, _ in KEY_METRICS:
        values = [v for r in reps if (v := _value(r, name)) is not None]
        if values:
            metrics[name] = sum(values) / len(values)
    return Session(job.id, job.created, len(reps), share, metrics)


def _value(rep: dict, name: str) -> float | None:
    """One rep's number for a followed metric. The bar speed only in metres
    a second: a session without a scale in metres has no place on that axis."""
    if name == "mean_velocity":
        speed = rep.get("speed") or {}
        v = speed.get("mean_velocity")
        return float(v) if speed.get("velocity_unit") == "m/s" and isinstance(v, (int, float)) else None
    m = rep.get("metrics", {}).get(name)
    return float(m["value"]) if m and m.get("measurable") and isinstance(m.get("value"), (int, float)) else None


def _chart(title: str, dates: list[str], lines: dict[str, list[float | None]], lo: float, hi: float,
           ticks: list[tuple[float, str]]) -> Markup:
    """One line chart: sessions along x, one line per name."""
    if hi <= lo:
        hi = lo + 1
    n = len(dates)
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return PAD_T + plot_h * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg class="trend" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">']
    for v, text in ticks:
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{escape(text)}</text>')
    step = max(1, n // 6)
    for i, d in enumerate(dates):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{H - 12}" text-anchor="middle">{escape(d)}</text>')
    for k, (name, values) in enumerate(lines.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"><title>{escape(name)}</title></circle>')
    parts.append("</svg>")
    legend = "".join(f'<li><span class="swatch" style="background:{PALETTE[k % len(PALETTE)]}"></span>{escape(name)}</li>'
                     for k, name in enumerate(lines))
    return Markup(f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{"".join(parts)}'
                  f'<ul class="legend">{legend}</ul></figure>')


def lifter_trends(jobs, store) -> list[dict]:
    """Per lifter (by the name given at upload), their sessions and the charts."""
    from formcheck.coach.faults import label

    by_lifter: dict[str, list] = {}
    for job in sorted(jobs, key=lambda j: j.created):
        s = session(job, store)
        if s is not None and s.reps:
            by_lifter.setdefault(job.lifter or "", []).append(s)
    out = []
    for lifter, sessions in sorted(by_lifter.items(), key=lambda kv: kv[0].lower()):
        dates = [time.strftime("%d %b", time.localtime(s.created)) for s in sessions]
        codes = sorted({c for s in sessions for c in s.fault_share})
        charts = []
        if codes:
            lines = {label(c): [100 * s.fault_share.get(c, 0.0) for s in sessions] for c in codes}
            charts.append(_chart("Share of reps with each fault (%)", dates, lines, 0, 100,
                                 [(0, "0"), (50, "50"), (100, "100")]))
        for name, title, unit in KEY_METRICS:
            values = [s.metrics.get(name) for s in sessions]
            known = [v for v in values if v is not None]
            if not known:
                continue
            lo, hi = min(known), max(known)
            margin = max((hi - lo) * 0.15, abs(hi) * 0.05, 0.05)
            lo, hi = lo - margin, hi + margin
            digits = 0 if unit == "°" else 2
            ticks = [(v, f"{v:.{digits}f}") for v in (lo, (lo + hi) / 2, hi)]
            charts.append(_chart(f"{title} ({unit}), mean per session", dates, {title: values}, lo, hi, ticks))
        out.append({"lifter": lifter or "no name given", "sessions": len(sessions), "charts": charts})
    return out
