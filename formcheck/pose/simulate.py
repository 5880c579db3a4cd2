"""Synthetic squat pose tracks with known geometry (ground truth for tests and demos).

The lifter is a sagittal stick figure whose segment angles follow smooth
minimum-jerk profiles; it is posed in metres, turned to the camera and projected
orthographically into a PoseTrack in MediaPipe's 33-landmark layout.

Angles (degrees, all from vertical, in the lifter's sagittal plane):
  shin   ankle->knee leaning forward (knee travel past the toes is positive)
  thigh  knee->hip leaning backward (90 = thigh horizontal, >90 below parallel)
  trunk  hip->shoulder leaning forward
  knee_flexion = shin + thigh, hip_flexion = trunk + thigh.
Standing is shin 2, thigh 0, trunk 3, so standing knee_flexion is 2 and hip_flexion 3.

Frames.  Body frame: forward, up, lateral (+ = lifter's LEFT); metres, ground at
up=0, the ankles at forward=0.  Camera frame = MediaPipe world convention: x to
image right, y DOWN, z AWAY from the camera (smaller z = nearer, as MediaPipe's
"smaller is closer"), metres, origin at the hip midpoint.  Image landmarks are
pixels (x right, y down); image z is the camera z in pixels, hip-midpoint origin.

Facing convention (worked out with a right-handed camera frame): a person's
right = forward x up.  Facing image-left means forward = -x and up = -y, so
right = (-x) x (-y) = +z, i.e. away from the camera.  So a lifter facing
image-LEFT shows their LEFT side to the camera, facing image-RIGHT shows the
RIGHT side: the near side always has the name of the facing direction.  This is
what real MediaPipe reports (labels are from the person's own point of view, and
the near side gets the higher visibility and smaller z).

Frontal plane: with knee_valgus the knees (one or both) move in towards the
midline with the squat's depth, giving up that share of their standing
distance from it at the bottom; with hip_shift the hips and everything above
slide sideways by that many hip widths at the bottom (positive towards the
lifter's left), the knees by half as much.

Yaw: 0 = side view, 90 = lifter faces the camera ("front", left side on image
right), -90 = back to the camera ("back"), 45 = "oblique" (front-quarter).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.media.atomic import atomic_path
from formcheck.pose.track import (
    BONES,
    LANDMARK_NAMES,
    LM,
    N_LANDMARKS,
    SWAP_INDEX,
    PoseTrack,
)

STAND = dict(shin=2.0, thigh=0.0, trunk=3.0)
HINGE = dict(shin=0.0, thigh=12.0, trunk=80.0)  # nearly straight knees: flexion 12
VIEW_YAW = {"side": 0.0, "front": 90.0, "back": -90.0, "oblique": 45.0}
ARMS = ("front_rack", "forward", "hang")
BOUNCE_DEG = 5.0  # thigh angle given back and retaken in a bottom bounce
LOWER_LEG = ("knee", "ankle", "heel", "foot_index")  # joints the pelvis's sideways drift does not carry whole
SIDE = np.array([1 if n.startswith("left_") else -1 if n.startswith("right_") else 0
                 for n in LANDMARK_NAMES])  # +1 = lifter's left, 0 = midline


@dataclass
class SquatParams:
    """Everything that defines a synthetic clip; defaults = clean parallel side-view squat."""

    reps: int = 3
    fps: float = 30.0
    width: int = 720
    height: int = 1280
    lead_in_s: float = 1.0
    lead_out_s: float = 1.0
    descent_s: float = 1.2
    bottom_pause_s: float = 0.2
    ascent_s: float = 1.0
    ascent_slowdown: float = 0.0  # each rep's ascent takes this share longer than the one before (a tiring set)
    top_pause_s: float = 0.8
    thigh_bottom_deg: float = 95.0
    shin_bottom_deg: float = 35.0
    trunk_bottom_deg: float = 35.0
    ascent_lean_extra_deg: float = 0.0
    tuck_deg: float = 0.0
    hip_first_s: float = 0.0
    heel_lift: float = 0.0
    knee_valgus: float = 0.0  # share of the knee's standing distance from the midline given up at the bottom
    valgus_side: str = "both"  # which knee caves: both | left | right (the lifter's)
    hip_shift: float = 0.0  # sideways pelvis drift at the bottom, hip widths, positive towards the lifter's left
    view: str = "side"
    yaw_deg: float | None = None
    facing: str = "left"
    arms: str = "front_rack"
    noise_px: float = 0.0
    dropout_frac: float = 0.0
    swap_frac: float = 0.0
    seed: int = 0
    height_m: float = 1.75
    walk_in_s: float = 0.0
    hinge_pickup: bool = False
    partial_last: bool = False
    bounce: bool = False


PRESETS: dict[str, dict] = {
    "clean": {},
    "forward_lean": dict(trunk_bottom_deg=55.0, ascent_lean_extra_deg=12.0),
    "limited_ankle": dict(shin_bottom_deg=15.0, trunk_bottom_deg=55.0),
    "butt_wink": dict(tuck_deg=20.0, thigh_bottom_deg=110.0),
    "hip_first": dict(hip_first_s=0.35),
    "heel_lift": dict(heel_lift=0.45),
    "shallow": dict(thigh_bottom_deg=60.0),
    "front_view": dict(view="front"),
    "knee_cave": dict(view="front", knee_valgus=0.3),
    "side_shift": dict(view="front", hip_shift=0.45),
}


@dataclass
class Truth:
    """Ground truth of a simulated clip: per-frame angles (deg) and per-rep times (s)."""

    t: np.ndarray
    trunk: np.ndarray
    shin: np.ndarray
    thigh: np.ndarray
    knee_flexion: np.ndarray
    hip_flexion: np.ndarray
    hip_height: np.ndarray  # hip above ankle / (shank + thigh)
    shoulder_height: np.ndarray  # near shoulder above ankle, metres: where a back-squat bar rides
    heel_rise: np.ndarray  # heel height / foot length
    dropped: np.ndarray  # bool per frame: NaN row
    swapped: np.ndarray  # bool per frame: left/right labels exchanged
    rep_start_s: list = field(default_factory=list)  # = descent_start_s
    rep_bottom_s: list = field(default_factory=list)  # middle of the bottom pause
    rep_end_s: list = field(default_factory=list)  # ascent finished, standing
    descent_start_s: list = field(default_factory=list)  # hip-flexion onset
    knee_onset_s: list = field(default_factory=list)
    partial_rep: bool = False
    partial_start_s: float | None = None
    setup_end_s: float = 0.0  # walk-in / hinge pickup done
    facing: str = "left"
    view: str = "side"
    yaw_deg: float = 0.0
    near_side: str | None = "left"  # None when neither side is nearer (front/back)
    px_per_m: float = 0.0
    segments: dict = field(default_factory=dict)  # metres
    params: SquatParams | None = None

    def to_dict(self) -> dict:
        out = {}
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, SquatParams):
                v = asdict(v)
            out[k] = v
        return json.loads(json.dumps(out))  # proves it is JSON-friendly


def _ramp(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Minimum-jerk 0->1 between t0 and t1: zero velocity and acceleration at both ends."""
    if t1 <= t0:
        return (t >= t0).astype(float)
    u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return u ** 3 * (10 - 15 * u + 6 * u ** 2)


