"""The content-addressed pose-track cache: where it lives, its keys, its entries."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.media.model import file_sha256
from formcheck.media.video import looks_truncated, stated_duration
from formcheck.pose import orientation
from formcheck.pose.run import READ_CHECKS, PoseSettings
from formcheck.pose.track import PoseTrack


def cache_root() -> tuple[Path, str]:
    """formcheck's cache folder and what chose it: FORMCHECK_CACHE, else
    $XDG_CACHE_HOME/formcheck, else ~/.cache/formcheck (the XDG default)."""
    if os.environ.get("FORMCHECK_CACHE"):
        return Path(os.environ["FORMCHECK_CACHE"]), "FORMCHECK_CACHE"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative path there is invalid and to be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "formcheck", "XDG_CACHE_HOME"
    return Path.home() / ".cache" / "formcheck", "default"


def cache_dir() -> Path:
    """Where pose tracks are cached, one .npz per cache key."""
    return cache_root()[0] / "tracks"


CACHE_ENTRY = re.compile(r"[0-9a-f]{32}\.npz")  # cache_key() + ".npz": what formcheck itself wrote


def cache_entries(folder: Path | None = None) -> list[Path]:
    """The pose tracks formcheck cached in `folder` (default: cache_dir()),
    and nothing else that may sit beside them."""
    folder = cache_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if CACHE_ENTRY.fullmatch(p.name) and p.is_file())


def cache_key(video: Path, model: Path, settings: PoseSettings) -> str:
    parts = {
        "video": file_sha256(str(video.resolve())),
        "model": file_sha256(str(model.resolve())),
        "settings": asdict(settings),
        "format": 3,  # 2: frames decoded by PyAV with their container timestamps; 3: everyone in view kept
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def check_cached(track: PoseTrack, video: Path, cached: Path) -> PoseTrack | None:
    """A track cached before the truncation and orientation checks existed:
    both are redone from the track and the file's header, without decoding.
    A track that needs turning (or shows nobody, maybe for want of turning)
    is a cache miss; anything else is kept, marked, and saved again."""
    share, judged = orientation.not_upright_share(track.image, track.visibility)
    if judged == 0 or share >= orientation.LYING_SHARE:
        return None
    decoded = float(track.t[-1] + 1.0 / track.fps) if track.frames else 0.0
    cut = looks_truncated(decoded, stated_duration(video))
    if cut is not None:
        track.meta["truncated"] = {"decoded_s": round(cut[0], 3), "stated_s": round(cut[1], 3)}
    track.meta[READ_CHECKS] = 1
    try:
        track.save(cached)
    except FormcheckError:
        pass  # still a good track; the checks are simply redone next time
    return track
