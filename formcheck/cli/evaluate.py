"""`formcheck evaluate`: the analysis scored against hand-labeled clips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.evaluate.scoring import (
    clip_result,
    format_table,
    held_out,
    read_labels,
    read_sources,
    score,
    write_evaluation,
)
from formcheck.log import log, show_progress


def cmd_evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from formcheck.analyze import analyze_track
    from formcheck.cli.options import load_user_config, pose_settings
    from formcheck.pose.source import load_track

    labels = read_labels(args.labels)
    videos = Path(args.videos) if args.videos else Path(args.labels).parent
    if not videos.is_dir():
        raise FormcheckError(f"--videos must be a folder: {videos}")
    config = load_user_config(args)
    results, analyses = {}, {}
    for label in tqdm(labels, desc="evaluate", unit="clip", file=sys.stderr, disable=not show_progress(args.quiet)):
        try:
            track = load_track(str(videos / label["file"]), args.model, use_cache=not args.no_cache, quiet=True,
                               settings=pose_settings(args), workers=args.workers)
            analyses[label["file"]] = analysis = analyze_track(track, config)
            results[label["file"]] = clip_result(analysis)
        except FormcheckError as exc:  # one unreadable clip should not end the evaluation
            results[label["file"]] = {"error": str(exc)}
    if args.held_out:
        table = Path(args.sources) if args.sources else Path(args.labels).parent / "SOURCES.tsv"
        sources = read_sources(table) if table.is_file() else {}
        if args.sources and not sources:
            raise FormcheckError(f"no sources in {table} (expected file<TAB>source per line after a header)")
        held, chosen = held_out(labels, analyses, float(config["clip"]["min_share"]), sources)
        results = {**results, **held}
    ev = score(labels, results)
    if args.held_out:
        fold = (f"leave one source out ({len(set(sources.values()))} sources from {table.name})" if sources
                else "leave one clip out (no SOURCES.tsv beside the labels)")
        ev["held_out"] = {"method": f"{fold}; bands scaled by the factor that scores best on the other folds",
                          "factors": chosen}
        print(f"Held out: every clip judged with bands chosen on the other folds, {fold}.\n")
    sys.stdout.write(format_table(ev))
    for path in write_evaluation(ev, Path(args.out), args.labels):
        log.info("wrote %s", path)
    return 0


def register(sub) -> None:
    from formcheck.cli.options import (
        add_config_option,
        add_inference_options,
        add_pose_options,
        examples,
    )

    p = sub.add_parser("evaluate", help="score the analysis against labeled clips (labels.jsonl)",
                       epilog=examples("formcheck evaluate clips/labels.jsonl",
                                       "formcheck evaluate labels.jsonl --videos clips/ --held-out --out eval/"))
    p.add_argument("labels", help="labels file, one JSON object per clip: file, reps, view, clip_faults, clip_unclear")
    p.add_argument("--videos", metavar="DIR", help="folder with the clips (default: the labels file's folder)")
    p.add_argument("--out", metavar="DIR", default="evaluation",
                   help="where to write evaluation.json and evaluation.csv (default: ./evaluation)")
    p.add_argument("--held-out", action="store_true",
                   help="judge each clip with thresholds chosen on the clips of other sources (leave one source "
                        "out, sources from SOURCES.tsv beside the labels; one clip a fold without it)")
    p.add_argument("--sources", metavar="TSV", help="clip -> source table for --held-out (default: SOURCES.tsv "
                                                     "beside the labels file)")
    add_config_option(p)
    add_pose_options(p)
    add_inference_options(p)
    p.set_defaults(func=cmd_evaluate)
