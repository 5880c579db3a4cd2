"""BlazePose on LiteRT: the two models of pose_landmarker_full.task, run by
our own pipeline.

A frame goes through the person detector (224x224, letterboxed), whose
2254 anchor outputs are decoded into boxes with four keypoints and merged by
weighted non-maximum suppression. Each person's region of interest is a
square around the hip-centre keypoint, sized and turned by the vector to
the body-scale keypoint; the landmark model (256x256) reads that crop and
gives 39 landmarks (33 of the body, two that place the next region), their
visibility and presence, a pose flag, a segmentation mask, heatmaps that
refine the landmarks, and world landmarks in metres. The numbers (anchors,
scales, thresholds) are those of MediaPipe's pose graphs.

With the detector on every frame (the default) a frame's people depend on
that frame alone: no hidden state, so a clip read in chunks on several cores
gives the same track as one read whole. `detect_every=k` runs the detector
on every k-th frame and follows each person from their own landmarks in
between (re-detecting as soon as someone is lost), which is cheaper but
makes a frame depend on the ones before it.

A crowded clip (pose.run decides per clip how far) is searched further on
every frame: the detector, made for one main person, often gives only the
most prominent of several, and in a wide frame letterboxed whole into its
square a person among others is small. So once the people found are read,
the frame is searched again with them painted over (SEARCH_AGAIN), and a
wide frame also square by square (SEARCH_SQUARES), until nobody new turns
up or max_people are found.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.model import resolve_model
from formcheck.media.quiet import native_stderr_silenced
from formcheck.pose.person import Person, count_model
from formcheck.pose.track import HIPS

DETECTOR_FILE, LANDMARKS_FILE = "pose_detector.tflite", "pose_landmarks_detector.tflite"
DETECTOR_SIZE, LANDMARK_SIZE, HEATMAP_SIZE = 224, 256, 64
# SSD anchors of the detector: one feature map per stride, two anchors per
# cell (the aspect ratio 1 and its interpolated twin), all of unit size.
ANCHOR_STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2
MIN_DETECTION_SCORE = 0.5  # sigmoid of the class logit, clipped to +-100 first
NMS_IOU = 0.3  # boxes overlapping more than this are one person (weighted merge)
# Region of interest: hip centre (keypoint 0) to body-scale point (1), the
# body turned so that vector points up, the square grown by a quarter.
ROI_SCALE = 1.25
ROI_TARGET_ANGLE = math.pi / 2
POSE_FLAG_MIN = 0.5  # the landmark model's "a person is in this crop" score
HEATMAP_KERNEL = 7  # refinement window around each landmark, in heatmap cells
HEATMAP_MIN_CONFIDENCE = 0.5
N_BODY, AUX_CENTRE, AUX_SCALE = 33, 33, 34  # landmarks 33 and 34 place the next frame's region
# In a crowded clip each frame is searched again with the people found
# painted over (the box of their landmarks, grown by ERASE_GROW on each
# side, in grey); a detection centred in a painted box is not someone new.
# A frame wider than TILE_ASPECT times its height is searched in squares too.
ERASE_GROW, ERASE_GREY = 0.1, 127
TILE_ASPECT = 1.3
SEARCH_ONCE, SEARCH_AGAIN, SEARCH_SQUARES = 0, 1, 2  # how far a frame is searched for people
SAME_PERSON = 0.3  # two people whose hip centres lie closer than this share of their height are one
SAME_BOX_IOU = 0.5  # ...and two whose landmark boxes overlap this much


def tile_origins(width: int, height: int) -> list[int]:
    """Left edges of the squares (side: the frame's height) that cover a wide
    frame with overlap, so a person cut by one square's edge is whole in the next."""
    count = math.ceil(width / height) + 1
    return [round((width - height) * k / (count - 1)) for k in range(count)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def anchors() -> np.ndarray:
    """(2254, 2) anchor centres, normalised, in the detector's output order."""
    out = []
    layer = 0
    while layer < len(ANCHOR_STRIDES):
        stride = ANCHOR_STRIDES[layer]
        same = sum(1 for s in ANCHOR_STRIDES[layer:] if s == stride)  # consecutive layers share one map
        size = math.ceil(DETECTOR_SIZE / stride)
        ys, xs = np.mgrid[0:size, 0:size]
        centres = np.stack([(xs + 0.5) / size, (ys + 0.5) / size], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, same * ANCHORS_PER_LAYER, axis=1).reshape(-1, 2))
        layer += same
    return np.concatenate(out).astype(np.float32)


@dataclass(frozen=True)
class Region:
    """A square region of the frame in pixels, turned by `rotation` radians."""

    cx: float
    cy: float
    size: float
    rotation: float

    @classmethod
    def from_points(cls, centre: np.ndarray, scale_point: np.ndarray) -> "Region":
        dx, dy = scale_point - centre
        rotation = ROI_TARGET_ANGLE - math.atan2(-dy, dx)
        rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
        return cls(float(centre[0]), float(centre[1]), float(2 * math.hypot(dx, dy) * ROI_SCALE), rotation)

    def to_image(self, uv: np.ndarray) -> np.ndarray:
        """Points of the region (0..1 on both axes) -> frame pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        du, dv = (uv[..., 0] - 0.5) * self.size, (uv[..., 1] - 0.5) * self.size
        return np.stack([self.cx + du * c - dv * s, self.cy + du * s + dv * c], axis=-1)

    def crop_matrix(self, out: int) -> np.ndarray:
        """The affine map from crop pixels (out x out) to frame pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / out
        origin = self.to_image(np.array([0.0, 0.0]))
        return np.array([[k * c, -k * s, origin[0]], [k * s, k * c, origin[1]]], dtype=np.float64)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Boxes as (xmin, ymin, xmax, ymax)."""
    x0, y0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x1, y1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray,
                 scores: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(score, keypoints, box) per person: each group of boxes overlapping
    the best remaining one is merged, its keypoints averaged by score."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    people = []
    left = np.arange(len(scores))
    while len(left):
        best = left[0]
        group = left[_iou(boxes[best], boxes[left]) > NMS_IOU]
        group = group if len(group) else np.array([best])
        w = scores[group] / scores[group].sum()
        people.append((float(scores[best]), np.tensordot(w, keypoints[group], axes=1), boxes[best]))
        left = np.setdiff1d(left, group, assume_unique=True)
    return people


def _interpreter(model: Path, name: str, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    try:
        with zipfile.ZipFile(model) as bundle:
            content = bundle.read(name)
        with native_stderr_silenced():  # the runtime announces its CPU delegate on stderr
            interpreter = Interpreter(model_content=content, num_threads=threads)
            interpreter.allocate_tensors()
    except (zipfile.BadZipFile, KeyError, ValueError, RuntimeError) as exc:
        raise FormcheckError(f"cannot load pose model {model}: {name}: {exc}") from None
    return interpreter


class LiteRTBackend:
    """The pose backend formcheck runs by default (see the module's notes)."""

    def __init__(self, model: str | Path | None = None, max_people: int = 2, masks: bool = False,
                 detect_every: int = 1, threads: int = 1):
        self.model_path = resolve_model(model)
        self.max_people, self.masks, self.detect_every = max_people, masks, max(1, detect_every)
        self._detector = _interpreter(self.model_path, DETECTOR_FILE, threads)
        self._landmarks = _interpreter(self.model_path, LANDMARKS_FILE, threads)
        self._det_in = self._detector.get_input_details()[0]["index"]
        det_out = sorted(self._detector.get_output_details(), key=lambda d: d["shape"][-1])
        self._det_scores, self._det_boxes = det_out[0]["index"], det_out[1]["index"]
        self._lm_in = self._landmarks.get_input_details()[0]["index"]
        by_size = {int(np.prod(d["shape"])): d["index"] for d in self._landmarks.get_output_details()}
        self._lm = {"landmarks": by_size[39 * 5], "flag": by_size[1], "mask": by_size[LANDMARK_SIZE ** 2],
                    "heatmap": by_size[HEATMAP_SIZE ** 2 * 39], "world": by_size[39 * 3]}
        self._anchors = anchors()
        self.search = SEARCH_ONCE  # how far each frame is searched for people (set per clip by pose.run)
        self.found_by_level = [0] * (SEARCH_SQUARES + 1)  # the last frame's people, as each level would find them
        self._tracked: list[Region] = []  # regions carried to the next frame (detect_every > 1)
        self._since_detection = 0
        self.calls = 0
        count_model()

    # -- detector
    def _raw_detections(self, rgb: np.ndarray, x0: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The detector's boxes (xmin, ymin, xmax, ymax) and keypoints in the
        pixels of the frame `rgb` was cut from at column x0, and their scores,
        before suppression."""
        h, w = rgb.shape[:2]
        scale = DETECTOR_SIZE / max(w, h)
        pad_x, pad_y = (DETECTOR_SIZE - w * scale) / 2, (DETECTOR_SIZE - h * scale) / 2
        m = np.array([[scale, 0, pad_x], [0, scale, pad_y]])
        box = cv2.warpAffine(rgb, m, (DETECTOR_SIZE, DETECTOR_SIZE), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = box.astype(np.float32) * (2.0 / 255.0) - 1.0
        self._detector.set_tensor(self._det_in, x[None])
        self._detector.invoke()
        raw = self._detector.get_tensor(self._det_boxes)[0]
        scores = _sigmoid(np.clip(self._detector.get_tensor(self._det_scores)[0, :, 0], -100.0, 100.0))
        keep = np.flatnonzero(scores >= MIN_DETECTION_SCORE)
        raw, scores, a = raw[keep], scores[keep], self._anchors[keep]
        centre = raw[:, 0:2] / DETECTOR_SIZE + a
        half = raw[:, 2:4] / DETECTOR_SIZE / 2
        # Letterboxed detector square -> frame pixels.
        shift, pad = np.array([x0, 0.0]), np.array([pad_x, pad_y])
        corners = np.concatenate([centre - half, centre + half], axis=1).reshape(-1, 2, 2)
        boxes = ((corners * DETECTOR_SIZE - pad) / scale + shift).reshape(-1, 4)
        keypoints = ((raw[:, 4:12].reshape(-1, 4, 2) / DETECTOR_SIZE + a[:, None, :]) * DETECTOR_SIZE - pad) / scale
        return boxes, keypoints + shift, scores

    def detect_people(self, rgb: np.ndarray) -> list[tuple[float, Region]]:
        """(score, region) of each person the detector finds, best first."""
        found = weighted_nms(*self._raw_detections(rgb))
        return [(score, Region.from_points(kps[0], kps[1])) for score, kps, _ in found[:self.max_people]]

    def _search_more(self, rgb: np.ndarray, people: list[Person], follow: list) -> None:
        """More people in a crowded clip's frame, added to `people` (see the
        module's notes): the frame, and with SEARCH_SQUARES in a wide frame
        each square of its height, searched again with everyone found so far
        painted over."""
        h, w = rgb.shape[:2]
        squares = self.search >= SEARCH_SQUARES and w > TILE_ASPECT * h
        columns = [(0, w)] + ([(x, x + h) for x in tile_origins(w, h)] if squares else [])
        for k, (left, right) in enumerate(columns):
            while people and len(people) < self.max_people:
                view = rgb[:, left:right].copy()
                bodies = [_body_box(p, w, h) for p in people]
                for x0, y0, x1, y1 in bodies:
                    view[max(y0, 0):max(y1, 0), max(x0 - left, 0):max(x1 - left, 0)] = ERASE_GREY
                added = False
                for _, kps, _ in weighted_nms(*self._raw_detections(view, left)):
                    if any(x0 <= kps[0][0] <= x1 and y0 <= kps[0][1] <= y1 for x0, y0, x1, y1 in bodies):
                        continue  # the rest of someone already found
                    person, nxt = self.landmarks(rgb, Region.from_points(kps[0], kps[1]))
                    if person is not None and not any(_same_person(person, p, w, h) for p in people):
                        people.append(person)
                        follow.append(nxt)
                        added = True
                        break
                if not added:
                    break
            if k == 0:
                self.found_by_level[SEARCH_AGAIN] = len(people)
        self.found_by_level[SEARCH_SQUARES] = len(people)

    # -- landmarks
    def landmarks(self, rgb: np.ndarray, region: Region):
        """The person in `region`, or None when the landmark model sees nobody
        there; and the region for the next frame."""
        h, w = rgb.shape[:2]
        m = region.crop_matrix(LANDMARK_SIZE)
        crop = cv2.warpAffine(rgb, m, (LANDMARK_SIZE, LANDMARK_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        self._landmarks.set_tensor(self._lm_in, (crop.astype(np.float32) / 255.0)[None])
        self._landmarks.invoke()
        get = self._landmarks.get_tensor
        if float(_sigmoid(get(self._lm["flag"]).reshape(-1)[0])) < POSE_FLAG_MIN:
            return None, None
        raw = get(self._lm["landmarks"]).reshape(39, 5)
        uv = raw[:, :2] / LANDMARK_SIZE
        uv = refine_with_heatmap(uv, get(self._lm["heatmap"])[0])
        xy = region.to_image(uv)
        z = raw[:, 2] / LANDMARK_SIZE * region.size / w
        image = np.column_stack([xy[:, 0] / w, xy[:, 1] / h, z]).astype(np.float32)
        c, s = math.cos(region.rotation), math.sin(region.rotation)
        wr = get(self._lm["world"]).reshape(39, 3)
        world = np.column_stack([c * wr[:, 0] - s * wr[:, 1], s * wr[:, 0] + c * wr[:, 1], wr[:, 2]])
        mask = None
        if self.masks:
            logits = get(self._lm["mask"])[0, :, :, 0]
            mask = cv2.warpAffine(_sigmoid(logits).astype(np.float32), cv2.invertAffineTransform(m), (w, h),
                                  flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        person = Person(image=image[:N_BODY], visibility=_sigmoid(raw[:N_BODY, 3]).astype(np.float32),
                              presence=_sigmoid(raw[:N_BODY, 4]).astype(np.float32),
                              world=world[:N_BODY].astype(np.float32), mask=mask)
        follow = Region.from_points(xy[AUX_CENTRE], xy[AUX_SCALE])
        return person, follow

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> list:
        """Every person in the frame (at most max_people), best first."""
        self.calls += 1
        if self._tracked and self._since_detection + 1 < self.detect_every:
            regions = self._tracked
            self._since_detection += 1
        else:
            regions = [r for _, r in self.detect_people(rgb)]
            self._since_detection = 0
        h, w = rgb.shape[:2]
        people, follow = [], []
        for region in regions:
            person, nxt = self.landmarks(rgb, region)
            if person is not None and not any(_same_person(person, p, w, h) for p in people):
                people.append(person)
                follow.append(nxt)
        lost = len(people) < len(regions)
        if self.search > SEARCH_ONCE and self._since_detection == 0:
            self.found_by_level = [len(people)] * (SEARCH_SQUARES + 1)
            self._search_more(rgb, people, follow)
        self._tracked = [] if lost else follow  # someone lost: the detector looks again next frame
        return people

    def next_clip(self) -> None:
        self._tracked, self._since_detection = [], 0

    def close(self) -> None:
        self._detector = self._landmarks = None

    def __enter__(self) -> "LiteRTBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _body_box(p: Person, width: int, height: int) -> tuple[int, int, int, int]:
    """The box of a person's landmarks in frame pixels, grown by ERASE_GROW on each side."""
    x, y = p.image[:, 0] * width, p.image[:, 1] * height
    gx, gy = np.ptp(x) * ERASE_GROW, np.ptp(y) * ERASE_GROW
    return (int(x.min() - gx), int(y.min() - gy), int(math.ceil(x.max() + gx)), int(math.ceil(y.max() + gy)))


def _same_person(a: Person, b: Person, width: int, height: int) -> bool:
    """Two detections the landmark model read as one body (the detector may
    box one person twice, and a second search may find the rest of them):
    hip centres close together, or boxes mostly one over the other."""
    scale = np.array([width, height])
    hips = [(p.image[HIPS, :2] * scale).mean(axis=0) for p in (a, b)]
    if float(np.linalg.norm(hips[0] - hips[1])) < SAME_PERSON * max(float(np.ptp(b.image[:, 1])) * height, 1.0):
        return True
    boxes = [np.array(_body_box(p, width, height), float) for p in (a, b)]
    return float(_iou(boxes[0], boxes[1][None])[0]) > SAME_BOX_IOU


def refine_with_heatmap(uv: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Each landmark moved to the confidence-weighted centre of the heatmap
    cells around it, where the heatmap is sure enough (MediaPipe's
    refinement: a 7-cell window, sigmoid confidences, at least 0.5)."""
    size, count = heatmap.shape[0], min(len(uv), heatmap.shape[-1])
    cols, rows = (uv[:count, 0] * size).astype(int), (uv[:count, 1] * size).astype(int)
    offsets = np.arange(HEATMAP_KERNEL) - HEATMAP_KERNEL // 2
    r, c = rows[:, None] + offsets, cols[:, None] + offsets  # (count, kernel) each
    inside = ((r >= 0) & (r < size))[:, :, None] & ((c >= 0) & (c < size))[:, None, :]
    k = np.arange(count)[:, None, None]
    conf = _sigmoid(heatmap[np.clip(r, 0, size - 1)[:, :, None], np.clip(c, 0, size - 1)[:, None, :], k]) * inside
    total = conf.sum(axis=(1, 2))
    centred = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    refine = centred & (conf.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    out = uv.copy()
    safe = np.where(total > 0, total, 1.0)
    out[:count, 0] = np.where(refine, (conf * c[:, None, :]).sum(axis=(1, 2)) / safe / size, uv[:count, 0])
    out[:count, 1] = np.where(refine, (conf * r[:, :, None]).sum(axis=(1, 2)) / safe / size, uv[:count, 1])
    return out
