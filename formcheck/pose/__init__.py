"""Pose layer: video -> PoseTrack, behind a small backend interface."""

from formcheck.pose.track import LANDMARK_NAMES, PoseTrack
from formcheck.pose.extract import PoseSettings, extract_track

__all__ = ["LANDMARK_NAMES", "PoseTrack", "PoseSettings", "extract_track"]
