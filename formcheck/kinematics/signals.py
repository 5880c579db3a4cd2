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

Frontal-plane signals (front and back views) read both legs. MediaPipe's
left/right labels flip easily when the lifter faces the camera, so each leg
is taken by where it is in the image (the point further right is the
image-right leg's) and named by the lifter's side from the facing:
  knee_spread      knee separation over ankle separation
  knee_width_*     one knee's distance from the midline between the ankles
                   over its ankle's distance (1 = knee straight over the
                   foot, smaller = the knee has moved in towards the midline)
  pelvis_shift     hip midpoint beside the ankle midpoint in hip widths,
                   positive towards the lifter's left
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from formcheck.kinematics.clean import JOINTS, CleanTrack
from formcheck.kinematics.filters import seen_length
from formcheck.kinematics.view import View
from formcheck.pose.track import LM

# What each per-frame signal is, as the plots and the per-frame export label it.
SIGNAL_LABELS = {
    "trunk": "chest lean (°)", "shin": "shin tilt (°)", "thigh": "thigh angle (°)",
    "knee_flexion": "knee bend (°)", "hip_flexion": "hip bend (°)",
    "hip_height": "hip height (× leg)", "hip_above_knee": "hip above knee (× thigh)",
    "knee_travel": "knee ahead of ankle (× shin)", "heel_height": "heel height (× foot)",
    "heel_rise": "heel rise (× foot)", "foot_tilt": "foot tilt, heel over toe (°)",
    "knee_bend": "knee bend (°)", "knee_spread": "knee gap over ankle gap (× standing)",
    "knee_width_left": "left knee width (× its ankle's)", "knee_width_right": "right knee width (× its ankle's)",
    "pelvis_shift": "pelvis shift to the left (× hip width)",
}
# The same signals' units as data files name them (column names of --frames-csv).
SIGNAL_UNITS = {
    "trunk": "deg", "shin": "deg", "thigh": "deg", "knee_flexion": "deg", "hip_flexion": "deg",
    "hip_height": "leg_lengths", "hip_above_knee": "thigh_lengths", "knee_travel": "shin_lengths",
    "heel_height": "foot_lengths", "heel_rise": "foot_lengths", "foot_tilt": "deg", "knee_bend": "deg",
    "knee_spread": "ratio", "knee_width_left": "ratio", "knee_width_right": "ratio",
    "pelvis_shift": "hip_widths",
}
LEG_SIDES = ("left", "right")
NARROW_STANCE = 0.2  # hip widths: an ankle closer than this to the midline gives no usable knee-width ratio


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
    hip_height: np.ndarray  # hip above ankle, in leg lengths
    hip_above_knee: np.ndarray  # hip above knee, in thigh lengths (0 = joint centres level)
    knee_travel: np.ndarray  # knee ahead of ankle, in shin lengths
    heel_height: np.ndarray  # heel height in the image, in foot lengths (see metrics.heel_rise)
    foot_tilt: np.ndarray  # heel above toe as an angle, degrees (0 = foot level in the image)
    knee_bend: np.ndarray  # unsigned knee angle (180 - hip-knee-ankle), whatever the facing
    knee_bend_world: np.ndarray | None = None  # the same from the 3D world landmarks, both legs' mean
    points: dict = field(default_factory=dict)  # filtered pixel positions used, name -> (N, 2)
    # Frontal plane, both legs (see the module docstring); meaningful in front and back views only.
    knee_spread: np.ndarray | None = None
    knee_width_left: np.ndarray | None = None
    knee_width_right: np.ndarray | None = None
    pelvis_shift: np.ndarray | None = None
    legs: dict = field(default_factory=dict)  # "left"/"right" (the lifter's) -> joint -> (N, 2) pixels


def angle_from_vertical(vec: np.ndarray, forward: float) -> np.ndarray:
    """Angle of image vectors from image-up, positive towards `forward` (+1/-1 in x)."""
    return np.degrees(np.arctan2(forward * vec[:, 0], -vec[:, 1]))


