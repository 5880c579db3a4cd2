"""One pose run: frames through a backend into a PoseTrack, in this process.

The settings that change a track, the per-frame record of everyone found,
and the checks done while reading (truncation, upright); once the clip is
whole, pose.people numbers the people and picks the lifter."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

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
from formcheck.pose.people import follow
from formcheck.pose.person import Person
from formcheck.pose.track import N_LANDMARKS, Crowd, PoseTrack

MASK_SIZE = 160  # longest side of stored person masks, in pixels
# Marks a track whose reading was checked for truncation and orientation.
READ_CHECKS = "read_checks"
# A stretch's meta: timestamps of the frames left out for not moving forward.
OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True)
class PoseSettings:
    """Everything that changes the pose track; part of the cache key."""

    backend: str = "litert"  # or "mediapipe" (the reference; the mediapipe extra)
    max_people: int = 4  # people read per frame: the lifter among a few others, so the choice sees them
    masks: bool = False
    full_rate: bool = False  # pose on every frame of a clip above 50 fps, not on a ~30 Hz subsample
    # LiteRT: the person detector every k-th frame, people followed from their
    # own landmarks in between. 1 (every frame) makes each frame's pose depend
    # on that frame alone, so chunked runs on several cores equal one run.
    detect_every: int = 1


def _small_mask(mask: np.ndarray | None, width: int, height: int) -> np.ndarray:
    """The person mask at MASK_SIZE on its longest side, 0-255; all zero when there is none."""
    scale = MASK_SIZE / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if mask is None:
        return np.zeros(size[::-1], dtype=np.uint8)
    return (cv2.resize(mask, size, interpolation=cv2.INTER_AREA) * 255).astype(np.uint8)


class TrackBuilder:
    """Collects everyone the backend finds, frame by frame, into a PoseTrack
    whose crowd holds them all (numbered and the lifter picked later, by
    pose.people.follow, once the whole clip is in). Used for files and for
    live sessions."""

    def __init__(self, width: int, height: int, masks: bool = False) -> None:
        self.width, self.height, self.masks = width, height, masks
        self.scale = np.array([width, height, width], dtype=np.float32)
        self.rows: dict[str, list] = {"t": [], "people": []}
        self._nan = (np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32),
                     np.full(N_LANDMARKS, np.nan, dtype=np.float32))

    def row(self, person: Person | None) -> tuple[np.ndarray, ...]:
        """A person's row: image in pixels, visibility, presence, world (NaN for nobody)."""
        if person is None:
            return self._nan[0], self._nan[1], self._nan[1], self._nan[0]
        return person.image * self.scale, person.visibility, person.presence, person.world

    def add(self, t: float, people: list[Person]) -> None:
        self.rows["t"].append(t)
        self.rows["people"].append([(*self.row(p), _small_mask(p.mask, self.width, self.height) if self.masks
                                     else None) for p in people])

    def first_found(self) -> tuple[np.ndarray, np.ndarray]:
        """The detector's first (most sure) person of each frame so far that has one: image rows and
        visibility. The lying-person check reads these, as it did when only one person was kept."""
        rows = [frame[0] for frame in self.rows["people"] if frame]
        return np.asarray([r[0] for r in rows]).reshape(-1, N_LANDMARKS, 3), np.asarray([r[1] for r in rows])

    def build(self, fps: float, source: str, meta: dict) -> PoseTrack:
        n, slots = len(self.rows["t"]), max((len(f) for f in self.rows["people"]), default=0)
        if n == 0:
            empty = PoseTrack.empty(0, fps, self.width, self.height, source)
            empty.meta.update(meta)
            return empty
        slots = max(slots, 1)
        nan3, nan1 = self._nan
        arrays = [np.empty((n, slots, *shape), np.float32) for shape in ((N_LANDMARKS, 3), (N_LANDMARKS,),
                                                                        (N_LANDMARKS,), (N_LANDMARKS, 3))]
        for a, blank in zip(arrays, (nan3, nan1, nan1, nan3)):
            a[:] = blank
        masks = np.zeros((n, slots, *_small_mask(None, self.width, self.height).shape), np.uint8) \
            if self.masks else None
        for i, frame in enumerate(self.rows["people"]):
            for k, person in enumerate(frame):
                for a, value in zip(arrays, person):
                    a[i, k] = value
                if masks is not None:
                    masks[i, k] = person[4]
        # The lifter's rows stay empty until the clip is whole and pose.people picks them.
        track = PoseTrack.empty(n, fps, self.width, self.height, source)
        track.t = np.asarray(self.rows["t"], dtype=np.float64)
        track.people = np.array([len(f) for f in self.rows["people"]], dtype=np.int8)
        track.meta.update(meta)
        track.crowd = Crowd(np.full((n, slots), -1, np.int16), *arrays, masks=masks)
        return track


