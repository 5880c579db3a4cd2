"""One pose run: frames through a backend into a PoseTrack, in this process.

The settings that change a track, the person kept from frame to frame, the
per-frame record, and the checks done while reading (truncation, upright)."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from formcheck.log import show_progress
from formcheck.media.video import (
    VideoSource,
    looks_truncated,
    prefetched,
    sample_stride,
)
from formcheck.pose import orientation
from formcheck.pose.person import Person
from formcheck.pose.track import HIPS, N_LANDMARKS, PoseTrack

MASK_SIZE = 160  # longest side of stored person masks, in pixels
# Marks a track whose reading was checked for truncation and orientation.
READ_CHECKS = "read_checks"
# A stretch's meta: timestamps of the frames left out for not moving forward.
OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True)
class PoseSettings:
    """Everything that changes the pose track; part of the cache key."""

    backend: str = "litert"  # or "mediapipe" (the reference; the mediapipe extra)
    max_people: int = 2  # people followed per frame: the lifter and one more, so a bystander is seen
    masks: bool = False
    full_rate: bool = False  # pose on every frame of a clip above 50 fps, not on a ~30 Hz subsample
    # LiteRT: the person detector every k-th frame, people followed from their
    # own landmarks in between. 1 (every frame) makes each frame's pose depend
    # on that frame alone, so chunked runs on several cores equal one run.
    detect_every: int = 1


class LifterPicker:
    """Follows one person through a clip when the backend reports several.

    The first choice is the most visible, largest person; after that the
    person nearest the last pick, so the lifter does not jump to a spotter.
    """

    def __init__(self) -> None:
        self.last_centre: np.ndarray | None = None

    @staticmethod
    def _centre(p: Person) -> np.ndarray:
        return p.image[HIPS, :2].mean(axis=0)

    @staticmethod
    def _prominence(p: Person) -> float:
        xy = p.image[:, :2]
        area = float(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1]))
        return area * float(p.visibility.mean())

    def pick(self, people: list[Person]) -> Person | None:
        if not people:
            return None
        if self.last_centre is None or len(people) == 1:
            best = max(people, key=self._prominence)
        else:
            best = min(people, key=lambda p: float(np.linalg.norm(self._centre(p) - self.last_centre)))
        self.last_centre = self._centre(best)
        return best


def _small_mask(mask: np.ndarray | None, width: int, height: int) -> np.ndarray:
    """The person mask at MASK_SIZE on its longest side, 0-255; all zero when there is none."""
    scale = MASK_SIZE / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if mask is None:
        return np.zeros(size[::-1], dtype=np.uint8)
    return (cv2.resize(mask, size, interpolation=cv2.INTER_AREA) * 255).astype(np.uint8)


class TrackBuilder:
    """Collects one lifter's landmarks frame by frame into a PoseTrack; frames
    without a person become NaN rows. Used for files and for live sessions."""

    def __init__(self, width: int, height: int, masks: bool = False) -> None:
        self.width, self.height, self.masks = width, height, masks
        self.scale = np.array([width, height, width], dtype=np.float32)
        self.rows: dict[str, list] = {k: [] for k in ("t", "image", "vis", "pres", "world", "people", "mask")}
        self._nan3 = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
        self._nan1 = np.full(N_LANDMARKS, np.nan, dtype=np.float32)

    def add(self, t: float, lifter: Person | None, people: int) -> tuple[np.ndarray, ...]:
        """Append a frame; returns its row (image in pixels, visibility, presence, world)."""
        if lifter is None:
            row = (self._nan3, self._nan1, self._nan1, self._nan3)
        else:
            row = (lifter.image * self.scale, lifter.visibility, lifter.presence, lifter.world)
        for key, value in zip(("t", "image", "vis", "pres", "world", "people"), (t, *row, people)):
            self.rows[key].append(value)
        if self.masks:
            mask = lifter.mask if lifter is not None and lifter.mask is not None else None
            self.rows["mask"].append(_small_mask(mask, self.width, self.height))
        return row

    def build(self, fps: float, source: str, meta: dict) -> PoseTrack:
        r = self.rows
        if not r["t"]:
            empty = PoseTrack.empty(0, fps, self.width, self.height, source)
            empty.meta.update(meta)
            return empty
        return PoseTrack(
            t=np.asarray(r["t"], dtype=np.float64), image=np.asarray(r["image"], dtype=np.float32),
            visibility=np.asarray(r["vis"], dtype=np.float32), presence=np.asarray(r["pres"], dtype=np.float32),
            world=np.asarray(r["world"], dtype=np.float32), fps=fps, width=self.width, height=self.height,
            source=source, people=np.asarray(r["people"], dtype=np.int8),
            masks=np.asarray(r["mask"], dtype=np.uint8) if self.masks else None, meta=meta,
        )


class NotUpright(Exception):
    """The first frames with a person show them lying sideways or upside down."""


def _check_upright(builder: TrackBuilder) -> None:
    image = np.asarray(builder.rows["image"])
    vis = np.asarray(builder.rows["vis"])
    share, judged = orientation.not_upright_share(image, vis)
    if judged and share >= orientation.LYING_SHARE:
        raise NotUpright


# Frames larger than this on their longest side are shrunk before inference.
# The model looks at the person through a 256-pixel crop either way, while a
# 4K frame held in the decode queue and in the backend's copies in every worker
# would take the memory a second worker needs. Landmarks are relative to the
# frame, so the track keeps the file's own pixel scale.
INFER_MAX_SIDE = 1920


def _rgb(bgr: np.ndarray) -> np.ndarray:
    h, w = bgr.shape[:2]
    if max(h, w) > INFER_MAX_SIDE:
        scale = INFER_MAX_SIDE / max(h, w)
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def pose_stretch(source: VideoSource, backend, settings: PoseSettings, start_s: float | None = None,
                 stop_s: float | None = None, check_upright: bool = False, progress=None,
                 stop=None) -> PoseTrack | None:
    """The frames of [start_s, stop_s) (default: the whole clip) through the
    backend, decoded in a thread of their own so decoding overlaps
    inference; memory stays bounded by a few frames. The track carries no
    meta yet (see `finish_track`).

    With `check_upright`, the run stops (NotUpright) as soon as the first
    frames with a person show them lying in the picture, so a sideways clip
    costs a few frames of inference before it is turned, not a whole run.
    `progress(n)` hears of each frame; a set `stop` event ends the run early
    (None). The file's frame number of each row (counted from the seek
    point of a stretch that starts later) is in meta["source_frames"]."""
    picker = LifterPicker()
    builder = TrackBuilder(source.width, source.height, masks=settings.masks)
    stride = sample_stride(source.fps, settings.full_rate)
    rows: list[int] = []
    seen = 0
    for frame in prefetched(source.frames(start_s, stop_s, stride), convert=_rgb):
        if stop is not None and stop.is_set():
            return None
        found = backend.detect(frame.bgr, round(frame.t * 1000))
        lifter = picker.pick(found)
        builder.add(frame.t, lifter, len(found))
        rows.append(frame.index)
        if progress is not None:
            progress(1)
        if check_upright and lifter is not None:
            seen += 1
            if seen == orientation.CHECK_FRAMES:
                _check_upright(builder)
                check_upright = False
    if check_upright and seen:  # a short clip: judge the frames there are
        _check_upright(builder)
    dropped = [t for t in source.out_of_order if (start_s is None or t >= start_s) and (stop_s is None or t < stop_s)]
    return builder.build(source.fps / stride, str(source.path), {"source_frames": rows, OUT_OF_ORDER: dropped})


def finish_track(track: PoseTrack, source: VideoSource, settings: PoseSettings,
                 decoded_s: float | None) -> PoseTrack:
    """What the reading found, in the track's meta: `decoded_s` is where
    the video ended (None when the end was not read). Which file frame each
    row shows is kept only when not every frame was read (the drawings need
    it then)."""
    rows = track.meta.pop("source_frames", None)
    meta = {"rotation": source.rotation, "settings": asdict(settings), READ_CHECKS: 1}
    dropped = track.meta.pop(OUT_OF_ORDER, [])
    if dropped:
        meta["out_of_order_frames"] = len(dropped)
    if sample_stride(source.fps, settings.full_rate) > 1:
        meta["source_frames"] = [int(i) for i in rows]
    if source.turn:
        meta["turn"] = source.turn
    cut = looks_truncated(decoded_s, source.stated_s)
    if cut is not None:
        meta["truncated"] = {"decoded_s": round(cut[0], 3), "stated_s": round(cut[1], 3)}
    track.meta.update(meta)
    return track


def progress_bar(source: VideoSource, settings: PoseSettings, quiet: bool):
    from tqdm import tqdm

    total = source.frame_count // sample_stride(source.fps, settings.full_rate)
    return tqdm(total=total or None, unit="frame", desc=source.path.name, disable=not show_progress(quiet),
                delay=2.0, mininterval=0.5, file=sys.stderr, leave=False)


def run_pose(source: VideoSource, backend, settings: PoseSettings, quiet: bool = False,
             check_upright: bool = False) -> PoseTrack:
    """The whole clip through one backend, in this process."""
    with progress_bar(source, settings, quiet) as bar:
        track = pose_stretch(source, backend, settings, check_upright=check_upright, progress=bar.update)
    return finish_track(track, source, settings, source.decoded_s)
