"""Command-line options shared by several subcommands, and what they turn into.

Front ends register their subcommands with these helpers and hand library
code plain values or an OutputOptions, never the argparse namespace.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the front ends' parsers are built without loading the analysis (`formcheck --help` stays fast)
    from formcheck.outputs.writers import OutputOptions


EXIT_CODES = """exit codes:
  0    done
  1    some clips failed (batch), or an internal error
  2    bad input or usage (one line on stderr, no report files)
  130  interrupted (Ctrl-C)"""


def examples(*lines: str) -> str:
    """A help epilog of example command lines."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_verbosity(p: argparse.ArgumentParser) -> None:
    """-q and -v; every command gets them (from cli.build_parser)."""
    g = p.add_argument_group("messages")
    g.add_argument("--quiet", "-q", action="store_true", help="only warnings, errors and notes that change the result on stderr; no progress bars")
    g.add_argument("--verbose", "-v", action="store_true",
                   help="more detail on stderr, including the messages of the pose runtime and FFmpeg")


def add_pose_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pose")
    g.add_argument("--model", metavar="PATH", help="pose model .task bundle (default: the bundled BlazePose full model)")
    g.add_argument("--no-cache", action="store_true", help="always run pose inference, never reuse a cached track")


def person_option(text: str) -> str:
    from formcheck.pose.people import person_rule

    try:
        return person_rule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--person takes ").join(("one of ", ""))) from None


PERSON_HELP = ("whom to analyse when several people are in view: auto (default: the one who squats, then the one "
               "longest in view, then the largest, then the most central), left, right, center, largest, or a "
               "person's number from a report")


def add_person_option(g, all_too: bool = True) -> None:
    """--person: whom the analysis follows among the people in view."""
    g.add_argument("--person", type=person_option, default="auto", metavar="WHO",
                   help=PERSON_HELP + ("; all: one report for each person" if all_too else ""))


def add_inference_options(p: argparse.ArgumentParser) -> None:
    """How one clip's pose inference runs (the commands that read one clip at a time)."""
    g = p.add_argument_group("inference")
    g.add_argument("--workers", type=positive_int, metavar="N",
                   help="cores one clip's pose inference may use, in time chunks; the track is the same "
                        "(default: all this process may run on)")
    g.add_argument("--full-rate", action="store_true",
                   help="run pose on every frame of a clip above 50 fps (default: about 30 frames a second, "
                        "each with its true time)")
    add_backend_option(g)
    g.add_argument("--detect-every", type=positive_int, default=1, metavar="K",
                   help="litert: look for people every K-th frame and follow them in between (faster, but "
                        "each frame then depends on the ones before it and the clip runs on one core; "
                        "default: 1, every frame)")


def add_backend_option(g) -> None:
    from formcheck.pose.backend import BACKENDS

    g.add_argument("--backend", choices=BACKENDS, default="litert",
                   help="pose runtime: litert (default: BlazePose on LiteRT) or mediapipe (the reference; "
                        "needs the mediapipe extra, Python 3.10-3.12)")


def pose_settings(args: argparse.Namespace):
    """The PoseSettings the options of add_inference_options ask for."""
    from formcheck.pose.run import PoseSettings

    return PoseSettings(backend=args.backend, full_rate=args.full_rate, detect_every=args.detect_every)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_config_option(g) -> None:
    g.add_argument("--config", metavar="TOML",
                   help="override fault thresholds (after ./formcheck.toml, if there is one); "
                        "`formcheck config --defaults` lists them all with their reasons")


def config_files(args: argparse.Namespace) -> list[Path]:
    """The user's threshold files in the order they apply: ./formcheck.toml, then --config."""
    from formcheck.coach.config import LOCAL_CONFIG

    local = Path(LOCAL_CONFIG)
    files = [local] if local.is_file() else []
    if getattr(args, "config", None):
        files.append(Path(args.config))
    return files


def load_user_config(args: argparse.Namespace) -> dict:
    from formcheck.coach.config import load_config
    from formcheck.log import log

    files = config_files(args)
    for f in files:
        log.debug("thresholds from %s", f)
    return load_config(*files)


def add_report_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report")
    g.add_argument("--json", metavar="PATH", help="write the full report as JSON (- for standard output)")
    g.add_argument("--csv", metavar="PATH", help="write one row per rep as CSV (- for standard output)")
    g.add_argument("--frames-csv", metavar="PATH",
                   help="write one row per frame: time, every joint angle and signal, and a quality column "
                        "(- for standard output)")
    g.add_argument("--out", metavar="DIR",
                   help="write report.json, report_reps.csv, report.html and the pose track into DIR")
    g.add_argument("--html", metavar="PATH",
                   help="write a self-contained HTML report: rep table, key frames, plots, advice")
    g.add_argument("--video-out", metavar="PATH",
                   help="write the video with skeleton, angles, rep counter and faults drawn on it (H.264 MP4)")
    g.add_argument("--details", action="store_true",
                   help="print every rep's numbers, tempo, why each fault matters and what could not be judged")
    add_config_option(g)
    from formcheck.coach.safety import SYMPTOMS

    g.add_argument("--symptom", action="append", metavar="S",
                   help="something you feel (repeatable): " + ", ".join(SYMPTOMS)
                        + "; `formcheck symptoms` asks you the checklist")


def output_options(args: argparse.Namespace) -> OutputOptions:
    from formcheck.outputs.writers import OutputOptions

    def path(value) -> Path | None:
        return Path(value) if value else None

    return OutputOptions(json=path(args.json), csv=path(args.csv), out=path(args.out), html=path(args.html),
                         video_out=path(args.video_out), frames_csv=path(getattr(args, "frames_csv", None)),
                         quiet=bool(getattr(args, "quiet", True)))
