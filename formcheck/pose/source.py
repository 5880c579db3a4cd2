"""A pose track from what the user names: a saved .npz track as it is, or a video through the pose layer."""

from __future__ import annotations


def load_track(source: str, model: str | None = None, use_cache: bool = True, quiet: bool = False,
               settings=None, workers: int | None = None):
    from formcheck.pose.track import PoseTrack

    if source.endswith(".npz"):
        return PoseTrack.load(source)
    from formcheck.pose.extract import extract_track
    from formcheck.pose.run import PoseSettings

    return extract_track(source, model=model, settings=settings or PoseSettings(), use_cache=use_cache, quiet=quiet,
                         workers=workers)
