"""Is the lifter upright in the picture, and which quarter turn makes them so?

A phone clip whose pixels lie sideways (a wrong rotation tag, or none where
one was needed) would otherwise be analysed as a person lying down: every
angle off by 90 degrees, with nothing to say so. A squatting person keeps
the shoulders above the feet in every phase (at the bottom of a deep squat
the shoulders are over the mid-foot), so the feet -> shoulders direction
tells upright from sideways without knowing the phase.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.video import TURNS, VideoSource, turn_frame
from formcheck.pose.track import LM

UPRIGHT_MAX_DEG = 45.0  # feet -> shoulders within this of straight up counts as upright
CHECK_FRAMES = 15  # frames with a person looked at before the run decides to go on
LYING_SHARE = 0.8  # ...and the share of them not upright that stops it
PROBE_FRAMES = 5  # frames sampled over the clip to try each turn on
PROBE_MIN_SHARE = 0.5  # a turn is accepted when this share of the probe frames shows an upright person
VISIBLE = 0.5

_SHOULDERS = [LM["left_shoulder"], LM["right_shoulder"]]
_BASES = ([LM["left_ankle"], LM["right_ankle"]], [LM["left_knee"], LM["right_knee"]],
          [LM["left_hip"], LM["right_hip"]])


def tilt_deg(image: np.ndarray, visibility: np.ndarray) -> float:
    """Degrees between the feet -> shoulders direction and straight up in the
    picture (0 upright, 90 sideways, 180 upside down); NaN without a person.
    `image` is one frame's landmarks in pixels. When the feet are cropped
    the knees, then the hips stand in for them."""
    if not np.isfinite(image[_SHOULDERS, :2]).all():
        return float("nan")
    top = image[_SHOULDERS, :2].mean(axis=0)
    for base in _BASES:
        seen = [i for i in base if np.isfinite(image[i, :2]).all() and visibility[i] >= VISIBLE]
        if seen:
            dx, dy = top - image[seen, :2].mean(axis=0)
            if np.hypot(dx, dy) > 0:
                return float(np.degrees(np.arctan2(abs(dx), -dy)))  # image y grows downwards
    return float("nan")


def not_upright_share(image: np.ndarray, visibility: np.ndarray) -> tuple[float, int]:
    """Share of the frames with a person whose body is not upright, and how
    many frames had a person to judge."""
    tilts = np.array([tilt_deg(image[i], visibility[i]) for i in range(len(image))])
    judged = tilts[np.isfinite(tilts)]
    if len(judged) == 0:
        return 0.0, 0
    return float(np.mean(judged > UPRIGHT_MAX_DEG)), len(judged)


def sample_frames(path: str, n: int = PROBE_FRAMES) -> list[np.ndarray]:
    """A few frames spread over the clip, decoded as the file says (its
    rotation tag applied). Each is the first frame after a seek, which is
    all the probe needs."""
    frames = []
    try:
        with VideoSource(path) as source:
            for start in np.linspace(0.1, 0.9, n) * source.duration_s:
                frame = next(source.frames(start_s=float(start)), None)
                if frame is not None:
                    frames.append(frame.bgr)
    except FormcheckError:
        return []
    return frames


def upright_by_turn(frames: list[np.ndarray], backend) -> dict[int, float]:
    """For each quarter turn, the share of `frames` that show an upright
    person once turned. One empty frame between two probes drops the pose
    model's track, so each probe frame is judged on its own."""
    shares: dict[int, float] = {}
    clock = 0
    for turn in TURNS:
        upright = 0
        for bgr in frames:
            turned = turn_frame(bgr, turn)
            h, w = turned.shape[:2]
            backend.detect(np.zeros((64, 64, 3), np.uint8), clock)
            people = backend.detect(cv2.cvtColor(turned, cv2.COLOR_BGR2RGB), clock + 1)
            clock += 2
            if people:
                best = max(people, key=lambda p: float(p.visibility.mean()))
                px = best.image * np.array([w, h, w], dtype=np.float32)
                tilt = tilt_deg(px, best.visibility)
                upright += bool(np.isfinite(tilt) and tilt <= UPRIGHT_MAX_DEG)
        shares[turn] = upright / len(frames) if frames else 0.0
    return shares


def choose_turn(path: str, make_backend: Callable[[], object]) -> tuple[int | None, dict[int, float]]:
    """The quarter turn (clockwise degrees) that shows the lifter upright on
    most sampled frames, or None when no turn does."""
    frames = sample_frames(path)
    if not frames:
        return None, {}
    backend = make_backend()
    try:
        shares = upright_by_turn(frames, backend)
    finally:
        backend.close()
    # Ties go to the smaller turn, so an upright clip stays as it is.
    best = max(shares, key=lambda t: (shares[t], -t))
    return (best if shares[best] >= PROBE_MIN_SHARE else None), shares
