"""Which way the camera sees the lifter, and which side is nearer to it.

Two cues, both from the landmarks MediaPipe gives:
- the world landmarks (metres, camera-aligned): the left-right axis of hips
  and shoulders lies across the image in a front view and along the depth
  axis in a side view, so its angle in the x-z plane estimates the camera's
  yaw relative to the body;
- the image: shoulder and hip widths shrink relative to torso length as the
  view turns from front to side.
Per-frame estimates are noisy, so a view is decided from the median over
many frames: the whole clip, and each rep on its own (a camera or lifter
that turns between reps), with a confidence from how many frames agree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from formcheck.pose.track import LM

SIDE_MIN_DEG = 60.0  # yaw from the frontal plane above which the view counts as side-on
FRONT_MAX_DEG = 30.0  # below this the view counts as front or back


ViewKind = Literal["side", "front", "oblique", "unknown"]
SAGITTAL_VIEWS: tuple[ViewKind, ...] = ("side", "oblique")  # views in which sagittal angles mean something
ALL_VIEWS: tuple[ViewKind, ...] = ("side", "oblique", "front")  # views a rule may name
FRONTAL_VIEWS: tuple[ViewKind, ...] = ("front",)  # front or back: both legs side by side across the image


@dataclass
class View:
    kind: ViewKind
    facing: str | None  # left | right (side/oblique) or camera | away (front)
    near: str | None  # "left" or "right": the body side nearer the camera
    confidence: float
    yaw_deg: float  # 0 = facing the camera or away, 90 = side-on

    @classmethod
    def unknown(cls) -> "View":
        return cls("unknown", None, None, 0.0, float("nan"))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "facing": self.facing, "near_side": self.near,
                "confidence": round(self.confidence, 2), "yaw_deg": round(self.yaw_deg, 1)}


def frame_yaw(track_world: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Per-frame yaw from the frontal plane in degrees (0 front/back, 90 side)."""
    def axis_angle(a: int, b: int) -> np.ndarray:
        d = track_world[:, b] - track_world[:, a]
        return np.degrees(np.arctan2(np.abs(d[:, 2]), np.abs(d[:, 0])))

    world_yaw = (axis_angle(LM["left_shoulder"], LM["right_shoulder"])
                 + axis_angle(LM["left_hip"], LM["right_hip"])) / 2
    sh = image[:, [LM["left_shoulder"], LM["right_shoulder"]], :2]
    hp = image[:, [LM["left_hip"], LM["right_hip"]], :2]
    torso = np.linalg.norm(sh.mean(axis=1) - hp.mean(axis=1), axis=1)
    width = (np.abs(sh[:, 0, 0] - sh[:, 1, 0]) + np.abs(hp[:, 0, 0] - hp[:, 1, 0])) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        # A frontal torso is about 0.75 torso lengths wide (shoulders and hips averaged).
        image_yaw = np.degrees(np.arccos(np.clip(width / (0.75 * torso), 0.0, 1.0)))
    both = np.stack([world_yaw, image_yaw])
    count = np.isfinite(both).sum(axis=0)
    return np.where(count > 0, np.nansum(both, axis=0) / np.maximum(count, 1), np.nan)


def classify(yaw: float) -> ViewKind:
    if not np.isfinite(yaw):
        return "unknown"
    if yaw >= SIDE_MIN_DEG:
        return "side"
    if yaw <= FRONT_MAX_DEG:
        return "front"
    return "oblique"


def decide_view(image: np.ndarray, world: np.ndarray, vis: np.ndarray, frames: np.ndarray | None = None,
                yaw: np.ndarray | None = None) -> View:
    """View of the frames selected by `frames` (a boolean mask or indices);
    `yaw` is frame_yaw of the same arrays when it is already known."""
    with warnings.catch_warnings():  # sparse tracks give all-NaN statistics, handled as "unknown"
        warnings.simplefilter("ignore", RuntimeWarning)
        return _decide_view(image, world, vis, frames, yaw)


def _decide_view(image: np.ndarray, world: np.ndarray, vis: np.ndarray, frames: np.ndarray | None,
                 yaw: np.ndarray | None) -> View:
    sel = np.arange(len(image)) if frames is None else np.asarray(frames)
    img, wld, v = image[sel], world[sel], vis[sel]
    ok = np.isfinite(img[:, :, 0]).all(axis=1) if len(img) else np.zeros(0, bool)
    if ok.sum() == 0:
        return View.unknown()
    yaw = frame_yaw(wld[ok], img[ok]) if yaw is None else yaw[sel][ok]
    yaw = yaw[np.isfinite(yaw)]
    if len(yaw) == 0:
        return View.unknown()
    med = float(np.median(yaw))
    kind = classify(med)
    agree = float(np.mean([classify(y) == kind for y in yaw]))
    # Facing: toes point where the lifter faces; the nose is a second opinion.
    feet = img[ok][:, [LM["left_foot_index"], LM["right_foot_index"]], 0].mean(axis=1) - \
        img[ok][:, [LM["left_heel"], LM["right_heel"]], 0].mean(axis=1)
    nose = img[ok][:, LM["nose"], 0] - img[ok][:, [LM["left_ear"], LM["right_ear"]], 0].mean(axis=1)
    direction = np.sign(np.nanmedian(np.sign(feet) * 2 + np.sign(nose)))
    # Nearer side: smaller world depth and higher visibility of hip, knee and ankle.
    left = [LM["left_hip"], LM["left_knee"], LM["left_ankle"]]
    right = [LM["right_hip"], LM["right_knee"], LM["right_ankle"]]
    dz = np.nanmedian(wld[ok][:, right, 2].mean(axis=1) - wld[ok][:, left, 2].mean(axis=1))
    dv = np.nanmean(v[ok][:, left]) - np.nanmean(v[ok][:, right])
    votes = np.nan_to_num(np.sign(dz)) + np.nan_to_num(np.sign(dv))  # positive: the left side is nearer
    near = "left" if votes > 0 or (votes == 0 and dv >= 0) else "right"  # a tie goes to visibility
    if kind == "front":
        # Facing the camera puts the lifter's left shoulder on the image's right.
        lx = np.nanmedian(img[ok][:, LM["left_shoulder"], 0] - img[ok][:, LM["right_shoulder"], 0])
        facing = "camera" if lx > 0 else "away"
    else:
        facing = "right" if direction > 0 else "left"
    margin = min(abs(med - SIDE_MIN_DEG), abs(med - FRONT_MAX_DEG)) / 15.0
    confidence = float(np.clip(0.5 * agree + 0.5 * min(margin, 1.0), 0.0, 1.0))
    return View(kind, facing, near, confidence, med)
