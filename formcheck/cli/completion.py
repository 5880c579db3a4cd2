"""`formcheck completion SHELL`: a tab-completion script for bash, zsh or tcsh.

Generated from the command line itself (shtab reads the argparse parser), so
it never falls behind the commands and options.
"""

from __future__ import annotations

import argparse
import sys

from formcheck.errors import FormcheckError

SHELLS = ("bash", "zsh", "tcsh")


def cmd_completion(args: argparse.Namespace) -> int:
    try:
        import shtab
    except ImportError:
        raise FormcheckError('shell completion needs shtab: pip install "formcheck[completion]"') from None
    from formcheck.cli.main import build_parser

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return 0


def register(sub) -> None:
    p = sub.add_parser("completion", help="print a shell tab-completion script (bash, zsh or tcsh)",
                       epilog='examples:\n  formcheck completion bash > ~/.local/share/bash-completion/completions/formcheck\n'
                              '  formcheck completion zsh > "${fpath[1]}/_formcheck"')
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=cmd_completion)
