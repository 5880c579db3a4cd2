"""The single-clip front ends' command-line wiring (pose, analyze, symptoms)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from formcheck.cli.options import (
    add_inference_options,
    add_person_option,
    add_pose_options,
    add_report_options,
    examples,
    load_user_config,
    output_options,
    pose_settings,
)
from formcheck.log import log


def cmd_pose(args: argparse.Namespace) -> int:
    from formcheck.outputs.writers import check_targets
    from formcheck.pose.extract import extract_track, require_person

    out = Path(args.output) if args.output else Path(args.video).with_suffix(".pose.npz")
    check_targets([("-o", out)], [args.video])
    track = extract_track(args.video, model=args.model, settings=pose_settings(args),
                          use_cache=not args.no_cache, quiet=args.quiet, workers=args.workers)
    require_person(track, args.video)  # exit 2, and no track file that looks like a result
    track.save(out)
    share = float(track.detected.mean()) if track.frames else 0.0
    print(f"{out}: {track.frames} frames, {track.fps:.2f} fps, "
          f"{track.width}x{track.height}, person in {share:.0%} of frames")
    return 0


def height_m(text: str) -> float:
    """A person's height in metres: checked when the arguments are read."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.5 <= value <= 2.5:
        raise argparse.ArgumentTypeError(f"a height in metres between 0.5 and 2.5, got {text!r}")
    return value


def cmd_analyze(args: argparse.Namespace) -> int:
    from formcheck.analyze import analyze_track
    from formcheck.coach.safety import normalize
    from formcheck.outputs.report import format_text
    from formcheck.outputs.writers import person_stem, write_outputs
    from formcheck.pose.extract import require_person
    from formcheck.pose.people import everyone, follow
    from formcheck.pose.source import load_track

    config = load_user_config(args)
    symptoms = normalize(args.symptom or ())  # a typo fails now, not after inference
    options = output_options(args)
    options.refuse_overwriting(args.video)
    if args.person == "all":
        options.for_person(0)  # standard output cannot take several reports: said before any work
    track = load_track(args.video, args.model, use_cache=not args.no_cache, quiet=args.quiet,
                       settings=pose_settings(args), workers=args.workers)
    require_person(track, args.video)  # before any report file is written
    if args.person == "all":
        people = everyone(track)
        runs = [(follow(track, str(pid)), options.for_person(pid), person_stem(pid)) for pid in people]
        for _, each, stem in runs:  # every person's files checked before the first is written
            each.refuse_overwriting(args.video, stem=stem)
        if len(people) > 1:
            log.info("%d people in view: one report each (%s)", len(people), ", ".join(f"person {p}" for p in people))
    else:
        runs = [(follow(track, args.person), options, "report")]
    said = {text for _, text in track.reading_notes()}  # the pose layer printed those already
    for person, each, stem in runs:
        analysis = analyze_track(person, config, symptoms=symptoms, height_m=args.height)
        for text in analysis.warnings:  # also in the report; on stderr so they are seen even with --json -
            if text not in said:
                log.warning(text)
        written = write_outputs(analysis, each, stem=stem)
        if not each.uses_stdout:  # a data file is on stdout: keep it parseable
            sys.stdout.write(format_text(analysis, details=args.details))
        for path in written:
            log.info("wrote %s", path)
    return 0


def cmd_symptoms(args: argparse.Namespace) -> int:
    from formcheck.coach.safety import checklist

    def ask(prompt: str) -> str:
        return input(prompt)

    checklist(ask, sys.stdout)
    return 0


def register(sub) -> None:
    p = sub.add_parser("pose", help="extract a pose track from a video and save it (.npz)",
                       epilog=examples("formcheck pose my_set.mp4 -o my_set.npz",
                                       "formcheck analyze my_set.npz   # re-run the analysis without inference"))
    p.add_argument("video", help="video file")
    p.add_argument("-o", "--output", metavar="PATH", help="where to write the track (default: VIDEO.pose.npz)")
    add_pose_options(p)
    add_inference_options(p)
    p.set_defaults(func=cmd_pose)

    p = sub.add_parser("analyze", help="analyse a squat video (or a saved .npz pose track), rep by rep",
                       epilog=examples("formcheck analyze my_set.mp4 --out report/",
                                       "formcheck analyze my_set.mp4 --json - | jq .rep_count",
                                       "formcheck analyze my_set.mp4 --symptom back_cramping --html report.html"))
    p.add_argument("video", help="video file, or a pose track saved by `formcheck pose`")
    p.add_argument("--height", type=height_m, metavar="METRES",
                   help="the lifter's height, e.g. 1.78: bar speeds scaled from it (else from the pose model's "
                        "typical body size, about 3 times less sure)")
    add_person_option(p)
    add_report_options(p)
    add_pose_options(p)
    add_inference_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("symptoms", help="a short checklist of what you feel, with the matching guidance",
                       epilog=examples("formcheck symptoms",
                                       "formcheck analyze my_set.mp4 --symptom numbness_tingling"))
    p.set_defaults(func=cmd_symptoms)
