"""Per-frame joint and segment signals from a cleaned pose track.

Everything is measured in the image plane in pixels (x and y share one
scale, so angles are true angles), with "forward" being the direction the
lifter faces and "up" against the image's y axis. Sagittal angles assume a
side-on camera; the view module says when that holds.

Angle conventions (degrees, 0 when standing tall):
  trunk  hip->shoulder from vertical, positive leaning forward
  shin   ankle->knee from vertical, positive with the knee ahead of the ankle
  thigh  hip->knee from straight down, 90 when the thigh is horizontal
  knee flexion = shin + thigh; hip flexion = trunk + thigh
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from formcheck.filters import clean_signal
from formcheck.pose.track import LM, PoseTrack
from formcheck.view import View, decide_view, fix_swaps

MIN_VISIBILITY = 0.3  # below this MediaPipe is guessing: treat the point as missing
JOINTS = ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")
USED_LANDMARKS = [LM[f"{side}_{joint}"] for side in ("left", "right") for joint in JOINTS]
LENGTH_WINDOW_S = 8.0  # segment lengths follow zooms and camera moves on this time scale


@dataclass
class Signals:
    t: np.ndarray
    fps: float
    view: View
    side: str  # landmarks used for sagittal angles: "left", "right"
    trunk: np.ndarray  # angles in degrees, conventions in the module docstring
    shin: np.ndarray
    thigh: np.ndarray
    knee_flexion: np.ndarray
    hip_flexion: np.ndarray
    dorsiflexion: np.ndarray  # shin angle from the foot's normal (ankle dorsiflexion proxy)
    hip_height: np.ndarray  # hip above ankle, in leg lengths
    hip_above_knee: np.ndarray  # hip above knee, in thigh lengths (0 = joint centres level)
    knee_travel: np.ndarray  # knee ahead of ankle, in shin lengths
    heel_height: np.ndarray  # heel height in the image, in foot lengths (see metrics.heel_rise)
    hip_back: np.ndarray  # hip behind the ankle, in leg lengths
    knee_bend: np.ndarray  # unsigned knee angle (180 - hip-knee-ankle), whatever the facing
    points: dict = field(default_factory=dict)  # filtered pixel positions used, name -> (N, 2)
    swapped: np.ndarray | None = None


def angle_from_vertical(vec: np.ndarray, forward: float) -> np.ndarray:
    """Angle of image vectors from image-up, positive towards `forward` (+1/-1 in x)."""
    return np.degrees(np.arctan2(forward * vec[:, 0], -vec[:, 1]))


def bend_angle(a: np.ndarray, joint: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Unsigned bend at `joint` (180 minus the angle a-joint-c), degrees; needs no facing."""
    u, v = a - joint, c - joint
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _median_len(a: np.ndarray, b: np.ndarray, frames: np.ndarray) -> float:
    d = np.linalg.norm(a[frames] - b[frames], axis=1)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if len(d) else float("nan")


def _rolling_len(a: np.ndarray, b: np.ndarray, t: np.ndarray, window_s: float = LENGTH_WINDOW_S) -> np.ndarray:
    """Segment length in pixels as the camera sees it around each frame: a high
    percentile over a few seconds, so it follows zooms and camera moves but
    not the foreshortening of a bent leg at the bottom of a rep."""
    d = np.linalg.norm(a - b, axis=1)
    n = len(d)
    if n == 0 or not np.isfinite(d).any():
        return np.full(n, np.nan)
    fps = (n - 1) / max(float(t[-1] - t[0]), 1e-6) if n > 1 else 1.0
    half = max(1, int(window_s * fps / 2))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(d, half, constant_values=np.nan), 2 * half + 1)
    with warnings.catch_warnings():  # windows inside a long dropout are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanpercentile(windows, 95, axis=1)
    # Where a whole window is missing, fall back to the clip's typical length.
    return np.where(np.isfinite(out), out, np.nanmedian(d))


def clean_points(track: PoseTrack, smoother: str = "butterworth") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Swap-fixed, visibility-gated pixel landmarks (N, 33, 2), with the joints
    the signals use also outlier-free, gap-filled and smoothed; plus the
    swap-fixed world landmarks and visibility."""
    image, world, vis, pres, swapped = fix_swaps(track.image, track.world, track.visibility, track.presence)
    xy = image[:, :, :2].astype(float)
    xy[~(vis >= MIN_VISIBILITY)] = np.nan
    out = xy.copy()
    for j in USED_LANDMARKS:  # only the points the signals read: cleaning is the costly part
        for c in range(2):
            out[:, j, c] = clean_signal(xy[:, j, c], track.t, smoother)
    return out, world, vis, swapped


def compute_signals(track: PoseTrack, smoother: str = "butterworth", view: View | None = None) -> Signals:
    xy, world, vis, swapped = clean_points(track, smoother)
    if view is None:
        view = decide_view(track.image, world, vis)
    forward = 1.0 if view.facing == "right" else -1.0
    side = view.near or "left"

    def pts(name: str) -> np.ndarray:
        if view.kind == "front":  # no near side: use the midpoint of both sides
            return (xy[:, LM[f"left_{name}"]] + xy[:, LM[f"right_{name}"]]) / 2
        return xy[:, LM[f"{side}_{name}"]]

    P = {name: pts(name) for name in JOINTS}
    trunk = angle_from_vertical(P["shoulder"] - P["hip"], forward)
    shin = angle_from_vertical(P["knee"] - P["ankle"], forward)
    thigh = angle_from_vertical(P["hip"] - P["knee"], -forward)  # hip behind knee = thigh pointing forward-down
    foot = P["foot_index"] - P["heel"]
    foot_pitch = np.degrees(np.arctan2(-foot[:, 1], forward * foot[:, 0]))  # toe above heel is positive
    dorsiflexion = shin + foot_pitch  # shin angle measured from the foot's normal

    raw_height = P["ankle"][:, 1] - P["hip"][:, 1]
    thigh_len = _rolling_len(P["hip"], P["knee"], track.t)
    shin_len = _rolling_len(P["knee"], P["ankle"], track.t)
    foot_len = _median_len(P["heel"], P["foot_index"], np.isfinite(foot[:, 0]))
    leg_len = thigh_len + shin_len
    with np.errstate(invalid="ignore", divide="ignore"):
        hip_height = raw_height / leg_len
        hip_above_knee = (P["knee"][:, 1] - P["hip"][:, 1]) / thigh_len
        knee_travel = forward * (P["knee"][:, 0] - P["ankle"][:, 0]) / shin_len
        hip_back = -forward * (P["hip"][:, 0] - P["ankle"][:, 0]) / leg_len
        # Heel height against the image, not against the toe: MediaPipe's toe
        # point drifts when the knee bends, the heel point much less.
        heel_height = -P["heel"][:, 1] / foot_len

    knee_bend = bend_angle(P["hip"], P["knee"], P["ankle"])

    return Signals(
        t=track.t, fps=track.fps, view=view, side=side, trunk=trunk, shin=shin, thigh=thigh,
        knee_flexion=shin + thigh, hip_flexion=trunk + thigh, dorsiflexion=dorsiflexion,
        hip_height=hip_height, hip_above_knee=hip_above_knee, knee_travel=knee_travel,
        heel_height=heel_height, hip_back=hip_back, knee_bend=knee_bend, points=P, swapped=swapped,
    )
