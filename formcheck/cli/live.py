"""`formcheck live`: coaching from a camera, a stream or a video played at real-time pace."""

from __future__ import annotations

import argparse
from pathlib import Path

SNAPSHOT_TYPES = (".png", ".jpg", ".jpeg")


def snapshot_path(text: str) -> str:
    """The snapshot is written only when the session ends: a name OpenCV
    cannot encode must fail now, not after the set."""
    if Path(text).suffix.lower() not in SNAPSHOT_TYPES:
        raise argparse.ArgumentTypeError(f"must end in {', '.join(SNAPSHOT_TYPES)}, got {text!r}")
    return text


def wav_path(text: str) -> str:
    if Path(text).suffix.lower() != ".wav":
        raise argparse.ArgumentTypeError(f"must end in .wav, got {text!r}")
    return text


def cmd_live(args: argparse.Namespace) -> int:
    from formcheck.cli.options import load_user_config, output_options
    from formcheck.live.session import run_session

    return run_session(args, load_user_config(args), output_options(args))


def live_person(text: str) -> str:
    """--person for a live session: numbers are given as people come, so only a place or size picks."""
    from formcheck.cli.options import person_option

    rule = person_option(text)
    if rule == "all" or rule.isdigit():
        raise argparse.ArgumentTypeError("a live session numbers people as they come: choose auto, left, right, "
                                         "center or largest")
    return rule


def register(sub) -> None:
    from formcheck.cli.options import add_backend_option, add_pose_options, add_report_options, examples

    p = sub.add_parser("live", help="coach live from a camera (or a video at real-time pace): reps, phase, cues",
                       epilog=examples("formcheck live                      # the first camera, in a window",
                                       "formcheck live --source set.mp4 --no-window --out session/"))
    p.add_argument("--source", default="0", metavar="SRC",
                   help="camera index (default 0), a video file played at its real-time rate, or a stream URL")
    p.add_argument("--size", metavar="WxH", help="frame size: asked of a camera, resized to for files and streams")
    p.add_argument("--no-window", action="store_true", help="no window: print reps and cues in the terminal")
    p.add_argument("--people", type=int, default=None, choices=(1, 2, 3, 4), metavar="N",
                   help="people the pose model reads per frame (default 1, or 4 with --person; each one more "
                        "costs a landmark pass per frame)")
    p.add_argument("--person", type=live_person, default="auto", metavar="WHO",
                   help="whom to coach when several people are in view: auto (default: the largest, until "
                        "someone else squats while they do not), left, right, center or largest; kept "
                        "while in view")
    p.add_argument("--snapshot", metavar="IMAGE", type=snapshot_path,
                   help="save the last frame shown, with its overlay, when the session ends (.png or .jpg)")
    p.add_argument("--voice", action=argparse.BooleanOptionalAction, default=None,
                   help="say each rep's count and a short cue between reps, offline (default: [live] voice "
                        "in formcheck.toml, else off)")
    p.add_argument("--voice-out", metavar="WAV", type=wav_path,
                   help="write what the voice says, at its times in the session, to a WAV file instead of "
                        "the speakers (implies --voice)")
    p.add_argument("--session-log", metavar="JSON",
                   help="write the session log (per-frame latency, drops, live reps, cues); "
                        "--out DIR writes it as DIR/live_session.json")
    add_report_options(p)
    add_pose_options(p)
    add_backend_option(p)
    p.set_defaults(func=cmd_live)
