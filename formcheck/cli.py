"""Command line: one subcommand per front end, each a thin wiring of the stages."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from formcheck import __version__

# Modules that add subcommands; each has register(subparsers).
FRONT_ENDS = [
    "formcheck.commands",
    "formcheck.batch",
    "formcheck.evaluate",
    "formcheck.simulate_cli",
    "formcheck.live",
    "formcheck.cache_cli",
]
from formcheck.errors import FormcheckError


def add_pose_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pose")
    g.add_argument("--model", metavar="PATH", help="PoseLandmarker .task file (default: the bundled full model)")
    g.add_argument("--no-cache", action="store_true", help="always run pose inference, never reuse a cached track")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def cmd_pose(args: argparse.Namespace) -> int:
    from formcheck.pose import PoseSettings, extract_track

    settings = PoseSettings(masks=args.masks)
    track = extract_track(args.video, model=args.model, settings=settings,
                          use_cache=not args.no_cache, quiet=args.quiet)
    out = Path(args.output) if args.output else Path(args.video).with_suffix(".pose.npz")
    track.save(out)
    share = float(track.detected.mean()) if track.frames else 0.0
    print(f"{out}: {track.frames} frames, {track.fps:.2f} fps, "
          f"{track.width}x{track.height}, person in {share:.0%} of frames")
    if share == 0.0:
        print(f"formcheck: warning: no person found in {args.video}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck", description="Squat form analysis from video, rep by rep.")
    parser.add_argument("--version", action="version", version=f"formcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("pose", help="extract a pose track from a video and save it (.npz)")
    p.add_argument("video", help="video file")
    p.add_argument("-o", "--output", metavar="PATH", help="where to write the track (default: VIDEO.pose.npz)")
    p.add_argument("--masks", action="store_true", help="also store a person segmentation mask per frame")
    add_pose_options(p)
    p.set_defaults(func=cmd_pose)

    for name in FRONT_ENDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except FormcheckError as exc:
        print(f"formcheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("formcheck: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, the details on request
        if os.environ.get("FORMCHECK_DEBUG"):
            raise
        print(f"formcheck: internal error: {type(exc).__name__}: {exc} "
              "(run with FORMCHECK_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
