"""Command-line options shared by several subcommands, and what they turn into.

Front ends register their subcommands with these helpers and hand library
code plain values or an OutputOptions, never the argparse namespace.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from formcheck.outputs import OutputOptions


def add_pose_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pose")
    g.add_argument("--model", metavar="PATH", help="PoseLandmarker .task file (default: the bundled full model)")
    g.add_argument("--no-cache", action="store_true", help="always run pose inference, never reuse a cached track")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    g.add_argument("--verbose", "-v", action="store_true",
                   help="also show the messages of MediaPipe and FFmpeg (hidden by default)")


def add_config_option(g) -> None:
    g.add_argument("--config", metavar="TOML",
                   help="override fault thresholds (see formcheck/data/faults.toml)")


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
    g.add_argument("--details", action="store_true",
                   help="print every rep's numbers, tempo, why each fault matters and what could not be judged")
    add_config_option(g)
    g.add_argument("--symptom", action="append", metavar="S",
                   help="something you feel (repeatable), e.g. back_cramping, numbness_tingling; "
                        "see `formcheck symptoms`")


def output_options(args: argparse.Namespace) -> OutputOptions:
    def path(value) -> Path | None:
        return Path(value) if value else None

    return OutputOptions(json=path(args.json), csv=path(args.csv), out=path(args.out), html=path(args.html),
                         video_out=path(args.video_out), quiet=bool(getattr(args, "quiet", True)))
