"""What to write for one analysis, and writing it.

Every front end (analyze, batch, live, demo, the web server) fills an
OutputOptions and calls `write_outputs`; nothing here knows about argparse.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.log import note as log_note
from formcheck.media.atomic import write_text
from formcheck.outputs.frames import frames_text

STDOUT = Path("-")  # as a --json or --csv path: write to standard output instead of a file


@dataclass(frozen=True)
class OutputOptions:
    json: Path | None = None
    csv: Path | None = None
    out: Path | None = None  # a folder that gets the full set: JSON, CSV, pose track and HTML
    html: Path | None = None
    video_out: Path | None = None
    frames_csv: Path | None = None  # one row per frame: time, every signal, quality
    quiet: bool = True  # no progress bars

    def __post_init__(self) -> None:
        if [self.json, self.csv, self.frames_csv].count(STDOUT) > 1:
            raise FormcheckError("only one of --json, --csv and --frames-csv can be - (standard output)")

    @property
    def uses_stdout(self) -> bool:
        """A data file goes to stdout, so the text report must stay off it."""
        return STDOUT in (self.json, self.csv, self.frames_csv)

    def targets(self, stem: str = "report") -> list[tuple[str, Path]]:
        """(option, path) of every file write_outputs would write."""
        out = self.out
        named = [("--json", self.json or (out / f"{stem}.json" if out else None)),
                 ("--csv", self.csv or (out / f"{stem}_reps.csv" if out else None)),
                 ("--out", out / f"{stem}_pose.npz" if out else None),
                 ("--frames-csv", self.frames_csv), ("--video-out", self.video_out),
                 ("--html", self.html or (out / f"{stem}.html" if out else None))]
        return [(name, Path(path)) for name, path in named if path is not None and path != STDOUT]

    def for_person(self, pid: int) -> "OutputOptions":
        """The files of one person's report when each person in view gets
        their own (`--person all`): NAME.personN.EXT beside each named file;
        in --out the stem says it (see `person_stem`)."""
        if self.uses_stdout:
            raise FormcheckError("--person all writes one report per person: name files or --out, not - "
                                 "(standard output)")

        def tagged(path: Path | None) -> Path | None:
            return None if path is None else path.with_name(f"{path.stem}.person{pid}{path.suffix}")

        return replace(self, json=tagged(self.json), csv=tagged(self.csv), html=tagged(self.html),
                       video_out=tagged(self.video_out), frames_csv=tagged(self.frames_csv))

    def refuse_overwriting(self, *inputs: str | Path, stem: str = "report") -> None:
        """Fail before any work when an output would replace one of the run's
        inputs or another output of the same run: the user's file is never
        the price of a typo."""
        check_targets(self.targets(stem), inputs)


def person_stem(pid: int, stem: str = "report") -> str:
    """The --out stem of one person's report under `--person all`."""
    return f"{stem}_person{pid}"


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path, or the same
    inode (a hard link, a symlinked folder)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def check_targets(targets: list[tuple[str, Path]], inputs) -> None:
    """One-line errors for outputs that are inputs or each other (see refuse_overwriting)."""
    for name, path in targets:
        for source in inputs:
            if source and same_file(path, Path(source)):
                raise FormcheckError(f"{name} {path} is the input file {source}: it would be overwritten; "
                                     "choose another name (nothing was written)")
    for i, (name, path) in enumerate(targets):
        for other, second in targets[i + 1:]:
            if same_file(path, second):
                raise FormcheckError(f"{name} and {other} both name {path}: give each output its own name "
                                     "(nothing was written)")


def write_outputs(analysis, options: OutputOptions, stem: str = "report") -> list[Path]:
    """Every file asked for; the paths written, in order."""
    from formcheck.outputs import report

    options.refuse_overwriting(analysis.track.source, stem=stem)  # a last guard; front ends check before work
    written: list[Path] = []
    json_path, csv_path, out = options.json, options.csv, options.out
    if out is not None:
        if out.exists() and not out.is_dir():
            raise FormcheckError(f"--out must be a folder: {out}")
        json_path = json_path or out / f"{stem}.json"
        csv_path = csv_path or out / f"{stem}_reps.csv"
        analysis.track.save(out / f"{stem}_pose.npz")
        written.append(out / f"{stem}_pose.npz")
    for path, text in ((json_path, report.json_text), (csv_path, report.csv_text),
                       (options.frames_csv, frames_text)):
        if path == STDOUT:
            sys.stdout.write(text(analysis))
        elif path:
            write_text(path, text(analysis))
            written.append(Path(path))
    # Pictures only on request (or with --out): the render modules load the
    # encoder and matplotlib, which plain analysis should never pay for.
    html_path = options.html or (out / f"{stem}.html" if out is not None else None)
    notes = []
    if options.video_out:
        from formcheck.outputs.render.overlay import write_video

        notes.append(write_video(analysis, options.video_out, quiet=options.quiet))
        written.append(Path(options.video_out))
    if html_path:
        from formcheck.outputs.render.html import write_html

        notes.append(write_html(analysis, html_path, video=options.video_out))
        written.append(Path(html_path))
    for note in dict.fromkeys(n for n in notes if n):
        log_note(note)
    return written
