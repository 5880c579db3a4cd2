"""The HTML report: one self-contained file (images are data URIs, no
scripts, no external files) that opens offline and reads on a phone.

Order on the page: the safety message when there is one (it must not be
missed under exercise tips), the clip and its view, the rep table, each
clip-level fault with the frame where it is worst and its signal, the
advice, then the detailed plots. Every piece of text that comes from a file
name, the user or a data file goes through `esc`.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from urllib.parse import quote

import cv2

from formcheck import __version__
from formcheck.atomic import write_text
from formcheck.render import BLANK_NOTE, SourceFrames, frame_status, status_text, worst_moment
from formcheck.render.skeleton import draw_frame
from formcheck.faults import label

KEY_FRAME_SIZE = 720  # long side in pixels; small clips are enlarged so the drawing stays legible
JPEG_QUALITY = 85  # photos: JPEG is a tenth of the PNG size at no visible loss


def esc(s) -> str:
    return html.escape(str(s), quote=True)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def key_frames(analysis, codes, frames: SourceFrames) -> dict[str, tuple[bytes, str]]:
    """Fault code -> (JPEG, caption) of the frame where the fault is worst."""
    moments = {c: m for c in codes if (m := worst_moment(analysis, c)) is not None}
    images = frames.pick(i for _, i in moments.values())
    status = frame_status(analysis)
    tr = analysis.track
    out = {}
    for code, (k, i) in moments.items():
        img = images.get(i, frames.blank())
        s = KEY_FRAME_SIZE / max(img.shape[:2])
        # Scale first, then draw, so lines and text are sharp at the size shown.
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        draw_frame(img, analysis, i, [code], status_text(analysis, k, i), status[i][1], scale=s,
                   note=BLANK_NOTE if frames.note else "")
        _, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        r = analysis.reps[k]
        evidence = r.findings[code].evidence
        out[code] = (jpeg.tobytes(), f"Rep {r.rep.index + 1} at {tr.t[i] - tr.t[0]:.1f} s: {evidence}")
    return out


def _chips(faults) -> str:
    return " ".join(f'<span class="chip {esc(f.severity)}">{esc(label(f.code))}</span>'
                    for f in faults) or '<span class="muted">none</span>'


def rep_table(analysis) -> str:
    cols = ("Rep", "Bottom (s)", "Depth", "Trunk lean (°)", "Tuck (°)", "Knee travel (shins)",
            "Hip lead (ms)", "Heel rise (feet)", "Faults")
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in cols)
    rows = []
    t0 = analysis.track.t[0] if analysis.track.frames else 0.0
    for r in analysis.reps:
        m = r.metrics
        depth = "partial" if r.rep.partial else (r.depth_class or "n/a").replace("_", " ")
        shown = [("trunk_lean_max", 0), ("tuck", 0), ("knee_travel", 2), ("hip_first_lag", 0), ("heel_rise", 2)]
        cells = (r.rep.index + 1, f"{analysis.track.t[r.rep.bottom] - t0:.1f}", depth,
                 *(m[name].text(digits, missing="–") for name, digits in shown))
        tds = "".join(f"<td>{esc(c)}</td>" for c in cells)
        cls = ' class="partial"' if r.rep.partial else ""
        rows.append(f'<tr{cls}>{tds}<td class="faults">{_chips(r.faults)}</td></tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(cols)}">no reps found</td></tr>')
    return (f'<div class="scroll"><table id="reps"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _safety(analysis) -> str:
    s = analysis.safety
    if not s.message:
        return ""
    paras = "".join(f"<p>{esc(line)}</p>" for line in s.message.splitlines() if line.strip())
    return (f'<section class="safety{" urgent" if s.urgent else ""}" role="alert" id="safety">'
            f"<h2>Please read this first</h2>{paras}</section>")


def _header(analysis, note: str) -> str:
    tr, v = analysis.track, analysis.view
    name = Path(tr.source).name or "pose track"
    facing = f", facing {v.facing}" if v.facing else ""
    partial = len(analysis.reps) - len(analysis.complete_reps)
    facts = [f"{tr.duration:.1f} s", f"{tr.width}×{tr.height}", f"{tr.fps:.3g} fps",
             f"{v.kind} view{facing} (confidence {v.confidence:.0%})",
             f"{len(analysis.complete_reps)} rep{'' if len(analysis.complete_reps) == 1 else 's'}"
             + (f" (+{partial} partial)" if partial else "")]
    out = [f"<header><h1>Squat report: {esc(name)}</h1>",
           f'<p class="facts">{" · ".join(esc(x) for x in facts)}</p>',
           f'<p class="muted path">{esc(tr.source)}</p></header>']
    notes = list(analysis.warnings) + ([note] if note else [])
    if notes:
        out.append('<ul class="warnings">' + "".join(f"<li>{esc(w)}</li>" for w in notes) + "</ul>")
    return "".join(out)


def _summary(analysis) -> str:
    if analysis.faults:
        items = "".join(
            f'<li><a href="#fault-{esc(f.code)}">{esc(label(f.code))}</a> '
            f'<span class="chip {esc(f.severity)}">{esc(f.severity)}</span> '
            f'<span class="muted">reps {esc(", ".join(map(str, f.reps)))}</span></li>' for f in analysis.faults)
        body = f"<ul class=\"findings\">{items}</ul>"
    elif analysis.complete_reps:
        body = "<p>No consistent faults in the measurable reps. Keep it up.</p>"
    else:
        body = "<p>No complete reps to judge.</p>"
    if analysis.complete_reps:
        missing = analysis.not_measurable
        if missing:
            body += ("<p class=\"muted\">Not measurable from this view: "
                     + esc(", ".join(label(c) for c in sorted(missing))) + "</p>")
    return f'<section id="summary"><h2>Findings</h2>{body}</section>'


def _faults(analysis, frames: SourceFrames) -> str:
    if not analysis.faults:
        return ""
    from formcheck.render.plots import fault_png

    shots = key_frames(analysis, [f.code for f in analysis.faults], frames)
    parts = ['<section id="faults"><h2>Where it happens</h2>']
    for f in analysis.faults:
        code, name = f.code, label(f.code)
        fig = ""
        if code in shots:
            jpeg, caption = shots[code]
            fig = (f'<figure><img class="keyframe" data-fault="{esc(code)}" src="{data_uri(jpeg, "image/jpeg")}" '
                   f'alt="{esc(name)}: {esc(caption)}"><figcaption>{esc(caption)}</figcaption></figure>')
        per_rep = "".join(f'<li>Rep {r.rep.index + 1}: {esc(x.evidence)} '
                          f'<span class="chip {esc(x.severity)}">{esc(x.severity)}</span></li>'
                          for r in analysis.reps for x in r.faults if x.code == code)
        plot = (f'<div><figure><img class="plot" src="{data_uri(fault_png(analysis, code), "image/png")}" '
                f'alt="{esc(name)} signal over the clip"><figcaption>Reps with {esc(name)} are shaded red.'
                f'</figcaption></figure><ul class="evidence">{per_rep}</ul></div>')
        parts.append(f'<article class="fault" id="fault-{esc(code)}"><h3>{esc(name)} '
                     f'<span class="chip {esc(f.severity)}">{esc(f.severity)}</span></h3>'
                     f'<p class="muted">in reps {esc(", ".join(map(str, f.reps)))}</p>'
                     f'<div class="pair">{fig}{plot}</div></article>')
    parts.append("</section>")
    return "".join(parts)


def _advice(analysis) -> str:
    if not analysis.advice:
        return ""
    cards = []
    for a in analysis.advice:
        cues = "".join(f"<li>{esc(c)}</li>" for c in a.cues)
        drills = "".join(f"<li>{esc(d)}</li>" for d in a.drills)
        cards.append(f'<article class="card" data-advice="{esc(a.fault)}"><h3>{esc(a.title)}</h3>'
                     f'<p>{esc(a.why)}</p><h4>Cues</h4><ul>{cues}</ul><h4>Drills</h4><ul>{drills}</ul>'
                     f'<h4>Progression</h4><p>{esc(a.progression)}</p>'
                     f'<p class="source">Source: {esc(a.source)}</p></article>')
    lead = ("<p class=\"muted\">Once a professional has cleared you, these may help.</p>"
            if analysis.safety.message else "")
    return f'<section id="advice"><h2>What to do about it</h2>{lead}<div class="cards">{"".join(cards)}</div></section>'


def _signals(analysis) -> str:
    from formcheck.render.plots import rep_overlay_png, timeline_png

    return ('<section id="signals"><h2>The signals</h2>'
            f'<figure><img class="plot" src="{data_uri(timeline_png(analysis), "image/png")}" '
            'alt="trunk lean, knee flexion, hip height and hip flexion over the clip"></figure>'
            f'<figure><img class="plot" src="{data_uri(rep_overlay_png(analysis), "image/png")}" '
            'alt="each rep overlaid on 0 to 100 percent of the rep"></figure></section>')


def _video(href: str | None) -> str:
    if not href:
        return ""
    return ('<section id="video"><h2>Annotated video</h2>'
            f'<video controls muted playsinline preload="metadata" src="{esc(href)}"></video>'
            f'<p class="muted">If it does not play here, open <a href="{esc(href)}">the video file</a>.</p></section>')


CSS = """
:root{--fault:#c62828;--ink:#1d2329;--muted:#5b6670;--bg:#f3f5f7;--line:#e1e5e9}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1000px;margin:0 auto;padding:16px}
header,section{background:#fff;border-radius:10px;padding:16px;margin:0 0 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.45rem;margin:0 0 .3rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:0 0 .6rem}
h3{font-size:1.05rem;margin:.2rem 0 .3rem}
h4{font-size:.9rem;margin:.8rem 0 .2rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
p{margin:.3rem 0}
.muted{color:var(--muted)}
.path{font-size:.8rem;overflow-wrap:anywhere}
.facts{font-weight:500}
img,video{max-width:100%;height:auto;display:block}
video{width:100%;max-height:70vh;background:#000;border-radius:6px}
figure{margin:0}
figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:#f7f9fa;font-weight:600;white-space:normal;vertical-align:bottom;font-size:.85rem}
td.faults,th:last-child{text-align:left;white-space:normal;min-width:10rem}
tr.partial td{color:var(--muted);font-style:italic}
.chip{display:inline-block;border-radius:999px;padding:0 .55em;font-size:.8rem;margin:1px 0;background:#fde7c4;color:#6b4400}
.chip.moderate{background:#ffd3b0;color:#7a2e00}
.chip.severe{background:var(--fault);color:#fff}
.findings{padding-left:1.2rem;margin:.3rem 0}
.findings li{margin:.2rem 0}
.warnings{background:#fff8e1;border-left:4px solid #f0a500;margin:0 0 16px;padding:10px 10px 10px 2rem;border-radius:6px}
article.fault{border-top:1px solid var(--line);padding-top:12px;margin-top:12px}
article.fault:first-of-type{border-top:0;margin-top:0;padding-top:0}
.pair{display:grid;grid-template-columns:minmax(0,340px) minmax(0,1fr);gap:16px;align-items:start}
.evidence{font-size:.9rem;padding-left:1.2rem;margin:.6rem 0 0}
img.keyframe{border-radius:6px;margin:0 auto;max-height:75vh;width:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,290px),1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px}
.card ul{padding-left:1.2rem;margin:.2rem 0}
.source{font-size:.85rem;color:var(--muted);border-top:1px solid var(--line);margin-top:.6rem;padding-top:.4rem}
.safety{background:#fff0f0;border:3px solid var(--fault)}
.safety h2{color:var(--fault)}
.safety.urgent{background:var(--fault);color:#fff}
.safety.urgent h2{color:#fff}
footer{font-size:.8rem;color:var(--muted);text-align:center;padding:8px 0 24px}
@media (max-width:640px){
 main{padding:8px} header,section{padding:12px;margin-bottom:10px}
 .pair{grid-template-columns:minmax(0,1fr)}
 h1{font-size:1.25rem} table{font-size:.82rem} th,td{padding:5px 6px}
}
"""


def build_html(analysis, video_href: str | None = None) -> tuple[str, str]:
    """(page, note); the note says when key frames had to be drawn on blank frames."""
    tr = analysis.track
    frames = SourceFrames(tr)
    note = frames.note if (frames.note and analysis.faults) else ""
    name = Path(tr.source).name or "pose track"
    body = "".join([
        _safety(analysis), _header(analysis, note), _summary(analysis), _video(video_href),
        f'<section id="rep-table"><h2>Reps</h2>{rep_table(analysis)}'
        '<p class="muted">Trunk lean: most forward in the rep. Tuck: extra hip bend after the knees stop '
        '(pelvic-tuck proxy). Knee travel: knee ahead of the ankle. Hip lead: how much earlier the hips '
        'start than the knees.</p></section>',
        _faults(analysis, frames), _advice(analysis), _signals(analysis),
        f"<footer>formcheck {esc(__version__)} · Measured from a 2D video, not a medical assessment.</footer>",
    ])
    page = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>formcheck: {esc(name)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
    return page, note


def write_html(analysis, path: str | Path, video: str | Path | None = None) -> str:
    """Write the report atomically. `video` (an annotated MP4 written next to
    it) is linked by a relative address so the pair can be moved together."""
    path = Path(path)
    href = None
    if video is not None:
        try:
            rel = os.path.relpath(Path(video).resolve(), path.resolve().parent)
            href = quote(Path(rel).as_posix())
        except ValueError:  # another drive on Windows: no relative path exists
            href = Path(video).resolve().as_uri()
    page, note = build_html(analysis, href)
    write_text(path, page)
    return note
