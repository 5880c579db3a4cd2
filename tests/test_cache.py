"""The pose-track cache: where it lives, `formcheck cache info|clear`, and the
test suite keeping out of the user's cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from formcheck.cli.main import main
from formcheck.pose.cache import cache_dir, cache_entries

HERE = Path(__file__).resolve().parent


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No cache variable set, and a home of our own."""
    for name in ("FORMCHECK_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_cache_folder_precedence(clean_env, tmp_path):
    assert cache_dir() == tmp_path / "home" / ".cache" / "formcheck" / "tracks"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "formcheck" / "tracks"
    clean_env.setenv("FORMCHECK_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine" / "tracks"


def test_relative_xdg_cache_home_is_ignored(clean_env, tmp_path):
    # The XDG spec: a relative path there is invalid; a cache must not land in the current folder.
    clean_env.setenv("XDG_CACHE_HOME", "relative/cache")
    assert cache_dir() == tmp_path / "home" / ".cache" / "formcheck" / "tracks"


def _fill(folder: Path) -> tuple[list[Path], list[Path]]:
    """Two cache entries and three files that only look like one or are not ours."""
    folder.mkdir(parents=True)
    ours = []
    for key in ("0" * 32, "0123456789abcdef" * 2):
        np.savez(folder / f"{key}.npz", t=np.arange(1000.0))
        ours.append(folder / f"{key}.npz")
    others = [folder / "my_track.npz", folder / f"{'0' * 32}.npz.part", folder / "notes.txt"]
    for path in others:
        path.write_text("not a cache entry")
    return ours, others


def test_cache_info_counts_only_entries(clean_env, tmp_path, capsys):
    clean_env.setenv("FORMCHECK_CACHE", str(tmp_path / "c"))
    ours, _ = _fill(tmp_path / "c" / "tracks")
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"folder:  {tmp_path / 'c' / 'tracks'} (from $FORMCHECK_CACHE")
    assert out[1] == "entries: 2 pose tracks"
    total = sum(p.stat().st_size for p in ours)
    assert out[2] == f"size:    {total / 1000:.1f} kB"


def test_cache_info_on_a_cache_not_yet_made(clean_env, tmp_path, capsys):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "not created yet" in out and "from $XDG_CACHE_HOME" in out and "entries: 0 pose tracks" in out
    assert not (tmp_path / "xdg").exists(), "info only looks"


def test_cache_clear_removes_only_formcheck_entries(clean_env, tmp_path, capsys):
    clean_env.setenv("FORMCHECK_CACHE", str(tmp_path / "c"))
    ours, others = _fill(tmp_path / "c" / "tracks")
    size = sum(p.stat().st_size for p in ours)
    assert main(["cache", "clear"]) == 0  # no question asked: stdin is not read
    out = capsys.readouterr().out
    assert f"removed 2 pose tracks ({size / 1000:.1f} kB) from {tmp_path / 'c' / 'tracks'}" in out
    assert "left 3 other files" in out
    assert not any(p.exists() for p in ours) and all(p.exists() for p in others)
    assert cache_entries() == []
    assert main(["cache", "clear"]) == 0 and "removed 0 pose tracks" in capsys.readouterr().out


def test_cache_without_an_action_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cache"])
    assert exc.value.code == 2


# -- the suite's own cache ------------------------------------------------------

INNER_TESTS = '''
import os, subprocess, sys
from pathlib import Path

import cv2
import numpy as np

from formcheck.pose.cache import cache_dir, cache_entries
from formcheck.pose.extract import extract_track


class NoPerson:
    """Stands in for the model: every frame empty, so no inference is needed."""
    def detect(self, rgb, timestamp_ms):
        return []

    def close(self):
        pass


def test_a_pose_track_is_cached(tmp_path):
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    extract_track(clip, backend=NoPerson(), quiet=True)
    assert len(cache_entries()) == 1


def test_a_formcheck_subprocess_uses_the_same_cache():
    out = subprocess.run([sys.executable, "-m", "formcheck", "cache", "info"],
                         capture_output=True, text=True, check=True).stdout
    print("INNER", out.splitlines()[0])
'''


def _inner_session(pytester, monkeypatch, tmp_path, env: dict[str, str | None]):
    """A small pytest run with this suite's conftest, under the given environment."""
    for name in ("conftest.py", "shared_data.py"):
        shutil.copy(HERE / name, pytester.path / name)
    pytester.makepyfile(test_inner=INNER_TESTS)
    user = {"HOME": tmp_path / "home", "XDG_CACHE_HOME": tmp_path / "xdg",
            "FORMCHECK_CACHE": tmp_path / "user_cache"}
    for name, value in {**user, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    # The user's formcheck cache, wherever it was configured to be, got nothing
    # (other libraries, such as matplotlib's font list, may keep their own caches there).
    for folder in (tmp_path / "home" / ".cache" / "formcheck", tmp_path / "xdg" / "formcheck", tmp_path / "user_cache"):
        assert not any(p.is_file() for p in folder.rglob("*")), folder
    return result


def test_suite_writes_to_formcheck_test_cache_not_the_users(pytester, monkeypatch, tmp_path):
    test_cache = tmp_path / "test_cache"
    result = _inner_session(pytester, monkeypatch, tmp_path, {"FORMCHECK_TEST_CACHE": test_cache})
    assert len(cache_entries(test_cache / "tracks")) == 1
    result.stdout.fnmatch_lines([f"*INNER folder:  {test_cache / 'tracks'} (from $FORMCHECK_CACHE)"])


def test_suite_cache_defaults_to_a_lasting_folder_in_the_temp_dir(pytester, monkeypatch, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    _inner_session(pytester, monkeypatch, tmp_path, {"FORMCHECK_TEST_CACHE": None, "TMPDIR": temp})
    (folder,) = temp.glob("formcheck-test-cache-*")
    assert len(cache_entries(folder / "tracks")) == 1
