"""The HTML report: one self-contained file (images are data URIs, no
scripts, no external files) that opens offline and reads on a phone.

Order on the page: the safety message when there is one (it must not be
missed under exercise tips), the clip and its view, the verdict and the plan
for the fault to fix first (formcheck.coach.coaching, the same words as the
terminal report), each clip-level fault with the frame where it is worst and
its signal, the details (every rep's numbers, the why, the other cues and
drills, what could not be judged), then the plots. Every piece of text that comes from a file
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
from formcheck.coach.coaching import Coaching, coach, spoken
from formcheck.coach.faults import label
from formcheck.media.atomic import write_text
from formcheck.outputs.render import (
    BLANK_NOTE,
    SourceFrames,
    frame_status,
    status_text,
    worst_moment,
)
from formcheck.outputs.render.skeleton import (
    draw_bar_path,
    draw_frame,
    draw_people_boxes,
    people_boxes,
    people_moment,
)

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
        # The caption says where; what was measured is listed next to it once.
        out[code] = (jpeg.tobytes(), f"{label(code).capitalize()} is worst in rep {r.rep.index + 1}, "
                                     f"at {tr.t[i] - tr.t[0]:.1f} s.")
    return out


def _chips(faults) -> str:
    return " ".join(f'<span class="chip {esc(f.severity)}">{esc(label(f.code))}</span>'
                    for f in faults) or '<span class="muted">none</span>'


def rep_table(analysis, c: Coaching) -> str:
    """Every rep's numbers under plain names. On a narrow screen each row
    becomes a card of name/value pairs (CSS below), so nothing scrolls sideways."""
    names = [name for name, _ in c.reps[0].values] if c.reps else []
    cols = ("Rep", "Bottom (s)", "Faults", *names)
    head = "".join(f'<th scope="col">{esc(x)}</th>' for x in cols)
    rows = []
    for rep, d in zip(analysis.reps, c.reps):
        faults = _chips(rep.faults) if not d.partial else '<span class="muted">partial, not judged</span>'
        cells = "".join(f'<td data-label="{esc(n)}">{esc(v)}</td>' for n, v in d.values)
        cls = ' class="partial"' if d.partial else ""
        rows.append(f'<tr{cls}><th scope="row" data-label="Rep">{d.number}</th>'
                    f'<td data-label="Bottom (s)">{d.bottom_s:.1f}</td>'
                    f'<td class="faults" data-label="Faults">{faults}</td>{cells}</tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(cols)}">no reps found</td></tr>')
    return (f'<table id="reps" class="reps"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _safety(analysis) -> str:
    s = analysis.safety
    if not s.message:
        return ""
    paras = "".join(f"<p>{esc(line)}</p>" for line in s.message.splitlines() if line.strip())
    return (f'<section class="safety{" urgent" if s.urgent else ""}" role="alert" id="safety">'
            f"<h2>Please read this first</h2>{paras}</section>")


def _header(analysis, note: str) -> str:
    tr, v = analysis.track, analysis.view
    name = tr.name
    facing = f", facing {v.facing}" if v.facing else ""
    partial = len(analysis.reps) - len(analysis.complete_reps)
    facts = [f"{tr.duration:.1f} s", f"{tr.width}×{tr.height}", f"{tr.fps:.3g} fps",
             f"{v.kind} view{facing} (confidence {v.confidence:.0%})",
             f"{len(analysis.complete_reps)} rep{'' if len(analysis.complete_reps) == 1 else 's'}"
             + (f" (+{partial} partial)" if partial else "")]
    out = [f"<header><h1>Squat report: {esc(name)}</h1>",
           f'<p class="facts">{" · ".join(esc(x) for x in facts)}</p>',
           f'<p class="muted path">{esc(tr.shown_as)}</p></header>']
    notes = list(analysis.warnings) + ([note] if note else [])
    if notes:
        out.append('<ul class="warnings">' + "".join(f"<li>{esc(w)}</li>" for w in notes) + "</ul>")
    return "".join(out)


def _src(c: Coaching, source: str) -> str:
    return f' <sup class="src">{esc(c.source_numbers(source))}</sup>' if source else ""


def _item(c: Coaching, x, plan: bool = True) -> str:
    lead, call, rest = spoken(x, plan)
    return (f'<li class="{esc(x.kind)}">' + (f"<b>{esc(lead.rstrip(':'))}</b> " if lead else "")
            + (f"<q>{esc(call)}</q>" if call else "") + f"{esc(rest)}{_src(c, x.source)}</li>")


def _verdict(analysis, c: Coaching) -> str:
    """The top of the report: the verdict, the plan for the fault to fix
    first and a line per other fault, in the terminal report's order and words."""
    out = [f'<section id="verdict"><h2>{esc(c.verdict[0])}</h2>']
    out += [f'<p class="verdict">{esc(v)}</p>' for v in c.verdict[1:]]
    if c.safety and (c.plan or c.also):
        out.append('<p class="muted">Once a professional has cleared you, this may help.</p>')
    if c.plan:
        first = next(f for f in analysis.faults if f.code == c.primary)
        out.append(f'<article class="plan" data-fault="{esc(c.primary)}"><h3>{esc(c.plan.title)} '
                   f'<span class="chip {esc(first.severity)}">{esc(first.severity)}</span></h3>'
                   f'<ul>{"".join(_item(c, x) for x in c.plan.lines)}</ul></article>')
    if c.also:
        items = "".join(f'<li>{esc(x.text)}{_src(c, x.source)}</li>' for x in c.also)
        out.append(f'<h3>Also</h3><ul class="also">{items}</ul>')
    out.append("</section>")
    return "".join(out)


