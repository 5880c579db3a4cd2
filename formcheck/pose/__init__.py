"""Pose layer: video -> PoseTrack, behind a small backend interface.

`formcheck.pose.track` (the PoseTrack data and its .npz form) is pure numpy
and belongs to the analysis core; extraction needs OpenCV, PyAV and the pose runtime, so
it is imported only when asked for.
"""

from formcheck.pose.track import LANDMARK_NAMES, PoseTrack

__all__ = ["LANDMARK_NAMES", "PoseTrack", "PoseSettings", "extract_track"]


def __getattr__(name: str):
    if name == "PoseSettings":
        from formcheck.pose.run import PoseSettings

        return PoseSettings
    if name == "extract_track":
        from formcheck.pose.extract import extract_track

        return extract_track
    raise AttributeError(f"module 'formcheck.pose' has no attribute {name!r}")
