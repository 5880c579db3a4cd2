"""Messages and progress on stderr, so stdout carries only the report.

Library code logs to the "formcheck" logger (`log.warning`, `note`,
`log.info`); the command line sets the level from -q (notes and warnings
only) and -v (everything,
native libraries' own messages too) and prints each record as one line,
`formcheck: warning: ...`. Progress bars show only on a terminal, and never
with -q.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("formcheck")
# A note changes what the result means (a clip turned upright, a video drawn
# on blank frames): kept under -q, which hides only chatter such as "wrote".
NOTE = 25
logging.addLevelName(NOTE, "NOTE")
_WORDS = {logging.DEBUG: "debug: ", logging.INFO: "", NOTE: "note: ", logging.WARNING: "warning: ",
          logging.ERROR: "error: "}


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"formcheck: {_WORDS.get(record.levelno, '')}{record.getMessage()}"


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests and the native-output
    silencer replace it), not to the stream seen when the handler was made."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_OneLine())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # logging assigns it once; sys.stderr is always used
        pass


def setup(verbose: bool = False, quiet: bool = False) -> None:
    """Level and handler for a command-line run (idempotent)."""
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        log.addHandler(_Stderr())
    log.setLevel(logging.DEBUG if verbose else NOTE if quiet else logging.INFO)
    log.propagate = False


def note(message: str, *args) -> None:
    log.log(NOTE, message, *args)


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only for a person watching a terminal."""
    return not quiet and log.isEnabledFor(logging.INFO) and sys.stderr.isatty()
