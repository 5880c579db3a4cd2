"""Shared fixtures: the labeled real clips and their pose tracks, and the
test suite's own pose cache.

Real-clip tests use the real model. Their pose tracks go through the normal
cache code, but never into the user's cache: FORMCHECK_CACHE is pointed at
$FORMCHECK_TEST_CACHE, else at a folder of its own under the temp dir that
outlives the run, so each clip is inferred once per machine, not per run.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

import shared_data
from formcheck.log import setup as setup_log

# Library code logs; the command line prints those records on stderr. Tests
# that call the library directly see them on stderr the same way.
setup_log()
from shared_data import SKIP_PREFIX

pytest_plugins = ["pytester"]  # test_cache.py runs a small pytest session of its own


def _test_cache() -> Path:
    if os.environ.get("FORMCHECK_TEST_CACHE"):
        return Path(os.environ["FORMCHECK_TEST_CACHE"]).absolute()
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers): one folder for all
        user = "anyone"
    # Per user, so a temp dir shared by several accounts has no folder owned by another.
    return Path(tempfile.gettempdir()) / f"formcheck-test-cache-{user}"


# Set at import, before any test module imports formcheck or starts a
# formcheck subprocess (they inherit the environment): the suite never
# writes to FORMCHECK_CACHE, $XDG_CACHE_HOME/formcheck or ~/.cache/formcheck.
TEST_CACHE = _test_cache()
os.environ["FORMCHECK_CACHE"] = str(TEST_CACHE)

# Fixtures that mean a test runs the real model on the shared clips.
REAL_FIXTURES = {"videos", "labels", "real_track"}


def pytest_report_header(config):
    return f"formcheck: test pose cache {TEST_CACHE}; shared folder {shared_data.SHARED}"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    # `-m "not real"` then leaves out every test that needs the model and the
    # clips, whether or not its module remembered the marker.
    for item in items:
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real)


def pytest_terminal_summary(terminalreporter):
    """One line at the end when tests skipped for want of the shared folder."""
    parts: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        m = re.search(re.escape(SKIP_PREFIX) + r"(\w+)", reason)
        if m:
            parts[m.group(1)] += 1
    if parts:
        what = ", ".join(f"{part}/ ({n})" for part, n in sorted(parts.items()))
        terminalreporter.write_line(
            f"formcheck: {sum(parts.values())} tests skipped for want of {what} in {shared_data.SHARED}; "
            "set FORMCHECK_SHARED to the folder holding videos/ and documents/", yellow=True)


@lru_cache(maxsize=None)
def _labels() -> dict[str, dict]:
    lines = (shared_data.path("videos") / "labels.jsonl").read_text().splitlines()
    return {d["file"]: d for d in map(json.loads, filter(None, lines))}


@lru_cache(maxsize=None)
def _track(name: str):
    from formcheck.pose import extract_track

    return extract_track(shared_data.path("videos") / name, quiet=True)


@pytest.fixture(scope="session")
def videos() -> Path:
    return shared_data.require("videos")


@pytest.fixture(scope="session")
def labels(videos) -> dict[str, dict]:
    return _labels()


@pytest.fixture(scope="session")
def real_track(videos):
    """real_track("clip.mp4") -> PoseTrack, inferred once per session and cached on disk."""
    return _track


@pytest.fixture(scope="session")
def documents() -> Path:
    return shared_data.require("documents")
