"""The analysis front ends' command-line wiring (analyze, symptoms)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from formcheck.errors import FormcheckError


def load_track(source: str, args: argparse.Namespace):
    """A saved pose track (.npz) is reused as is; a video goes through the pose layer."""
    from formcheck.pose import PoseSettings, PoseTrack, extract_track

    if source.endswith(".npz"):
        return PoseTrack.load(source)
    return extract_track(source, model=args.model, settings=PoseSettings(),
                         use_cache=not args.no_cache, quiet=args.quiet)


def write_outputs(analysis, args: argparse.Namespace, stem: str = "report") -> list[Path]:
    """Every file the user asked for; --out DIR gets the full set."""
    from formcheck import report

    written: list[Path] = []
    json_path, csv_path = args.json, args.csv
    out = Path(args.out) if getattr(args, "out", None) else None
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
    video_path = getattr(args, "video_out", None)
    html_path = getattr(args, "html", None) or (out / f"{stem}.html" if out is not None else None)
    notes = []
    if video_path:
        from formcheck.render.overlay import write_video

        notes.append(write_video(analysis, video_path, quiet=getattr(args, "quiet", True)))
        written.append(Path(video_path))
    if html_path:
        from formcheck.render.html import write_html

        notes.append(write_html(analysis, html_path, video=video_path))
        written.append(Path(html_path))
    for note in dict.fromkeys(n for n in notes if n):
        print(f"formcheck: note: {note}", file=sys.stderr)
    return written


def cmd_analyze(args: argparse.Namespace) -> int:
    from formcheck.analyze import analyze_track
    from formcheck.config import load_config
    from formcheck.pose.extract import require_person
    from formcheck.report import format_text
    from formcheck.safety import normalize

    config = load_config(args.config)
    symptoms = normalize(args.symptom or ())  # a typo fails now, not after inference
    track = load_track(args.video, args)
    require_person(track, args.video)  # before any report file is written
    analysis = analyze_track(track, config, symptoms=symptoms)
    written = write_outputs(analysis, args)
    sys.stdout.write(format_text(analysis))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_symptoms(args: argparse.Namespace) -> int:
    from formcheck.safety import checklist

    def ask(prompt: str) -> str:
        return input(prompt)

    checklist(ask, sys.stdout)
    return 0


def add_report_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report")
    g.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    g.add_argument("--csv", metavar="PATH", help="write one row per rep as CSV")
    g.add_argument("--out", metavar="DIR",
                   help="write report.json, report_reps.csv, report.html and the pose track into DIR")
    g.add_argument("--html", metavar="PATH",
                   help="write a self-contained HTML report: rep table, key frames, plots, advice")
    g.add_argument("--video-out", metavar="PATH",
                   help="write the video with skeleton, angles, rep counter and faults drawn on it (H.264 MP4)")
    g.add_argument("--config", metavar="TOML", help="override fault thresholds (see formcheck/data/rules.toml)")
    g.add_argument("--symptom", action="append", metavar="S",
                   help="something you feel (repeatable), e.g. back_cramping, numbness_tingling; "
                        "see `formcheck symptoms`")


def register(sub) -> None:
    from formcheck.cli import add_pose_options

    p = sub.add_parser("analyze", help="analyse a squat video (or a saved .npz pose track), rep by rep")
    p.add_argument("video", help="video file, or a pose track saved by `formcheck pose`")
    add_report_options(p)
    add_pose_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("symptoms", help="a short checklist of what you feel, with the matching guidance")
    p.set_defaults(func=cmd_symptoms)
