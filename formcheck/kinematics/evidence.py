"""Evidence quality: whether a per-rep metric rests on landmarks worth trusting.

Computed once per rep from the cleaned track, for every metric, over the
frames that metric judged. A metric fails when the joints it reads were
mostly hidden or outside the picture (or on its edge), when the skeleton
jumped (a bone changing length from one frame to the next: the tracker
slipped onto the thigh, a plate or a rack upright) or turned faster than a
body can (a trunk flipping direction), when the left and right legs were
confused, when the points shook far more than a body does, or when its
value is one no squat can produce. A failed metric makes every fault judged
on it "can't tell", with the reason, never a fault.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from formcheck.kinematics.clean import MIN_VISIBILITY, CleanTrack
from formcheck.kinematics.metrics import NEEDS_DESCENT, PLAUSIBLE, READS, Metric
from formcheck.kinematics.reps import Rep
from formcheck.kinematics.signals import Signals
from formcheck.pose.track import LM

SEEN_SHARE = 0.7  # the joints a metric reads must be seen (visible, inside the frame) in this share of its frames
GLITCH_SHARE = 0.1  # ...and the skeleton may jump in at most this share of them
SHAKY_SHARE = 0.25  # ...and shake in at most this share
SWAP_SHARE = 0.2  # left/right confusions tolerated inside the span
JUMP_RATIO = 1.35  # a bone longer or shorter than this factor against its neighbouring frames is a jump
JUMP_WINDOW_S = 0.2  # the neighbourhood a bone's length is compared with
TOO_LONG = 1.4  # a bone this much longer than its usual length in the clip is not a body's
TYPICAL_WINDOW_S = 6.0  # "usual" is the median over this long, so zooms and camera moves are followed
JITTER_LIMIT = 0.15  # raw points this far (thigh lengths) from the filtered path: shake, not movement
FRONT_FORESHORTENED = ("thigh", "foot")  # bones pointing at a front camera: no length check there
# A body segment turning faster than this is the tracker flipping it (a torso
# leaving the top of the picture reads +55 then -170 degrees in the next
# frame); a squatting trunk turns at 100-300 degrees a second at most.
FLIP_DEG_PER_S = 900.0
EDGE_SHARE = 0.01  # a joint this close to the picture's edge (share of its size) counts as out of frame
BONES = {"trunk": ("shoulder", "hip"), "thigh": ("hip", "knee"), "shin": ("knee", "ankle"),
         "foot": ("heel", "foot_index")}


@dataclass(frozen=True)
class ClipEvidence:
    """Per-frame facts about the tracking, worked out once per clip."""

    seen: dict[str, np.ndarray]  # joint -> frames where it is visible and inside the picture
    jumps: np.ndarray  # frames where a bone of the analysed side jumped in length
    flips: np.ndarray  # frames where a bone of the analysed side turned further than a body can
    shaky: np.ndarray  # frames where the raw points shake more than a body moves
    swapped: np.ndarray


def _joint_xy(clean: CleanTrack, joint: str, side: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Raw (swap-fixed, unsmoothed) pixels and visibility of a joint on the
    analysed side; both sides' worst case when there is no near side (front)."""
    sides = (side,) if side else ("left", "right")
    idx = [LM[f"{s}_{joint}"] for s in sides]
    return clean.image[:, idx, :2], clean.visibility[:, idx]