class _Plan:
    """Channels as sums of weighted ramps, so every channel is smooth by construction."""

    def __init__(self) -> None:
        self.terms: dict[str, list] = {}
        self.ev = {k: [] for k in ("rep_start_s", "rep_bottom_s", "rep_end_s",
                                   "descent_start_s", "knee_onset_s")}

    def add(self, ch: str, t0: float, t1: float, w: float = 1.0) -> None:
        self.terms.setdefault(ch, []).append((t0, t1, w))

    def __call__(self, ch: str, t: np.ndarray) -> np.ndarray:
        return sum((w * _ramp(t, a, b) for a, b, w in self.terms.get(ch, [])), np.zeros_like(t))


def _plan_rep(plan: _Plan, p: SquatParams, t0: float, partial: bool, ascent_s: float | None = None) -> float:
    """Schedule one rep starting (hip-flexion onset) at t0; return when it ends."""
    ascent_s = p.ascent_s if ascent_s is None else ascent_s
    knee_on = t0 + p.hip_first_s
    d_end = knee_on + p.descent_s
    # With a tuck, knee flexion must be finished before the pelvis tucks.
    main_end = d_end - (0.25 * p.descent_s if p.tuck_deg else 0.0)
    plan.add("ph", t0, main_end)
    plan.add("pk", knee_on, main_end)
    if p.hip_first_s:  # hip-first lead: the straight leg rotates back about the ankle
        plan.add("pb", t0, knee_on)
    if p.tuck_deg:
        plan.add("pt", main_end, d_end)
    if partial:
        return d_end
    pause = max(p.bottom_pause_s, 0.4) if p.bounce else p.bottom_pause_s
    a0, a1 = d_end + pause, d_end + pause + ascent_s
    if p.bounce:  # up and straight back down inside the pause
        plan.add("bounce", d_end, d_end + pause / 2)
        plan.add("bounce", d_end + pause / 2, a0, -1.0)
    for ch in ("ph", "pk") + (("pb",) if p.hip_first_s else ()):
        plan.add(ch, a0, a1, -1.0)
    plan.add("pt", a0, a0 + 0.25 * ascent_s, -1.0 if p.tuck_deg else 0.0)
    plan.add("pl", a0, a0 + 0.3 * ascent_s)
    plan.add("pl", a0 + 0.3 * ascent_s, a0 + 0.5 * ascent_s, -1.0)
    for k, v in zip(plan.ev, (t0, d_end + pause / 2, a1, t0, knee_on)):
        plan.ev[k].append(v)
    return a1


