"""`formcheck batch`: every video in a folder, on this machine or a Dask cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

from formcheck.cli.options import (
    add_config_option,
    add_person_option,
    add_pose_options,
    examples,
    load_user_config,
)
from formcheck.errors import FormcheckError
from formcheck.log import note


def cmd_batch(args: argparse.Namespace) -> int:
    from formcheck.batch.clips import discover, plan, settings_stamp
    from formcheck.batch.run import open_engine, prepare_out, run_batch
    from formcheck.coach.safety import normalize
    from formcheck.media.model import resolve_model
    from formcheck.media.video import VIDEO_EXTENSIONS

    if args.jobs is not None and args.jobs < 1:
        raise FormcheckError(f"--jobs must be at least 1, got {args.jobs}")
    src, out = Path(args.folder), Path(args.out)
    if not src.exists():
        raise FormcheckError(f"no such folder: {src}")
    if not src.is_dir():
        raise FormcheckError(f"expected a folder of videos, got a file: {src} (use `formcheck analyze` for one video)")
    model = resolve_model(args.model)
    config = load_user_config(args)
    args.symptom = normalize(args.symptom or ())  # a typo fails now, not once per clip
    skipped: list[str] = []
    videos = discover(src, skip=out, skipped=skipped)
    if not videos:
        raise FormcheckError(f"no videos in {src} (looked for {', '.join(VIDEO_EXTENSIONS)}, in subfolders too)")
    with open_engine(args) as engine:  # an unreachable cluster fails here, before any work
        prepare_out(out)
        if skipped:  # said once the batch really starts: an error before it stays one line
            shown = "; ".join(skipped[:5]) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else "")
            note(f"left out {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} of {src}: {shown}")
        stamp = settings_stamp(model, config, args.symptom or (), args.html)
        clips = plan(src, out, videos, stamp, force=args.force, person=args.person)
        return run_batch(clips, args, model, config, stamp, src, out, engine)


def register(sub) -> None:

    p = sub.add_parser("batch", help="analyse every video in a folder, in parallel, with a summary table",
                       description="Analyse every video under FOLDER (subfolders too). Each clip's reports go "
                                   "to OUT/clips/<name>/; OUT/summary.csv, summary.json and summary_reps.csv "
                                   "cover the whole set. Re-running skips clips already done with the same "
                                   "video, model and settings. Hidden files and folders are left out. "
                                   "A file CLIP.person beside a clip (e.g. set1.mp4.person holding `left` "
                                   "or a number from its report) says whom to analyse in that clip.",
                       epilog=examples("formcheck batch sets/ --out results/",
                                       "formcheck batch sets/ --out results/ --jobs 2 --html"))
    p.add_argument("folder", help="folder of videos")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="clips analysed at once (default: number of cores)")
    p.add_argument("--force", action="store_true", help="redo clips even when already done")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the clips on a Dask cluster: tcp://HOST:PORT of a running scheduler, or `local` "
                        "for one on this machine with --jobs workers (needs formcheck[distributed]; the "
                        "videos must be readable by every worker at the same path)")
    # Not add_report_options: its --json/--csv/--html/--video-out name one file each.
    g = p.add_argument_group("report")
    g.add_argument("--out", required=True, metavar="DIR", help="where the per-clip reports and the summary go")
    g.add_argument("--html", action="store_true", help="also write an HTML report per clip (slower)")
    add_config_option(g)
    g.add_argument("--symptom", action="append", metavar="S", help="something you feel (repeatable); see `formcheck symptoms`")
    add_person_option(g, all_too=False)
    add_pose_options(p)
    p.set_defaults(func=cmd_batch)
