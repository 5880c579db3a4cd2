"""What to write for one analysis, and writing it.

Every front end (analyze, batch, live, demo, the web server) fills an
OutputOptions and calls `write_outputs`; nothing here knows about argparse.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from formcheck.errors import FormcheckError


@dataclass(frozen=True)
class OutputOptions:
    json: Path | None = None
    csv: Path | None = None
    out: Path | None = None  # a folder that gets the full set: JSON, CSV, pose track and HTML
    html: Path | None = None
    video_out: Path | None = None
    quiet: bool = True  # no progress bars


def write_outputs(analysis, options: OutputOptions, stem: str = "report") -> list[Path]:
    """Every file asked for; the paths written, in order."""
    from formcheck import report

    written: list[Path] = []
    json_path, csv_path, out = options.json, options.csv, options.out
    if out is not None:
        if out.exists() and not out.is_dir():
            raise FormcheckError(f"--out must be a folder: {out}")
        json_path = json_path or out / f"{stem}.json"
        csv_path = csv_path or out / f"{stem}_reps.csv"
        analysis.track.save(out / f"{stem}_pose.npz")
        written.append(out / f"{stem}_pose.npz")
    if json_path:
        report.write_json(analysis, json_path)
        written.append(Path(json_path))
    if csv_path:
        report.write_csv(analysis, csv_path)
        written.append(Path(csv_path))
    # Pictures only on request (or with --out): the render modules load the
    # encoder and matplotlib, which plain analysis should never pay for.
    html_path = options.html or (out / f"{stem}.html" if out is not None else None)
    notes = []
    if options.video_out:
        from formcheck.render.overlay import write_video

        notes.append(write_video(analysis, options.video_out, quiet=options.quiet))
        written.append(Path(options.video_out))
    if html_path:
        from formcheck.render.html import write_html

        notes.append(write_html(analysis, html_path, video=options.video_out))
        written.append(Path(html_path))
    for note in dict.fromkeys(n for n in notes if n):
        print(f"formcheck: note: {note}", file=sys.stderr)
    return written
