"""Which way the camera sees the lifter, and which side is nearer to it.

Three cues, from the landmarks the pose model gives:
- the world landmarks (metres, camera-aligned): the left-right axis of hips
  and shoulders lies across the image in a front view and along the depth
  axis in a side view, so its angle in the x-z plane estimates the camera's
  yaw relative to the body;
- the image: shoulder and hip widths shrink relative to torso length as the
  view turns from front to side (each against its length in the world
  landmarks, which do not depend on the view);
- the image: the near foot, which points the way the lifter faces, looks
  longer across the picture the more side-on the camera is, against the
  shin, which stands upright and keeps its length at any yaw.
The first two read the far shoulder and hip, which the model tends to tuck
behind the near ones when it is unsure, so on real oblique clips both lean
towards side-on; the foot needs only the near side. The estimate is the
median of the three, and the camera's yaw is only known to lie between the
lowest of them (less each cue's own error) and side-on: the sagittal
measures are judged over that whole range (see metrics).
Per-frame estimates are noisy, so a view is decided from the median over
many frames: the whole clip, and each rep on its own (a camera or lifter
that turns between reps), with a confidence from how many frames agree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from formcheck.kinematics.filters import seen_length
from formcheck.pose.track import LM

SIDE_MIN_DEG = 60.0  # yaw from the frontal plane above which the view counts as side-on
FRONT_MAX_DEG = 30.0  # below this the view counts as front or back
# The near foot's extent across the picture over the standing shin's length,
# as the pose model places heel and toe points, when the camera is side-on:
# 0.50-0.60 on the shared side-view clips (median 0.55); a foot turned out
# or a camera off the side shortens it by the sine of its yaw.
FOOT_SIDE_RATIO = 0.55
MIN_FOOT_VISIBILITY = 0.5  # a foot seen less clearly than this gives no cue
CUE_ERROR_DEG = 5.0  # each cue's own error, taken off the lowest cue


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
    yaw_range: tuple[float, float] = (float("nan"), float("nan"))  # where the yaw may lie, degrees

    @classmethod
    def unknown(cls) -> "View":
        return cls("unknown", None, None, 0.0, float("nan"))

    def to_dict(self) -> dict:
        lo, hi = self.yaw_range
        return {"kind": self.kind, "facing": self.facing, "near_side": self.near,
                "confidence": round(self.confidence, 2), "yaw_deg": round(self.yaw_deg, 1),
                "yaw_range_deg": [round(lo, 1), round(hi, 1)] if np.isfinite([lo, hi]).all() else None}


def world_yaw(world: np.ndarray) -> np.ndarray:
    """Per-frame yaw of the shoulder and hip axes in the world landmarks' x-z plane."""
    def axis_angle(a: int, b: int) -> np.ndarray:
        d = world[:, b] - world[:, a]
        return np.degrees(np.arctan2(np.abs(d[:, 2]), np.abs(d[:, 0])))

    return (axis_angle(LM["left_shoulder"], LM["right_shoulder"]) + axis_angle(LM["left_hip"], LM["right_hip"])) / 2


def width_yaw(image: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Per-frame yaw from the torso's width across the picture against its
    length, each over the same segment's length in the world landmarks (so a
    lifter's own build, as the model sees it, sets what frontal looks like)."""
    def seen_share(a: str, b: str, across: bool) -> np.ndarray:
        d = image[:, LM[b], :2] - image[:, LM[a], :2]
        full = np.linalg.norm(world[:, LM[b]] - world[:, LM[a]], axis=1)
        return (np.abs(d[:, 0]) if across else np.linalg.norm(d, axis=1)) / full

    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (seen_share("left_shoulder", "left_hip", False) + seen_share("right_shoulder", "right_hip", False)) / 2
        width = (seen_share("left_shoulder", "right_shoulder", True) + seen_share("left_hip", "right_hip", True)) / 2
        return np.degrees(np.arccos(np.clip(width / scale, 0.0, 1.0)))


def frame_cues(image: np.ndarray, world: np.ndarray, vis: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(N, 3) per-frame yaw from the frontal plane in degrees (0 front/back,
    90 side) by each cue: world axes, torso width, near foot."""
    with np.errstate(invalid="ignore"):
        return np.stack([world_yaw(world), width_yaw(image, world), frame_foot_yaw(image, vis, t)], axis=1)


def classify(yaw: float) -> ViewKind:
    if not np.isfinite(yaw):
        return "unknown"
    if yaw >= SIDE_MIN_DEG:
        return "side"
    if yaw <= FRONT_MAX_DEG:
        return "front"
    return "oblique"


def decide_view(image: np.ndarray, world: np.ndarray, vis: np.ndarray, t: np.ndarray,
                frames: np.ndarray | None = None, cues: np.ndarray | None = None) -> View:
    """View of the frames selected by `frames` (a boolean mask or indices);
    `cues` is frame_cues of the same arrays when it is already known."""
    with warnings.catch_warnings():  # sparse tracks give all-NaN statistics, handled as "unknown"
        warnings.simplefilter("ignore", RuntimeWarning)
        cues = frame_cues(image, world, vis, t) if cues is None else cues
        return _decide_view(image, world, vis, frames, cues)


def _decide_view(image: np.ndarray, world: np.ndarray, vis: np.ndarray, frames: np.ndarray | None,
                 all_cues: np.ndarray) -> View:
    sel = np.arange(len(image)) if frames is None else np.asarray(frames)
    img, wld, v = image[sel], world[sel], vis[sel]
    ok = np.isfinite(img[:, :, 0]).all(axis=1) if len(img) else np.zeros(0, bool)
    if ok.sum() == 0:
        return View.unknown()
    per_frame = all_cues[sel][ok]
    # The torso's two cues, averaged per frame, tell how many frames agree with the view.
    yaw = np.nanmean(per_frame[:, :2], axis=1)
    yaw = yaw[np.isfinite(yaw)]
    if len(yaw) == 0:
        return View.unknown()
    cues = [float(c) for c in np.nanmedian(per_frame, axis=0) if np.isfinite(c)]
    med = float(np.median(cues))
    # Every cue reads a side-on camera short of 90 degrees (noise only ever
    # widens the torso or shortens the foot in the picture), so side-on is
    # never ruled out: a correction can turn a finding into "can't tell", but
    # never make one the picture itself does not show.
    yaw_range = (max(0.0, min(cues) - CUE_ERROR_DEG), 90.0)
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
    return View(kind, facing, near, confidence, med, yaw_range)


def frame_foot_yaw(image: np.ndarray, vis: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-frame yaw from the frontal plane (degrees) read from the better-seen
    foot's extent across the picture against its shin's upright length
    (FOOT_SIDE_RATIO); NaN where that foot is not seen."""
    best, out = -1.0, np.full(len(image), np.nan)
    for side in ("left", "right"):
        foot = [LM[f"{side}_heel"], LM[f"{side}_foot_index"], LM[f"{side}_ankle"]]
        seen = float(np.nanmean(vis[:, foot])) if len(vis) else float("nan")
        if not seen > best:
            continue
        heel, toe = image[:, foot[0], :2], image[:, foot[1], :2]
        # The shin's longest picture nearby is its upright length, and follows zooms.
        shin = seen_length(image[:, LM[f"{side}_knee"], :2], image[:, foot[2], :2], t)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.abs(toe[:, 0] - heel[:, 0]) / shin
            ratio[~(vis[:, foot].min(axis=1) >= MIN_FOOT_VISIBILITY)] = np.nan
        best, out = seen, np.degrees(np.arcsin(np.clip(ratio / FOOT_SIDE_RATIO, 0.0, 1.0)))
    return out
