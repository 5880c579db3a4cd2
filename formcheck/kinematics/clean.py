"""The one cleaning stage: a raw PoseTrack in, a CleanTrack out.

It runs once per analysis, before anything is measured: left/right label
swaps are undone, points MediaPipe is guessing at are dropped, the joints the
signals read lose their outliers, get short gaps filled and are smoothed,
and each frame's camera yaw is worked out. Signals, the view decision and the
evidence-quality checks all read this, never the raw track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.kinematics.filters import clean_signal
from formcheck.kinematics.view import View, decide_view, frame_cues
from formcheck.pose.track import LM, SWAP_INDEX, PoseTrack

MIN_VISIBILITY = 0.3  # below this MediaPipe is guessing: treat the point as missing
JOINTS = ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")
USED_LANDMARKS = [LM[f"{side}_{joint}"] for side in ("left", "right") for joint in JOINTS]


@dataclass
class CleanTrack:
    track: PoseTrack  # what it was cleaned from
    image: np.ndarray  # (N, 33, 3) swap-fixed landmarks, otherwise as tracked
    world: np.ndarray  # (N, 33, 3) swap-fixed world landmarks
    visibility: np.ndarray  # (N, 33) swap-fixed
    xy: np.ndarray  # (N, 33, 2) visibility-gated pixels; the used joints also filtered
    swapped: np.ndarray  # (N,) frames whose left/right labels were exchanged
    yaw_cues: np.ndarray  # (N, 3) camera yaw from the frontal plane (0 front, 90 side) by each cue (kinematics.view)

    @property
    def t(self) -> np.ndarray:
        return self.track.t

    def view(self, frames: np.ndarray | None = None) -> View:
        """The camera view over `frames` (default: the whole clip), from the per-frame yaw."""
        return decide_view(self.image, self.world, self.visibility, self.t, frames, self.yaw_cues)


def fix_swaps(image: np.ndarray, world: np.ndarray, vis: np.ndarray):
    """Undo MediaPipe's left/right label swaps: when exchanging the two sides
    fits the previous frame clearly better than keeping them, exchange them."""
    image, world, vis = image.copy(), world.copy(), vis.copy()
    legs = [LM[n] for n in ("left_hip", "left_knee", "left_ankle", "left_heel", "left_foot_index",
                            "left_shoulder")]
    partners = SWAP_INDEX[legs]
    swapped = np.zeros(len(image), dtype=bool)
    prev = None
    for i in range(len(image)):
        cur = image[i, :, :2]
        if not np.isfinite(cur).all():
            continue
        if prev is not None:
            keep = np.linalg.norm(cur[legs] - prev[legs], axis=1) + np.linalg.norm(cur[partners] - prev[partners], axis=1)
            swap = np.linalg.norm(cur[partners] - prev[legs], axis=1) + np.linalg.norm(cur[legs] - prev[partners], axis=1)
            scale = np.linalg.norm(prev[LM["left_hip"]] - prev[LM["left_shoulder"]]) + 1e-6
            # Only a clear improvement counts: in side views both legs overlap
            # and tiny differences would flip labels back and forth.
            if keep.sum() - swap.sum() > 0.15 * scale * len(legs):
                image[i] = image[i, SWAP_INDEX]
                world[i] = world[i, SWAP_INDEX]
                vis[i] = vis[i, SWAP_INDEX]
                swapped[i] = True
        prev = image[i, :, :2]
    return image, world, vis, swapped


def clean_track(track: PoseTrack, smoother: str = "butterworth") -> CleanTrack:
    """`smoother` is a formcheck.kinematics.filters name: zero-phase for recorded video,
    causal (one_euro) where the future is not known yet."""
    image, world, vis, swapped = fix_swaps(track.image, track.world, track.visibility)
    xy = image[:, :, :2].astype(float)
    xy[~(vis >= MIN_VISIBILITY)] = np.nan
    for j in USED_LANDMARKS:  # only the points the signals read: cleaning is the costly part
        for c in range(2):
            xy[:, j, c] = clean_signal(xy[:, j, c], track.t, smoother)
    return CleanTrack(track, image, world, vis, xy, swapped, frame_cues(image, world, vis, track.t))
