"""Clips with several people, put together from frames of the shared clips.

The lifter of every clip is ogata_good_0922_000003 (5 reps, no faults,
labeled), cut to the area around them. The others are a standing frame of
tommyhill_squat1 and of zhmai_test_video, or tommyhill_squat1 itself
squatting (3 reps). Every clip runs at 15 frames a second (every second
frame of the 30 fps sources), so the real model reads each in seconds.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from clips import write_clip

LIFTER, LIFTER_REPS = "ogata_good_0922_000003.mp4", 5
PARTNER, PARTNER_REPS = "tommyhill_squat1.mp4", 3  # squats beside the lifter in `side_by_side`
PANEL = (360, 640)  # width, height of each person's part of the picture
FPS = 15


def _frames(video: Path, every: int = 1, stop_s: float | None = None, columns=None, rows=None) -> list[np.ndarray]:
    import av

    out = []
    with av.open(str(video)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if stop_s is not None and frame.time >= stop_s:
                break
            if k % every:
                continue
            img = frame.to_ndarray(format="bgr24")
            if columns:
                img = img[:, columns[0]:columns[1]]
            if rows:
                img = img[rows[0]:rows[1]]
            out.append(np.ascontiguousarray(img))
    return out


def _fit(img: np.ndarray, size: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """The picture scaled into a panel of `size` (times `scale`), standing on its bottom edge,
    the rest filled with the colour of the picture's lowest rows."""
    w, h = size
    ih, iw = img.shape[:2]
    k = min(w / iw, h / ih) * scale
    small = cv2.resize(img, (max(2, round(iw * k)), max(2, round(ih * k))), interpolation=cv2.INTER_AREA)
    panel = np.empty((h, w, 3), np.uint8)
    panel[:] = np.median(img[-5:].reshape(-1, 3), axis=0)
    sh, sw = small.shape[:2]
    x = (w - sw) // 2
    panel[h - sh:, x:x + sw] = small
    return panel


def _lifter(videos: Path) -> list[np.ndarray]:
    return _frames(videos / LIFTER, every=2, columns=(200, 720), rows=(300, 1150))


def _standing(videos: Path) -> tuple[np.ndarray, np.ndarray]:
    """Two people standing still: the first frames of two clips."""
    return (_frames(videos / PARTNER, stop_s=0.1, columns=(220, 470))[0],
            _frames(videos / "zhmai_test_video.mp4", stop_s=0.1, columns=(260, 600))[0])


def small_lifter(videos: Path, out: Path) -> Path:
    """The lifter, smaller in the picture, between two people standing still."""
    left, right = (_fit(p, PANEL) for p in _standing(videos))
    return write_clip(out, [np.hstack([left, _fit(f, PANEL, 0.75), right]) for f in _lifter(videos)], fps=FPS)


WALK_START, WALK_FRAMES = 65, 22  # the walker crosses in front of the lifter from 4.3 s, for 1.5 s


def walker(videos: Path, out: Path) -> Path:
    """Someone walks across the picture in front of the lifter mid-set, hiding them for a moment."""
    person = _fit(_frames(videos / PARTNER, stop_s=0.1, columns=(300, 400))[0], (170, 600))
    width = PANEL[0]
    frames = []
    for i, f in enumerate(_lifter(videos)):
        f = _fit(f, PANEL)
        if WALK_START <= i < WALK_START + WALK_FRAMES:
            x = int(-170 + (width + 170) * (i - WALK_START) / WALK_FRAMES)
            x0, x1 = max(0, x), min(width, x + 170)
            if x1 > x0:
                f[PANEL[1] - 600:, x0:x1] = person[:, x0 - x:x1 - x]
        frames.append(f)
    return write_clip(out, frames, fps=FPS)


def side_by_side(videos: Path, out: Path) -> Path:
    """The lifter (left, 5 reps) and a partner (right, 3 reps) squatting at the same time."""
    lifter = _lifter(videos)
    partner = _frames(videos / PARTNER, every=2, stop_s=10.0, columns=(220, 470))
    n = min(len(lifter), len(partner))
    return write_clip(out, [np.hstack([_fit(lifter[i], PANEL), _fit(partner[i], PANEL)]) for i in range(n)], fps=FPS)