def _schedule(p: SquatParams) -> tuple[_Plan, float, float, float | None]:
    """Lay out setup, reps and pauses; returns plan, setup end, clip end, partial start."""
    plan = _Plan()
    plan.add("walk", 0.0, p.walk_in_s)
    now = p.walk_in_s
    if p.hinge_pickup:
        now += 0.3
        plan.add("hinge", now, now + 1.0)
        plan.add("hinge", now + 1.4, now + 2.4, -1.0)
        now += 3.0
    setup_end = now
    now += p.lead_in_s
    for i in range(p.reps):
        now = _plan_rep(plan, p, now, partial=False, ascent_s=p.ascent_s * (1 + p.ascent_slowdown) ** i)
        if i < p.reps - 1 or p.partial_last:
            now += p.top_pause_s
    if p.partial_last:  # stop halfway through one more descent
        partial_start = now
        end = _plan_rep(plan, p, now, partial=True)
        return plan, setup_end, now + 0.5 * (end - now), partial_start
    return plan, setup_end, now + p.lead_out_s, None


def _angles(p: SquatParams, plan: _Plan, t: np.ndarray) -> dict[str, np.ndarray]:
    S0, T0, R0 = STAND["shin"], STAND["thigh"], STAND["trunk"]
    bounce = plan("bounce", t) * BOUNCE_DEG / max(p.thigh_bottom_deg - T0, 1.0)
    pk, ph = plan("pk", t) - bounce, plan("ph", t) - bounce
    pb, g = plan("pb", t), plan("hinge", t)
    lean_back = S0 * pb * (1 - pk)  # shin -> vertical, thigh back: knee angle unchanged
    shin = S0 + (p.shin_bottom_deg - S0) * pk - lean_back + (HINGE["shin"] - S0) * g
    thigh = T0 + (p.thigh_bottom_deg - T0) * pk + lean_back + (HINGE["thigh"] - T0) * g
    hip_flex = (R0 + T0 + (p.trunk_bottom_deg + p.thigh_bottom_deg - R0 - T0) * ph
                + p.tuck_deg * plan("pt", t) + p.ascent_lean_extra_deg * plan("pl", t)
                + (HINGE["trunk"] + HINGE["thigh"] - R0 - T0) * g)
    return dict(shin=shin, thigh=thigh, trunk=hip_flex - thigh, knee_flexion=shin + thigh,
                hip_flexion=hip_flex, heel_rise=p.heel_lift * np.clip(pk, 0, 1), depth=np.clip(pk, 0, 1))


