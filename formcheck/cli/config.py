"""`formcheck config`: every fault threshold in force, with the reason for each number."""

from __future__ import annotations

import argparse
import sys

from formcheck.cli.options import add_config_option, load_user_config


def _toml_value(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


THRESHOLD_KEYS = ("metric", "above", "below", "gate", "views", "confidence")  # what a user tunes


def format_config(config: dict) -> str:
    from formcheck.coach.config import SETTINGS_TABLES

    """The thresholds as a TOML file a user can copy into formcheck.toml, each
    fault's reason as the comment above it."""
    out = ["# formcheck fault thresholds. Copy the tables you want to change into",
           "# ./formcheck.toml (or a file given with --config) and edit the numbers.", ""]
    for code, table in config.items():
        reason = table.get("reason")
        if reason:
            out += [f"# {line.strip()}" for line in reason.strip().splitlines()]
        out.append(f"[{code}]")
        for key, value in table.items():
            if key in THRESHOLD_KEYS or code in SETTINGS_TABLES:
                out.append(f"{key} = {_toml_value(value)}")
        out.append("")
    return "\n".join(out)


def cmd_config(args: argparse.Namespace) -> int:
    from formcheck.coach.config import load_config

    config = load_config() if args.defaults else load_user_config(args)
    sys.stdout.write(format_config(config))
    return 0


def register(sub) -> None:
    p = sub.add_parser("config", help="print every fault threshold with the reason for it",
                       description="Print the fault thresholds in force (the packaged ones, changed by "
                                   "./formcheck.toml and --config), each with the reason for its numbers.",
                       epilog="examples:\n  formcheck config --defaults > formcheck.toml   # start your own\n"
                              "  formcheck config --config lowbar.toml            # what a run would use")
    p.add_argument("--defaults", action="store_true", help="the packaged thresholds, ignoring any user file")
    add_config_option(p)
    p.set_defaults(func=cmd_config)
