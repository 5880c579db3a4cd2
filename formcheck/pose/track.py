"""PoseTrack: the per-frame landmarks of one lifter, with everyone else the
pose model followed (Crowd), and its .npz form."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.atomic import atomic_write
from formcheck.media.files import check_regular_file

# MediaPipe / BlazePose 33-landmark layout.
LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner",
    "right_eye", "right_eye_outer", "left_ear", "right_ear", "mouth_left",
    "mouth_right", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index",
    "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
LM = {name: i for i, name in enumerate(LANDMARK_NAMES)}
N_LANDMARKS = len(LANDMARK_NAMES)
# Landmark index -> its mirror partner (left <-> right; midline points map to themselves).
SWAP_INDEX = np.array([LM[n.replace("left_", "right_")] if n.startswith("left_") else
                       LM[n.replace("right_", "left_")] if n.startswith("right_") else LM[n]
                       for n in LANDMARK_NAMES])
# One side's bones as (joint, joint, body part); drawing and previews read them.
BONES = (("shoulder", "elbow", "arm"), ("elbow", "wrist", "arm"), ("shoulder", "hip", "trunk"),
         ("hip", "knee", "thigh"), ("knee", "ankle", "shin"), ("ankle", "heel", "foot"),
         ("heel", "foot_index", "foot"), ("ankle", "foot_index", "foot"))
HIPS = [LM["left_hip"], LM["right_hip"]]
TRACK_FORMAT = "formcheck.posetrack/1"


@dataclass
class Crowd:
    """Every person followed over a clip: slot k of frame i holds one
    person's landmarks and their identity ids[i, k] (-1: empty, or not yet
    numbered; pose.people numbers them and picks the lifter)."""

    ids: np.ndarray  # (N, P) int16
    image: np.ndarray  # (N, P, 33, 3) pixels, as PoseTrack.image
    visibility: np.ndarray  # (N, P, 33)
    presence: np.ndarray  # (N, P, 33)
    world: np.ndarray  # (N, P, 33, 3) metres
    masks: np.ndarray | None = None  # (N, P, h, w) uint8, when masks were asked for

    FIELDS = ("ids", "image", "visibility", "presence", "world", "masks")

    def of(self, pid: int) -> dict[str, np.ndarray]:
        """One person's rows, as PoseTrack holds them: NaN where they were not seen."""
        n = len(self.ids)
        frames, slots = np.nonzero(self.ids == pid)
        out = {"image": np.full((n, N_LANDMARKS, 3), np.nan, np.float32),
               "visibility": np.full((n, N_LANDMARKS), np.nan, np.float32),
               "presence": np.full((n, N_LANDMARKS), np.nan, np.float32),
               "world": np.full((n, N_LANDMARKS, 3), np.nan, np.float32)}
        for name, rows in out.items():
            rows[frames] = getattr(self, name)[frames, slots]
        if self.masks is not None:
            out["masks"] = np.zeros((n, *self.masks.shape[2:]), np.uint8)
            out["masks"][frames] = self.masks[frames, slots]
        return out