def _segments(h: float) -> dict[str, float]:
    """Winter's anthropometric proportions of standing height h (metres)."""
    return dict(shank=0.246 * h, thigh=0.245 * h, trunk=0.30 * h, foot=0.152 * h,
                ankle_h=0.039 * h, upper_arm=0.186 * h, forearm=0.146 * h,
                hip_w=0.19 * h, shoulder_w=0.26 * h)


def _rot(f, u, a):
    """Rotate (forward, up) vectors counter-clockwise (toward up) by a radians."""
    return f * np.cos(a) - u * np.sin(a), f * np.sin(a) + u * np.cos(a)


def _pose(p: SquatParams, ang: dict, seg: dict) -> np.ndarray:
    """Body-frame landmarks (N, 33, 3) as (forward, up, lateral-left) metres."""
    n = len(ang["shin"])
    out = np.zeros((n, N_LANDMARKS, 3))
    s, th, tr = (np.radians(ang[k]) for k in ("shin", "thigh", "trunk"))
    h, lf = p.height_m, seg["foot"]
    # Foot pivots about the toe: heel and ankle rise, toe stays on the floor.
    phi = -np.arcsin(ang["heel_rise"])
    toe = np.stack([np.full(n, 0.85 * lf), np.zeros(n)], -1)
    heel = toe + np.stack(_rot(-lf, 0.0, phi), -1)
    ankle = toe + np.stack(_rot(-0.85 * lf, seg["ankle_h"], phi), -1)
    knee = ankle + seg["shank"] * np.stack([np.sin(s), np.cos(s)], -1)
    hip = knee + seg["thigh"] * np.stack([-np.sin(th), np.cos(th)], -1)
    sho = hip + seg["trunk"] * np.stack([np.sin(tr), np.cos(tr)], -1)
    # Head stays more upright than the trunk (lifters keep their gaze forward).
    hd = -0.5 * tr
    centre = sho + 0.10 * h * np.stack([np.sin(-hd), np.cos(-hd)], -1)
    head = {"nose": (0.062, -0.005, 0), "left_eye_inner": (0.05, 0.012, 0.010),
            "left_eye": (0.05, 0.012, 0.018), "left_eye_outer": (0.048, 0.012, 0.026),
            "left_ear": (-0.005, 0.0, 0.04), "mouth_left": (0.052, -0.035, 0.014)}
    arm_dirs = {"front_rack": ((np.sin(1.22), -np.cos(1.22)), (-0.6, 0.8)),
                "forward": ((1.0, 0.0), (1.0, 0.0)), "hang": ((0.0, -1.0), (0.0, -1.0))}
    (uf, uu), (ff, fu) = arm_dirs[p.arms]
    joints = {"ankle": ankle, "knee": knee, "hip": hip, "heel": heel, "foot_index": toe}

    shift = p.hip_shift * seg["hip_w"] * ang["depth"]  # sideways drift of the pelvis and all above it

    def put(lm, xy, lat):
        out[:, LM[lm], :2], out[:, LM[lm], 2] = xy, lat + (0.0 if lm.endswith(LOWER_LEG) else shift)

    for side, name in ((1, "left"), (-1, "right")):
        for joint, xy in joints.items():  # parallel stance: legs and feet at hip width
            lat = side * seg["hip_w"] / 2
            if joint == "knee":  # caving moves the knee towards the midline; the shifting pelvis drags it half way
                caves = p.valgus_side in ("both", name)
                lat = lat * (1.0 - (p.knee_valgus if caves else 0.0) * ang["depth"]) + shift / 2
            put(f"{name}_{joint}", xy, lat)
        lat = side * seg["shoulder_w"] / 2
        elbow = sho + seg["upper_arm"] * np.array([uf, uu])
        wrist = elbow + seg["forearm"] * np.array([ff, fu])
        for joint, xy in (("shoulder", sho), ("elbow", elbow), ("wrist", wrist)):
            put(f"{name}_{joint}", xy, lat)
        # Hand points a little past the wrist along the forearm; thumb/index inward.
        for lm, d, dl in (("pinky", 0.045, 0.01), ("index", 0.05, -0.01), ("thumb", 0.03, -0.02)):
            put(f"{name}_{lm}", wrist + d * h * np.array([ff, fu]), lat + side * dl * h)
        for lm, (f, u, dl) in head.items():
            rf, ru = _rot(f * h, u * h, hd)
            put(lm.replace("left", name), centre + np.stack([rf, ru], -1), side * dl * h)
    return out


