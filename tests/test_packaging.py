"""Packaging: what a fresh `pip install .` builds, and CI's promises that
depend on pyproject.toml (the Pythons it claims, the dependency floors)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import formcheck

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def _requirement(spec: str) -> tuple[str, str, str]:
    """'numpy>=1.24' -> ('numpy', '>=', '1.24'); markers and extras dropped."""
    spec = spec.split(";")[0].strip()
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?:(==|>=)\s*([^,\s]+))?.*", spec)
    assert m, spec
    return m.group(1).lower(), m.group(2) or "", m.group(3) or ""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel `pip wheel .` builds (isolated build, so the build-system
    requirement is what gets used), with pip's verbose log."""
    out = tmp_path_factory.mktemp("wheel")
    # From a copy: setuptools builds in the source tree and would leave build/ and *.egg-info there.
    src = out / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "out"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(src)],
                         capture_output=True, text=True, timeout=600)
    log = res.stdout + res.stderr
    if res.returncode != 0 and "Installing build dependencies: finished with status 'error'" in log:
        pytest.skip("cannot install the build requirements here (no package index?)")
    assert res.returncode == 0, log[-3000:]
    (path,) = out.glob("formcheck-*.whl")
    return path, log


def test_wheel_builds_without_setuptools_warnings(wheel):
    # setuptools announces every configuration it will stop supporting (the
    # license table's end date was 2027-02-18) as a warning in the build log.
    _, log = wheel
    noisy = [line for line in log.splitlines()
             if re.search(r"(Warning|deprecat)", line, re.I) and "byte-compiling is disabled" not in line
             and "is ignored: it is neither a file nor a directory" not in line]  # pip's note on an index path
    assert not noisy, "\n".join(noisy)


def test_wheel_metadata_and_files(wheel):
    path, _ = wheel
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        dist_info = f"formcheck-{formcheck.__version__}.dist-info"
        meta = z.read(f"{dist_info}/METADATA").decode()
    headers = dict(line.split(": ", 1) for line in meta.split("\n\n")[0].splitlines() if ": " in line)
    # One version string: the wheel's version is the package's __version__.
    assert headers["Version"] == formcheck.__version__
    assert headers["License-Expression"] == "Apache-2.0" and "License-File: LICENSE" in meta
    assert f"{dist_info}/licenses/LICENSE" in names
    urls = re.findall(r"^Project-URL: (\w+), (\S+)$", meta, re.M)
    assert {name for name, _ in urls} == {"Homepage", "Source", "Issues"}
    assert all(url.startswith("https://github.com/formcheck/formcheck") for _, url in urls)
    # Type checkers only read the package's annotations when py.typed ships.
    assert {"formcheck/py.typed", "formcheck/coach/data/faults.toml", "formcheck/coach/data/advice.toml",
            "formcheck/models/pose_landmarker_full.task"} <= names


def test_one_version_string():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "formcheck.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", formcheck.__version__)


def test_ci_runs_the_oldest_and_newest_claimed_python():
    """No upper cap (it would shut out the next Python); the newest release
    the classifiers claim is the newest one CI tests."""
    assert re.fullmatch(r">=3\.\d+", PROJECT["requires-python"]), "no upper bound on Python"
    low = PROJECT["requires-python"][2:]
    versions = sorted((c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"]
                       if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)), key=lambda v: int(v[2:]))
    assert versions[0] == low
    claimed = f"{low} {versions[-1]}"
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(rf'^OLDEST_NEWEST="{claimed}"', ci, re.M), f"CI must test {claimed}"


def test_floor_constraints_pin_every_lower_bound():
    """.ci/floors.txt installs each dependency at the lowest version pyproject
    allows; a floor raised in one place and not the other fails here."""
    specs = PROJECT["dependencies"] + [s for extra in PROJECT["optional-dependencies"].values() for s in extra]
    floors = {}
    for line in (REPO / ".ci" / "floors.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, op, version = _requirement(line)
            assert op == "==", line
            floors[name] = version
    expected = {name: version for name, op, version in map(_requirement, specs) if op}
    assert floors == expected