def _details(analysis, c: Coaching) -> str:
    parts = ['<section id="details"><h2>Details</h2>', rep_table(analysis, c)]
    for sec in c.details:
        parts.append(f'<article class="more"><h3>{esc(sec.title)}</h3>'
                     f'<ul>{"".join(_item(c, x, plan=False) for x in sec.lines)}</ul></article>')
    if c.sources:
        items = "".join(f"<li>{esc(s)}</li>" for s in c.sources)
        parts.append(f'<h3>Sources</h3><ol class="sources">{items}</ol>')
    parts.append("</section>")
    return "".join(parts)


def _faults(analysis, frames: SourceFrames) -> str:
    if not analysis.faults:
        return ""
    from formcheck.outputs.render.plots import fault_png

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


def _speed(analysis, frames: SourceFrames) -> str:
    """The bar speed: the set's line, the per-rep chart, the paths drawn on
    the frame where the last rep finished, and every rep's numbers."""
    from formcheck.outputs.render.plots import speed_png

    sp = analysis.speed
    reps = [r for r in analysis.complete_reps if r.speed is not None]
    if sp is None or not reps:
        return ""
    last = reps[-1].rep.end
    img = frames.pick([last]).get(last, frames.blank())
    s = KEY_FRAME_SIZE / max(img.shape[:2])
    img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    first, final = reps[0].rep.index + 1, reps[-1].rep.index + 1
    for r in reps:  # the paths of a steady set lie on one another: one label for all
        draw_bar_path(img, analysis, r.rep.start, r.rep.end, s,
                      label=(f"reps {first}-{final}" if final > first else f"rep {first}") if r is reps[-1] else "")
    _, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    u = f"{sp.path.unit}/s"
    cols = ("Rep", f"Mean ({u})", f"Peak ({u})", f"Range ({sp.path.unit})", "Up (s)", "Sticking point (s)",
            f"Forward drift ({sp.path.unit})")
    head = "".join(f'<th scope="col">{esc(x)}</th>' for x in cols)
    rows = "".join(
        f'<tr><th scope="row" data-label="Rep">{r.rep.index + 1}</th>'
        + "".join(f'<td data-label="{esc(c)}">{"–" if v is None else f"{v:.2f}"}</td>' for c, v in zip(cols[1:], (
            r.speed.mean, r.speed.peak, r.speed.rise, r.speed.concentric_s, r.speed.sticking_s, r.speed.drift)))
        + "</tr>" for r in reps)
    why = "the hands hold the load there" if sp.path.followed == "shoulders" else "no load at the shoulders"
    notes = [f"Followed: the {sp.path.followed} ({why})"]
    if not sp.path.scale_from:
        notes.append("No reliable scale in metres: speeds are in leg lengths a second, good for comparing reps.")
    if analysis.view.kind != "side":
        notes.append("Forward drift needs a side view; the vertical speed holds from the front too.")
    return ('<section id="speed"><h2>Bar speed</h2>'
            f'<p class="verdict">{esc(sp.sentence())}</p>'
            + "".join(f'<p class="muted">{esc(n)}</p>' for n in notes)
            + '<div class="pair">'
            f'<figure><img class="pathframe" src="{data_uri(jpeg.tobytes(), "image/jpeg")}" '
            f'alt="the bar path of every rep"><figcaption>The bar path of every rep, where the last one ended.'
            '</figcaption></figure>'
            f'<figure><img class="plot" src="{data_uri(speed_png(analysis), "image/png")}" '
            'alt="mean concentric bar speed per rep"></figure></div>'
            f'<table id="speeds" class="reps speeds"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            '</section>')


def _people(analysis, frames: SourceFrames) -> str:
    """With several people in view: whom the report is about, and a frame
    with each person boxed and numbered (the numbers --person takes). Each
    box is also marked up over the picture, so a page can let the user pick."""
    i = people_moment(analysis)
    if i is None:
        return ""
    img = frames.pick([i]).get(i, frames.blank())
    s = KEY_FRAME_SIZE / max(img.shape[:2])
    img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    draw_people_boxes(img, analysis, i, scale=s)
    _, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    tr, choice = analysis.track, analysis.people
    boxes = []
    for pid, (x0, y0, x1, y1) in people_boxes(analysis, i):
        seen = choice.person(pid)
        where = f"person {pid}, {seen.where}" + (" (analysed)" if pid == choice.analysed else "")
        boxes.append(f'<span class="person-box" data-person="{pid}" title="{esc(where)}" style="left:'
                     f'{100 * x0 / tr.width:.2f}%;top:{100 * y0 / tr.height:.2f}%;width:{100 * (x1 - x0) / tr.width:.2f}%;'
                     f'height:{100 * (y1 - y0) / tr.height:.2f}%"></span>')
    return (f'<section id="people"><h2>People in view</h2><p>{esc(choice.sentence())}.</p>'
            f'<figure class="people-frame"><img src="{data_uri(jpeg.tobytes(), "image/jpeg")}" alt="the people in '
            f'view at {tr.t[i] - tr.t[0]:.1f} s, each boxed with their number">{"".join(boxes)}</figure>'
            '<p class="muted">A report on someone else: run it again with their number, '
            '<code>--person N</code>.</p></section>')


def _signals(analysis) -> str:
    from formcheck.outputs.render.plots import rep_overlay_png, timeline_png

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
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{padding:6px 6px;border-bottom:1px solid var(--line);text-align:right}
thead th{background:#f7f9fa;font-weight:600;vertical-align:bottom;font-size:.78rem}
td.faults,table:not(.speeds) thead th:nth-child(3){text-align:left;min-width:8rem}
tr.partial td{color:var(--muted);font-style:italic}
.verdict{font-size:1.1rem;font-weight:600}
.plan{border-left:4px solid var(--fault);padding:4px 0 4px 12px;margin:12px 0}
.plan ul,.also,.more ul{padding-left:1.2rem;margin:.3rem 0}
.plan li,.more li{margin:.35rem 0}
.plan li.cue{font-size:1.05rem}
sup.src{color:var(--muted);font-size:.75rem}
.sources{font-size:.85rem;color:var(--muted)}
article.more{border-top:1px solid var(--line);margin-top:12px;padding-top:8px}
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
figure.people-frame{position:relative;display:inline-block;margin:0;max-width:100%}
figure.people-frame img{display:block;max-width:100%;height:auto;border-radius:6px}
.person-box{position:absolute;border-radius:4px}
.person-box.pickable{cursor:pointer}
.person-box.pickable:hover,.person-box.pickable:focus{outline:3px solid #2b8a3e;background:rgba(43,138,62,.15)}
img.keyframe,img.pathframe{border-radius:6px;margin:0 auto;max-height:75vh;width:auto}
.safety{background:#fff0f0;border:3px solid var(--fault)}
.safety h2{color:var(--fault)}
.safety.urgent{background:var(--fault);color:#fff}
.safety.urgent h2{color:#fff}
footer{font-size:.8rem;color:var(--muted);text-align:center;padding:8px 0 24px}
@media (max-width:640px){
 main{padding:8px} header,section{padding:12px;margin-bottom:10px}
 .pair{grid-template-columns:minmax(0,1fr)}
 h1{font-size:1.25rem}
}
@media (max-width:760px){
 /* each rep becomes a card of name/value pairs: nothing scrolls sideways */
 table.reps thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 table.reps,table.reps tbody,table.reps tr,table.reps th,table.reps td{display:block;width:100%}
 table.reps tr{border:1px solid var(--line);border-radius:8px;margin:0 0 10px;padding:4px 8px}
 table.reps th[scope=row]{text-align:left;font-size:1rem;border-bottom:1px solid var(--line)}
 table.reps th[scope=row]::before{content:"Rep "}
 table.reps td{display:flex;justify-content:space-between;gap:12px;border-bottom:0;padding:3px 0}
 table.reps td{white-space:nowrap}
 table.reps td::before{content:attr(data-label);text-align:left;color:var(--muted);white-space:normal}
 table.reps td.faults{display:block;text-align:left}
 table.reps td.faults::before{display:block}
}
"""


def build_html(analysis, video_href: str | None = None) -> tuple[str, str]:
    """(page, note); the note says when key frames had to be drawn on blank frames."""
    tr = analysis.track
    frames = SourceFrames(tr)
    note = frames.note if (frames.note and analysis.faults) else ""
    name = tr.name
    c = coach(analysis)
    body = "".join([
        _safety(analysis), _header(analysis, note), _verdict(analysis, c), _people(analysis, frames),
        _video(video_href),
        _faults(analysis, frames), _speed(analysis, frames), _details(analysis, c), _signals(analysis),
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
