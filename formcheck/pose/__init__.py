"""Pose layer: video -> PoseTrack, behind a small backend interface.

`formcheck.pose.track` (the PoseTrack data and its .npz form) is pure numpy
and belongs to the analysis core; extraction needs OpenCV and MediaPipe, so
it is imported only when asked for.
"""

from formcheck.pose.track import LANDMARK_NAMES, PoseTrack

__all__ = ["LANDMARK_NAMES", "PoseTrack", "PoseSettings", "extract_track"]


def __getattr__(name: str):
    if name in ("PoseSettings", "extract_track"):
        from formcheck.pose import extract

        return getattr(extract, name)
    raise AttributeError(f"module 'formcheck.pose' has no attribute {name!r}")