def clip_evidence(clean: CleanTrack, sig: Signals) -> ClipEvidence:
    tr = clean.track
    side = sig.side if sig.view.kind != "front" else None
    seen = {}
    for joint in {j for joints in READS.values() for j in joints}:
        xy, vis = _joint_xy(clean, joint, side)
        # On the edge is out: the model puts a joint it cannot see on the border of the picture.
        mx, my = EDGE_SHARE * tr.width, EDGE_SHARE * tr.height
        inside = (xy[..., 0] >= mx) & (xy[..., 0] <= tr.width - mx) & (xy[..., 1] >= my) & (xy[..., 1] <= tr.height - my)
        seen[joint] = ((vis >= MIN_VISIBILITY) & inside).all(axis=1)
    n = tr.frames
    half = max(1, int(round(JUMP_WINDOW_S * sig.fps / 2)))
    long_half = max(half, int(round(TYPICAL_WINDOW_S * sig.fps / 2)))
    jumps = np.zeros(n, bool)
    flips = np.zeros(n, bool)
    for bone, (a, b) in BONES.items():
        # Seen from the front the feet point at the camera and the thighs turn
        # towards it in every squat: their pictures shrink to a few pixels and grow
        # back, which no length rule can tell from a slip. The shins and trunk,
        # which stay in view, still catch a point that leaves the body.
        if bone in FRONT_FORESHORTENED and side is None:
            continue
        pa, _ = _joint_xy(clean, a, side)
        pb, _ = _joint_xy(clean, b, side)
        for k in range(pa.shape[1]):  # each side's bone on its own
            flips |= _turns_too_fast(pb[:, k] - pa[:, k], tr.t)
            length = np.linalg.norm(pa[:, k] - pb[:, k], axis=1)
            local = _rolling_median(length, half)
            typical = _rolling_median(length, long_half)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = length / local
                # A bone may look shorter than usual (turned towards the camera) but
                # never much longer: that is a joint stuck somewhere off the body.
                jumps |= (ratio > JUMP_RATIO) | (ratio < 1 / JUMP_RATIO) | (length > TOO_LONG * typical)
    thigh = np.nanmedian(np.linalg.norm(_joint_xy(clean, "hip", side)[0] - _joint_xy(clean, "knee", side)[0],
                                        axis=2)) if n else np.nan
    shaky = np.zeros(n, bool)
    if n and np.isfinite(thigh) and thigh > 0:
        # Raw points against the filtered ones: what the smoothing had to take out.
        names = [f"{s}_{j}" for s in ((side,) if side else ("left", "right"))
                 for j in ("shoulder", "hip", "knee", "ankle")]
        idx = [LM[name] for name in names]
        resid = np.linalg.norm(clean.image[:, idx, :2] - clean.xy[:, idx], axis=2)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            shaky = np.nanmedian(resid, axis=1) / thigh > JITTER_LIMIT
    return ClipEvidence(seen, jumps, flips, shaky, clean.swapped)


def _turns_too_fast(vec: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Frames where a segment's direction in the picture changed faster than
    FLIP_DEG_PER_S since the frame before (whatever its length says: a flip
    of a trunk's direction changes no bone length)."""
    out = np.zeros(len(vec), bool)
    if len(vec) < 2:
        return out
    angle = np.arctan2(vec[:, 0], -vec[:, 1])
    with np.errstate(invalid="ignore"):
        turn = np.abs(np.degrees(np.angle(np.exp(1j * np.diff(angle)))))  # wrapped to 0..180
        rate = turn / np.maximum(np.diff(t), 1e-6)
        out[1:] = rate > FLIP_DEG_PER_S
    return out


def _rolling_median(x: np.ndarray, half: int) -> np.ndarray:
    if len(x) == 0:
        return x
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, half, mode="edge"), 2 * half + 1)
    with warnings.catch_warnings():  # windows inside a dropout are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(windows, axis=1)


def doubt(name: str, metric: Metric, ev: ClipEvidence, rep: Rep) -> str:
    """Why `metric` of this rep cannot be trusted, or "" when it can."""
    if rep.partial:
        return "the clip cuts this rep off"
    if rep.joined and name in NEEDS_DESCENT:
        return "the clip starts partway down this rep, after the descent began"
    lo, hi = PLAUSIBLE.get(name, (-np.inf, np.inf))
    if metric.measurable and metric.value is not None and not lo <= metric.value <= hi:
        return f"{name.replace('_', ' ')} of {metric.value:.3g} {metric.unit} is not a human squat: a tracking failure"
    span = metric.span or (rep.start, rep.end)
    frames = np.arange(max(span[0], 0), min(span[1], len(ev.jumps) - 1) + 1)
    if len(frames) == 0:
        return ""
    for joint in READS.get(name, ()):
        if ev.seen[joint][frames].mean() < SEEN_SHARE:
            where = "feet" if joint in ("ankle", "heel", "foot_index") else joint.replace("_", " ")
            return f"the {where} {'are' if where == 'feet' else 'is'} hidden or out of frame here"
    if ev.jumps[frames].mean() > GLITCH_SHARE:
        return "the tracked skeleton jumps here (it slipped off the body)"
    if ev.flips[frames].mean() > GLITCH_SHARE:
        return "the tracked body turns further than a body can here (a tracking failure)"
    if ev.swapped[frames].mean() > SWAP_SHARE:
        return "the tracker confused the left and right legs here"
    if ev.shaky[frames].mean() > SHAKY_SHARE:
        return "the tracking is too shaky here"
    return ""


def with_doubts(metrics: dict[str, Metric], ev: ClipEvidence, rep: Rep) -> dict[str, Metric]:
    """The rep's metrics, each carrying the reason it cannot be trusted (if any)."""
    return {name: replace(m, doubt=doubt(name, m, ev, rep)) for name, m in metrics.items()}
