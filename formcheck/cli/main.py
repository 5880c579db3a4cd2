"""Command line: one subcommand per front end, each a thin wiring of the stages."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from formcheck import __version__
from formcheck.cli.options import EXIT_CODES, add_verbosity
from formcheck.errors import FormcheckError
from formcheck.log import setup as setup_log
from formcheck.media.quiet import set_verbose

# Modules that add subcommands; each has register(subparsers).
COMMANDS = [
    "formcheck.cli.analyze",
    "formcheck.cli.batch",
    "formcheck.cli.evaluate",
    "formcheck.cli.simulate",
    "formcheck.cli.live",
    "formcheck.cli.config",
    "formcheck.cli.cache",
    "formcheck.cli.completion",
    "formcheck.cli.serve",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck", description="Squat form analysis from video, rep by rep.")
    parser.add_argument("--version", action="version", version=f"formcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    for p in sub.choices.values():  # every command: -q and -v, and where the exit codes are explained
        add_verbosity(p)
        p.epilog = (p.epilog + "\n\n" if p.epilog else "") + EXIT_CODES
        p.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    set_verbose(getattr(args, "verbose", False))
    setup_log(verbose=getattr(args, "verbose", False), quiet=getattr(args, "quiet", False))
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
