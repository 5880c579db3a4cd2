"""Shared fixtures: the labeled real clips in ../shared/videos and their pose tracks.

Real-clip tests use the real model; pose tracks go through the normal cache
(FORMCHECK_CACHE or ~/.cache/formcheck), so each clip is inferred once per machine.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEOS = REPO.parent / "shared" / "videos"


def shared_videos() -> Path:
    if not (SHARED_VIDEOS / "labels.jsonl").is_file():
        pytest.skip(f"labeled clips not found at {SHARED_VIDEOS}")
    return SHARED_VIDEOS


@lru_cache(maxsize=None)
def _labels() -> dict[str, dict]:
    lines = (SHARED_VIDEOS / "labels.jsonl").read_text().splitlines()
    return {d["file"]: d for d in map(json.loads, filter(None, lines))}


@lru_cache(maxsize=None)
def _track(name: str):
    from formcheck.pose import extract_track

    return extract_track(SHARED_VIDEOS / name, quiet=True)


@pytest.fixture(scope="session")
def videos() -> Path:
    return shared_videos()


@pytest.fixture(scope="session")
def labels(videos) -> dict[str, dict]:
    return _labels()


@pytest.fixture(scope="session")
def real_track(videos):
    """real_track("clip.mp4") -> PoseTrack, inferred once per session and cached on disk."""
    return _track