@dataclass
class PoseTrack:
    """Landmarks of one person over a clip.

    image: (N, 33, 3) x, y in pixels of the upright frame, z on the x scale.
    world: (N, 33, 3) metres, hip-centred (MediaPipe world landmarks).
    Frames without a person hold NaN rows, never dropped rows.
    """

    t: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    fps: float
    width: int
    height: int
    source: str = ""
    people: np.ndarray | None = None  # persons detected per frame
    masks: np.ndarray | None = None  # (N, h, w) uint8 person masks, optional
    meta: dict = field(default_factory=dict)  # how it was read; "people": whom it follows and why
    crowd: Crowd | None = None  # everyone followed, the lifter among them; None: one person only

    def __post_init__(self) -> None:
        if self.people is None:
            self.people = (~np.isnan(self.image[:, :, 0]).all(axis=1)).astype(np.int8)

    @property
    def frames(self) -> int:
        return len(self.t)

    @property
    def detected(self) -> np.ndarray:
        """Boolean per frame: was a person found."""
        return ~np.isnan(self.image[:, :, 0]).all(axis=1)

    @property
    def duration(self) -> float:
        return float(self.t[-1] - self.t[0] + 1.0 / self.fps) if self.frames else 0.0

    @property
    def shown_as(self) -> str:
        """What the reports call the video: the name its owner knows it by
        (meta["shown_as"], e.g. the file name a browser sent) or its path."""
        return self.meta.get("shown_as") or self.source

    @property
    def name(self) -> str:
        return Path(self.shown_as).name or "pose track"

    def reading_notes(self) -> list[tuple[str, str]]:
        """What the user must know about how the video was read, as (kind,
        text) with kind "warning" or "note". From meta, so a cached track or
        a saved .npz says it too."""
        notes = []
        cut = self.meta.get("truncated")
        if cut:
            notes.append(("warning", f"the video ends early at {cut['decoded_s']:.1f} s of "
                                     f"{cut['stated_s']:.1f} s: the file looks truncated"))
        dropped = self.meta.get("out_of_order_frames")
        if dropped:
            what = f"{dropped} frames" if dropped > 1 else "1 frame"
            notes.append(("note", f"{what} of the video had a timestamp out of order in the file and "
                                  f"{'were' if dropped > 1 else 'was'} left out"))
        turn = self.meta.get("turn")
        if turn:
            how = {90: "90 degrees clockwise", 180: "180 degrees", 270: "90 degrees counter-clockwise"}[turn]
            notes.append(("note", f"the lifter was lying sideways in the picture: the video was turned {how} "
                                  "for the analysis"))
        return notes

    @classmethod
    def empty(cls, n: int, fps: float, width: int, height: int, source: str = "") -> "PoseTrack":
        nan3 = np.full((n, N_LANDMARKS, 3), np.nan, dtype=np.float32)
        nan1 = np.full((n, N_LANDMARKS), np.nan, dtype=np.float32)
        return cls(
            t=np.arange(n) / fps, image=nan3, visibility=nan1, presence=nan1.copy(),
            world=nan3.copy(), fps=fps, width=width, height=height, source=source,
            people=np.zeros(n, dtype=np.int8),
        )

    def save(self, path: str | Path) -> None:
        """Write a compressed .npz atomically (temp file + rename)."""
        arrays = dict(
            t=self.t, image=self.image, visibility=self.visibility, presence=self.presence,
            world=self.world, people=self.people,
            info=np.array(json.dumps({
                "format": TRACK_FORMAT, "fps": self.fps, "width": self.width,
                "height": self.height, "source": self.source, "meta": self.meta,
            })),
        )
        if self.masks is not None:
            arrays["masks"] = self.masks
        if self.crowd is not None:
            arrays.update({f"crowd_{name}": getattr(self.crowd, name) for name in Crowd.FIELDS
                           if getattr(self.crowd, name) is not None})
        # Compressed in memory first: a full disk then fails one plain write,
        # not numpy's zip writer half-way (which also complains when collected).
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with atomic_write(path, "wb") as fh:
            fh.write(buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> "PoseTrack":
        path = Path(path)
        try:
            check_regular_file(path)
        except FormcheckError as exc:
            raise FormcheckError(str(exc).replace("no such file", "no such pose track")) from None
        try:
            with np.load(path, allow_pickle=False) as data:
                info = json.loads(str(data["info"]))
                if not isinstance(info, dict) or info.get("format") != TRACK_FORMAT:
                    raise ValueError("unknown format")
                _check_shapes(data, float(info["fps"]))
                return cls(
                    t=data["t"], image=data["image"], visibility=data["visibility"],
                    presence=data["presence"], world=data["world"], people=data["people"],
                    masks=data["masks"] if "masks" in data.files else None,
                    fps=float(info["fps"]), width=int(info["width"]), height=int(info["height"]),
                    source=info.get("source", ""), meta=info.get("meta", {}),
                    crowd=Crowd(**{name: data[f"crowd_{name}"] for name in Crowd.FIELDS
                                   if f"crowd_{name}" in data.files}) if "crowd_ids" in data.files else None,
                )
        except FileNotFoundError:
            raise FormcheckError(f"no such pose track: {path}") from None
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            # A cut-off or bit-flipped file fails in the zip layer or in zlib, not only in numpy.
            raise FormcheckError(f"not a formcheck pose track (damaged or another format): {path} "
                                 f"({type(exc).__name__}: {exc})") from None


def _check_shapes(data, fps: float) -> None:
    """A track from elsewhere must have the shapes the analysis indexes by."""
    n = len(data["t"])
    expected = {"t": (n,), "image": (n, N_LANDMARKS, 3), "world": (n, N_LANDMARKS, 3),
                "visibility": (n, N_LANDMARKS), "presence": (n, N_LANDMARKS), "people": (n,)}
    for name, shape in expected.items():
        if data[name].shape != shape:
            raise ValueError(f"{name} has shape {data[name].shape}, expected {shape}")
    if "crowd_ids" in data.files:
        slots = data["crowd_ids"].shape[1:]
        for name in ("image", "visibility", "presence", "world"):
            want = (n, *slots, *expected[name][1:])
            if data[f"crowd_{name}"].shape != want:
                raise ValueError(f"crowd_{name} has shape {data[f'crowd_{name}'].shape}, expected {want}")
        if len(data["crowd_ids"]) != n:
            raise ValueError(f"crowd_ids has {len(data['crowd_ids'])} rows, expected {n}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"frame rate {fps} is not a positive number")