def bend_angle(a: np.ndarray, joint: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Unsigned bend at `joint` (180 minus the angle a-joint-c), degrees; needs no facing."""
    u, v = a - joint, c - joint
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def world_knee_bend(world: np.ndarray) -> np.ndarray:
    """Both knees' mean bend from 3D world landmarks, (..., 33, 3) -> (...):
    no foreshortening, whatever the camera angle; NaN where neither leg is seen."""
    legs = [bend_angle(world[..., LM[f"{s}_hip"], :], world[..., LM[f"{s}_knee"], :], world[..., LM[f"{s}_ankle"], :])
            for s in ("left", "right")]
    with warnings.catch_warnings():  # frames without a person: NaN, said once by the evidence checks
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(legs, axis=0)


def _median_len(a: np.ndarray, b: np.ndarray, frames: np.ndarray) -> float:
    d = np.linalg.norm(a[frames] - b[frames], axis=1)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if len(d) else float("nan")


def legs_by_position(xy: np.ndarray, facing: str | None) -> dict[str, dict[str, np.ndarray]]:
    """Both legs' filtered points, each joint assigned to a leg by its place
    in the image rather than by MediaPipe's label, named by the lifter's
    side: facing the camera puts the lifter's left on the image's right."""
    camera = facing != "away"
    out: dict[str, dict[str, np.ndarray]] = {"left": {}, "right": {}}
    for name in JOINTS:
        a, b = xy[:, LM[f"left_{name}"]], xy[:, LM[f"right_{name}"]]
        with np.errstate(invalid="ignore"):
            a_right = np.where(np.isfinite(a[:, 0]) & np.isfinite(b[:, 0]), a[:, 0] > b[:, 0], camera)
        img_right = np.where(a_right[:, None], a, b)
        img_left = np.where(a_right[:, None], b, a)
        out["left"][name], out["right"][name] = (img_right, img_left) if camera else (img_left, img_right)
    return out


def _frontal(legs: dict, t: np.ndarray, facing: str | None) -> dict[str, np.ndarray]:
    L, R = legs["left"], legs["right"]
    hip_w = seen_length(L["hip"], R["hip"], t)
    mid_x = (L["ankle"][:, 0] + R["ankle"][:, 0]) / 2
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["knee_spread"] = np.abs(L["knee"][:, 0] - R["knee"][:, 0]) / np.abs(L["ankle"][:, 0] - R["ankle"][:, 0])
        for side, leg in legs.items():
            # The same expression for both legs: positive while the knee is on its own foot's side.
            reach = leg["ankle"][:, 0] - mid_x
            width = (leg["knee"][:, 0] - mid_x) / reach
            out[f"knee_width_{side}"] = np.where(np.abs(reach) >= NARROW_STANCE * hip_w, width, np.nan)
        toward_left = 1.0 if facing != "away" else -1.0  # facing the camera, the lifter's left is image right
        out["pelvis_shift"] = toward_left * ((L["hip"][:, 0] + R["hip"][:, 0]) / 2 - mid_x) / hip_w
    return out


def compute_signals(clean: CleanTrack, view: View | None = None) -> Signals:
    """Signals of a cleaned track, seen as `view` (default: the clip's view)."""
    track, xy = clean.track, clean.xy
    view = view or clean.view()
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

    raw_height = P["ankle"][:, 1] - P["hip"][:, 1]
    thigh_len = seen_length(P["hip"], P["knee"], track.t)
    shin_len = seen_length(P["knee"], P["ankle"], track.t)
    foot_len = _median_len(P["heel"], P["foot_index"], np.isfinite(foot[:, 0]))
    leg_len = thigh_len + shin_len
    with np.errstate(invalid="ignore", divide="ignore"):
        hip_height = raw_height / leg_len
        hip_above_knee = (P["knee"][:, 1] - P["hip"][:, 1]) / thigh_len
        knee_travel = forward * (P["knee"][:, 0] - P["ankle"][:, 0]) / shin_len
        # Heel height against the image, not against the toe: MediaPipe's toe
        # point drifts when the knee bends, the heel point much less.
        heel_height = -P["heel"][:, 1] / foot_len
    # Image y grows downwards, so a heel above the toe gives a positive toe-minus-heel y.
    foot_tilt = np.degrees(np.arctan2(foot[:, 1], np.abs(foot[:, 0])))

    knee_bend = bend_angle(P["hip"], P["knee"], P["ankle"])
    knee_bend_world = world_knee_bend(clean.world)
    # Frontal-plane values from both legs; only a front or back view gives them meaning.
    facing = view.facing if view.kind == "front" else None
    legs = legs_by_position(xy, facing)
    frontal = _frontal(legs, track.t, facing)

    return Signals(
        t=track.t, fps=track.fps, view=view, side=side, trunk=trunk, shin=shin, thigh=thigh,
        knee_flexion=shin + thigh, hip_flexion=trunk + thigh,
        hip_height=hip_height, hip_above_knee=hip_above_knee, knee_travel=knee_travel,
        heel_height=heel_height, foot_tilt=foot_tilt, knee_bend=knee_bend,
        knee_bend_world=knee_bend_world, points=P, legs=legs, **frontal,
    )