class NotUpright(Exception):
    """The first frames with a person show them lying sideways or upside down."""


def _check_upright(builder: TrackBuilder) -> None:
    image, vis = builder.first_found()
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
                 stop=None, search: int = 0) -> PoseTrack | None:
    """The frames of [start_s, stop_s) (default: the whole clip) through the
    backend, decoded in a thread of their own so decoding overlaps
    inference; memory stays bounded by a few frames. The track carries no
    meta yet (see `finish_track`).

    With `check_upright`, the run stops (NotUpright) as soon as the first
    frames with a person show them lying in the picture, so a sideways clip
    costs a few frames of inference before it is turned, not a whole run.
    `progress(n)` hears of each frame; a set `stop` event ends the run early
    (None). The file's frame number of each row (counted from the seek
    point of a stretch that starts later) is in meta["source_frames"].
    `search`: how far each frame is searched for people (see `search_level`)."""
    if hasattr(backend, "search"):
        backend.search = search
    builder = TrackBuilder(source.width, source.height, masks=settings.masks)
    stride = sample_stride(source.fps, settings.full_rate)
    rows: list[int] = []
    seen = 0
    for frame in prefetched(source.frames(start_s, stop_s, stride), convert=_rgb):
        if stop is not None and stop.is_set():
            return None
        found = backend.detect(frame.bgr, round(frame.t * 1000))
        builder.add(frame.t, found)
        rows.append(frame.index)
        if progress is not None:
            progress(1)
        if check_upright and found:
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
    return follow(track)


def progress_bar(source: VideoSource, settings: PoseSettings, quiet: bool):
    from tqdm import tqdm

    total = source.frame_count // sample_stride(source.fps, settings.full_rate)
    return tqdm(total=total or None, unit="frame", desc=source.path.name, disable=not show_progress(quiet),
                delay=2.0, mininterval=0.5, file=sys.stderr, leave=False)


def run_pose(source: VideoSource, backend, settings: PoseSettings, quiet: bool = False,
             check_upright: bool = False, search: int = 0) -> PoseTrack:
    """The whole clip through one backend, in this process."""
    with progress_bar(source, settings, quiet) as bar:
        track = pose_stretch(source, backend, settings, check_upright=check_upright, progress=bar.update,
                             search=search)
    return finish_track(track, source, settings, source.decoded_s)


CROWD_PROBES = 8  # frames sampled over a clip to see whether the detector gives only some of its people
CROWD_PROBES_MORE = 2  # ...and on how many of them a further search must find someone more


def search_level(video: Path, settings: PoseSettings, model: Path) -> int:
    """How far the clip's frames are searched for people (pose.blazepose):
    once, as the detector gives them; again with the people found painted
    over, when that finds someone more on CROWD_PROBES_MORE of the frames
    sampled over the clip; and also square by square in a wide frame, when
    that finds someone more still. Decided once per clip, so every frame
    (and every chunk) is read the same way, and a clip searches only as far
    as finds people in it: one person costs the probes, not a slower run.
    LiteRT only."""
    from formcheck.pose.backend import backend_for
    from formcheck.pose.blazepose import SEARCH_AGAIN, SEARCH_ONCE, SEARCH_SQUARES

    if settings.backend != "litert" or settings.max_people < 2:
        return SEARCH_ONCE
    found = {SEARCH_ONCE: [], SEARCH_AGAIN: [], SEARCH_SQUARES: []}
    with backend_for(settings, model, masks=False) as backend:
        backend.search = SEARCH_SQUARES  # one search per frame, counting what each level would find
        for bgr in orientation.sample_frames(str(video), CROWD_PROBES):
            backend.detect(_rgb(bgr), 0)
            for level, count in enumerate(backend.found_by_level):
                found[level].append(count)
    level = SEARCH_ONCE
    for further in (SEARCH_AGAIN, SEARCH_SQUARES):
        if sum(b > a for a, b in zip(found[level], found[further])) >= CROWD_PROBES_MORE:
            level = further
    return level