def _camera_axes(p: SquatParams, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward and left unit vectors of the lifter in camera coordinates (x right, y down, z away)."""
    sigma = -1.0 if p.facing == "left" else 1.0
    psi = np.radians(yaw)
    fwd = np.array([sigma * np.cos(psi), 0.0, -np.sin(psi)])
    left = np.cross([0.0, -1.0, 0.0], fwd)  # left = up x forward
    return fwd, left


def _bursts(rng: np.random.Generator, n: int, frac: float) -> np.ndarray:
    """Boolean mask covering ~frac of n frames in bursts of 1-4 frames."""
    mask = np.zeros(n, bool)
    while n and mask.sum() < round(frac * n):
        start = int(rng.integers(n))
        mask[start:start + int(rng.integers(1, 5))] = True
    return mask


def _check(p: SquatParams) -> None:
    problems = [
        (p.view not in VIEW_YAW, f"view must be one of {', '.join(VIEW_YAW)}"),
        (p.facing not in ("left", "right"), "facing must be left or right"),
        (p.arms not in ARMS, f"arms must be one of {', '.join(ARMS)}"),
        (p.reps < 0 or not 0 < p.fps <= 1000 or p.width < 16 or p.height < 16,
         "need reps >= 0, fps in (0, 1000], a real frame size"),
        (not 0.5 <= p.height_m <= 2.5, "height_m is a person's height in metres (0.5 to 2.5)"),
        (min(p.descent_s, p.ascent_s) <= 0, "descent_s and ascent_s must be positive"),
        (not 0 <= p.ascent_slowdown <= 1, "ascent_slowdown is a share per rep in [0, 1]"),
        (min(p.lead_in_s, p.lead_out_s, p.bottom_pause_s, p.top_pause_s, p.hip_first_s,
             p.walk_in_s) < 0, "durations cannot be negative"),
        (not 0 <= p.heel_lift < 0.5, "heel_lift is a fraction of foot length in [0, 0.5)"),
        (not 0 <= p.knee_valgus < 0.9, "knee_valgus is a share of the knee's standing width in [0, 0.9)"),
        (p.valgus_side not in ("both", "left", "right"), "valgus_side must be both, left or right"),
        (not -1 <= p.hip_shift <= 1, "hip_shift is in hip widths, from -1 to 1"),
        (not all(0 <= f <= 0.5 for f in (p.dropout_frac, p.swap_frac)), "dropout_frac/swap_frac in [0, 0.5]"),
    ]
    for bad, msg in problems:
        if bad:
            raise FormcheckError(f"simulate: {msg}")


def simulate(params: SquatParams | None = None, **overrides) -> tuple[PoseTrack, Truth]:
    """Render a synthetic squat clip; returns the PoseTrack and its ground truth."""
    try:
        p = replace(params or SquatParams(), **overrides)
    except TypeError as exc:
        raise FormcheckError(f"simulate: {exc}") from None
    _check(p)
    plan, setup_end, end, partial_start = _schedule(p)
    n = max(1, round(end * p.fps))
    t = np.arange(n) / p.fps
    ang = _angles(p, plan, t)
    seg = _segments(p.height_m)
    body = _pose(p, ang, seg)
    yaw = VIEW_YAW[p.view] if p.yaw_deg is None else float(p.yaw_deg)
    fwd, left = _camera_axes(p, yaw)
    cam = (body[..., :1] * fwd + body[..., 2:] * left + body[..., 1:2] * np.array([0.0, -1.0, 0.0]))
    hip_mid = cam[:, [LM["left_hip"], LM["right_hip"]]].mean(axis=1, keepdims=True)
    world = cam - hip_mid

    scale = 0.7 * p.height / p.height_m  # the standing lifter spans 70% of the frame height
    walk_dir = np.sign(fwd[0]) if abs(fwd[0]) > 0.3 else 1.0
    walk_m = -walk_dir * 0.35 * p.width / scale * (1 - plan("walk", t)) if p.walk_in_s else 0 * t
    cx = p.width / 2 - scale * 0.35 * seg["foot"] * fwd[0]  # mid-foot at the centre
    image = np.empty_like(cam)
    image[..., 0] = cx + scale * (cam[..., 0] + walk_m[:, None])
    image[..., 1] = 0.9 * p.height + scale * cam[..., 1]  # ground line near the bottom
    image[..., 2] = scale * world[..., 2]

    # The side turned away from the camera is less visible, as MediaPipe reports it.
    far = SIDE * left[2] > 0
    vis = np.where(far, 0.99 - 0.29 * abs(left[2]), 0.99)[None].repeat(n, 0)
    pres = np.full((n, N_LANDMARKS), 0.99)

    rng = np.random.default_rng(p.seed)
    if p.noise_px > 0:
        noise = rng.normal(0.0, p.noise_px, image.shape)
        image += noise
        world += noise / scale
    swapped = _bursts(rng, n, p.swap_frac)
    dropped = _bursts(rng, n, p.dropout_frac)
    swapped &= ~dropped
    for a in (image, world, vis):
        a[swapped] = a[swapped][:, SWAP_INDEX]
    for a in (image, world, vis, pres):
        a[dropped] = np.nan

    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    track = PoseTrack(t=t, image=f32(image), visibility=f32(vis), presence=f32(pres),
                      world=f32(world), fps=float(p.fps), width=p.width, height=p.height,
                      source="formcheck.pose.simulate", meta={"simulated": asdict(p)})
    leg = seg["shank"] + seg["thigh"]
    hip_up = body[:, LM["left_hip"], 1] - body[:, LM["left_ankle"], 1]
    shoulder_up = body[:, LM["left_shoulder"], 1] - body[:, LM["left_ankle"], 1]
    near = None if abs(left[2]) < 1e-6 else ("left" if left[2] < 0 else "right")
    truth = Truth(
        t=t, **{k: ang[k] for k in ("trunk", "shin", "thigh", "knee_flexion", "hip_flexion")},
        hip_height=hip_up / leg, shoulder_height=shoulder_up, heel_rise=ang["heel_rise"], dropped=dropped,
        swapped=swapped,
        **plan.ev, partial_rep=p.partial_last, partial_start_s=partial_start,
        setup_end_s=setup_end, facing=p.facing, view=p.view, yaw_deg=yaw, near_side=near,
        px_per_m=scale, segments=seg, params=p)
    return track, truth


def render_preview(track: PoseTrack, path: str | Path, truth: Truth | None = None) -> Path:
    """Write a stick-figure MP4 of the track (white background, near side drawn thicker)."""
    import cv2

    path = Path(path)
    with atomic_path(path, suffix=".mp4") as tmp:
        if not _write_preview(cv2, track, tmp, truth):
            raise FormcheckError(f"cannot write an mp4v video to {path}")
    return path


def _write_preview(cv2, track: PoseTrack, path: Path, truth: Truth | None) -> bool:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), track.fps,
                             (track.width, track.height))
    if not writer.isOpened():
        return False
    try:
        for i in range(track.frames):
            frame = np.full((track.height, track.width, 3), 255, np.uint8)
            pts, vis = track.image[i], track.visibility[i]
            ok = np.isfinite(pts[:, 0])
            lines = [(f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b, _ in BONES]
            lines += [("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")]
            for a, b in lines:
                ia, ib = LM[a], LM[b]
                if ok[ia] and ok[ib]:
                    thick = 5 if min(vis[ia], vis[ib]) > 0.9 else 2
                    cv2.line(frame, tuple(int(v) for v in pts[ia, :2]),
                             tuple(int(v) for v in pts[ib, :2]), (0, 0, 0), thick, cv2.LINE_AA)
            if ok[LM["nose"]]:
                cv2.circle(frame, tuple(int(v) for v in pts[LM["nose"], :2]), 8, (0, 0, 0), -1)
            if truth is not None:
                label = (f"t={truth.t[i]:.2f}s knee {truth.knee_flexion[i]:.0f} "
                         f"hip {truth.hip_flexion[i]:.0f} trunk {truth.trunk[i]:.0f}")
                cv2.putText(frame, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 200), 2)
            writer.write(frame)
    finally:
        writer.release()
    return True
