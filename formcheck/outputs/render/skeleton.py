"""Drawing one frame's pose: the analysed side's skeleton (both legs in a
front or back view), the angle read-outs, rep and phase, the faults
showing at that moment, and anyone else in view, faint and numbered.

The annotated video and the report's key frames both use `draw_frame`, so a
coach sees the same picture in both. Sizes follow the frame size so a tiny
GIF conversion and a 4K clip are equally legible.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from formcheck.kinematics.clean import JOINTS
from formcheck.pose.track import BONES, LM

# BGR colours. Red is kept for faults only, so it always means "look here".
BONE = (90, 230, 120)
FAULT = (40, 40, 235)
REFERENCE = (235, 235, 235)
SHADOW = (20, 20, 20)
FAULT_TEXT = (90, 90, 255)  # the fault red, lightened to read as text on a dark panel
OTHERS = (175, 175, 175)  # the other people in view: grey, drawn faint under the lifter
OTHERS_ALPHA = 0.45
BAR_PATH = (40, 200, 255)  # amber: the bar's path, apart from the skeleton's green and the fault red
PHASE_COLOR = {"descent": (60, 170, 255), "bottom": (230, 120, 230), "ascent": (110, 220, 110),
               "standing": (225, 225, 225)}

# Angle read-outs: (label, Signals attribute); a fault whose `readout` names
# the attribute turns its line red.
READOUTS = (("trunk", "trunk"), ("shin", "shin"), ("knee", "knee_flexion"), ("hip", "hip_flexion"))
FONT = cv2.FONT_HERSHEY_SIMPLEX


def unit(img: np.ndarray) -> float:
    """Size unit: 1 for a 640-pixel frame, never so small that text turns to mush."""
    return max(0.45, max(img.shape[:2]) / 640)


def _pt(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _ok(p) -> bool:
    return p is not None and bool(np.all(np.isfinite(p)))


def text_size(s: str, u: float) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(s.replace("°", "o"), FONT, 0.55 * u, max(1, round(1.4 * u)))
    return w, h


def put_text(img, s: str, org, u: float, color=(255, 255, 255)) -> None:
    """cv2 text, with a drawn ring for the degree sign (Hershey fonts have none)."""
    x, y = org
    scale, thick = 0.55 * u, max(1, round(1.4 * u))
    for k, part in enumerate(s.split("°")):
        if k:
            r = max(2, round(2.6 * u))
            cv2.circle(img, (x + r, y - round(9 * u)), r, color, max(1, thick - 1), cv2.LINE_AA)
            x += 2 * r + round(3 * u)
        if part:
            cv2.putText(img, part, (x, y), FONT, scale, color, thick, cv2.LINE_AA)
            x += cv2.getTextSize(part, FONT, scale, thick)[0][0]


def _box(img, x0, y0, x1, y1, color, alpha: float) -> None:
    """A translucent box, so the lifter still shows behind the read-outs."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 > x0 and y1 > y0:
        roi = img[y0:y1, x0:x1]
        solid = np.empty_like(roi)
        solid[:] = color
        roi[:] = cv2.addWeighted(roi, 1 - alpha, solid, alpha, 0)


def _line(img, a, b, color, u: float, width: float = 3.0) -> None:
    # A dark edge under every line keeps it visible on light and dark backgrounds.
    cv2.line(img, _pt(a), _pt(b), SHADOW, max(2, round((width + 2) * u)), cv2.LINE_AA)
    cv2.line(img, _pt(a), _pt(b), color, max(1, round(width * u)), cv2.LINE_AA)


def _arc(img, centre, ref_deg: float, to_deg: float, radius: float, color, u: float) -> None:
    """Arc between two image directions (degrees, cv2's clockwise-from-x convention)."""
    d = (to_deg - ref_deg + 180) % 360 - 180  # shortest way round
    cv2.ellipse(img, _pt(centre), (int(radius), int(radius)), 0, ref_deg, ref_deg + d, color,
                max(1, round(2 * u)), cv2.LINE_AA)


def _angle_mark(img, joint, tip, value: float, color, u: float) -> None:
    """Dashed vertical reference at `joint`, an arc to the segment and its value."""
    seg = np.asarray(tip, float) - np.asarray(joint, float)
    length = float(np.hypot(*seg))
    if not (np.isfinite(value) and length > 4):
        return
    r = 0.45 * length
    ref_len = 1.6 * r
    for k in range(0, 6, 2):  # dashed: a reference, not a body part
        a, b = (joint[0], joint[1] - ref_len * k / 6), (joint[0], joint[1] - ref_len * (k + 1) / 6)
        cv2.line(img, _pt(a), _pt(b), REFERENCE, max(1, round(1.5 * u)), cv2.LINE_AA)
    to_deg = math.degrees(math.atan2(seg[1], seg[0]))
    _arc(img, joint, -90.0, to_deg, r, color, u)
    # The value sits just outside the arc, halfway between vertical and segment. A
    # narrow angle has no room there: its value goes just past the segment, on the
    # side away from the vertical (behind the vertical sit the hips in a deep squat).
    d = (to_deg + 90.0 + 180) % 360 - 180
    mid = math.radians(-90.0 + (d / 2 if abs(d) >= 40 else d + math.copysign(25.0, d)))
    label = f"{round(value)}°"  # an int: never "-0"
    w, h = text_size(label, u)
    w += round(8 * u)  # the drawn degree ring
    cx, cy = joint[0] + (r + 18 * u) * math.cos(mid), joint[1] + (r + 18 * u) * math.sin(mid)
    x, y = int(cx - w / 2), int(cy + h / 2)
    _box(img, x - 4, y - h - 5, x + w + 4, y + 6, SHADOW, 0.6)
    put_text(img, label, (x, y), u, color)


def draw_pose(img, points: dict, faults=(), scale: float = 1.0) -> None:
    """Skeleton of the analysed side; `points` are in source pixels, drawn at `scale`;
    `faults` are the specifications of the faults on show."""
    u = unit(img)
    P = {k: (np.asarray(v, float) * scale if _ok(v) else None) for k, v in points.items()}
    red_bones = {b for f in faults for b in f.bones}
    red_joints = {j for f in faults for j in f.joints}
    marks = {f.mark for f in faults}
    for a, b, part in BONES:
        if _ok(P.get(a)) and _ok(P.get(b)):
            _line(img, P[a], P[b], FAULT if part in red_bones else BONE, u, 4.0 if part == "trunk" else 3.0)
    for j in JOINTS:
        if _ok(P.get(j)):
            cv2.circle(img, _pt(P[j]), max(3, round(4.5 * u)), SHADOW, -1, cv2.LINE_AA)
            cv2.circle(img, _pt(P[j]), max(2, round(3.2 * u)), (255, 255, 255), -1, cv2.LINE_AA)
            if j in red_joints:  # a ring big enough to see in a moving video
                cv2.circle(img, _pt(P[j]), round(16 * u), FAULT, max(2, round(3 * u)), cv2.LINE_AA)
    if "depth_line" in marks and _ok(P.get("hip")) and _ok(P.get("knee")):
        # Parallel line at knee height: the gap to the hip is the missing depth.
        k, h = P["knee"], P["hip"]
        _line(img, (min(k[0], h[0]) - 30 * u, k[1]), (max(k[0], h[0]) + 30 * u, k[1]), REFERENCE, u, 1.5)
        _line(img, h, (h[0], k[1]), FAULT, u, 2.0)
    if "hips_back_arrow" in marks and _ok(P.get("hip")) and _ok(P.get("knee")):
        # Arrow from the hip pointing backwards: the hips shoot back before the knees bend.
        back = -np.sign(P["knee"][0] - P["hip"][0]) or -1.0
        tip = P["hip"] + np.array([back * 45 * u, 0])
        cv2.arrowedLine(img, _pt(P["hip"]), _pt(tip), FAULT, max(2, round(3 * u)), cv2.LINE_AA, tipLength=0.35)


def draw_people(img, analysis, i: int, scale: float = 1.0) -> None:
    """With several people in view, each one's number by their head (the
    lifter's in the skeleton's green, as --person takes it) and the others'
    skeletons faint in grey, so a coach sees whom the report is about."""
    choice, crowd = analysis.people, analysis.track.crowd
    if choice is None or crowd is None or len(choice.people) < 2 or i >= len(crowd.ids):
        return
    u = unit(img)
    counted = {s.id for s in choice.people}
    faint = img.copy()
    labels = []
    for k, pid in enumerate(crowd.ids[i]):
        if pid not in counted:
            continue
        pts = crowd.image[i, k, :, :2].astype(float) * scale
        if pid != choice.analysed:
            for side in ("left", "right"):
                for a, b, _ in BONES:
                    pa, pb = pts[LM[f"{side}_{a}"]], pts[LM[f"{side}_{b}"]]
                    if _ok(pa) and _ok(pb):
                        _line(faint, pa, pb, OTHERS, u, 2.5)
        seen = pts[np.isfinite(pts).all(axis=1)]
        if len(seen):
            top = seen[np.argmin(seen[:, 1])]
            labels.append((f"{pid}", (int(top[0] - 6 * u), int(max(top[1] - 14 * u, 16 * u))),
                           BONE if pid == choice.analysed else OTHERS))
    cv2.addWeighted(faint, OTHERS_ALPHA, img, 1 - OTHERS_ALPHA, 0, dst=img)
    for text, org, color in labels:
        w, h = text_size(text, u)
        _box(img, org[0] - 4, org[1] - h - 4, org[0] + w + 4, org[1] + 5, SHADOW, 0.6)
        put_text(img, text, org, u, color)


def people_moment(analysis) -> int | None:
    """The frame that shows the most of the people in view, the one nearest
    the clip's middle among equals (None: fewer than two people)."""
    choice, crowd = analysis.people, analysis.track.crowd
    if choice is None or crowd is None or len(choice.people) < 2:
        return None
    counted = np.isin(crowd.ids, [s.id for s in choice.people]).sum(axis=1)
    n = len(counted)
    return int(max(range(n), key=lambda i: (counted[i], -abs(i - n / 2))))


def people_boxes(analysis, i: int) -> list[tuple[int, tuple[float, float, float, float]]]:
    """(person, box) for everyone counted in view at frame i: the box of
    their landmarks, in source pixels, grown a little so it frames them."""
    choice, crowd = analysis.people, analysis.track.crowd
    counted = {s.id for s in choice.people}
    out = []
    for k, pid in enumerate(crowd.ids[i]):
        if pid in counted:
            xy = crowd.image[i, k, :, :2].astype(float)
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy):
                (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
                gx, gy = 0.08 * (x1 - x0), 0.06 * (y1 - y0)
                w, h = analysis.track.width, analysis.track.height
                out.append((int(pid), (max(x0 - gx, 0), max(y0 - gy, 0), min(x1 + gx, w), min(y1 + gy, h))))
    return out


def draw_people_boxes(img, analysis, i: int, scale: float = 1.0) -> None:
    """Each person in view boxed with their number in large type: the lifter in green."""
    u = unit(img)
    lifter = analysis.people.analysed
    for pid, (x0, y0, x1, y1) in people_boxes(analysis, i):
        color = BONE if pid == lifter else (240, 240, 240)
        p0, p1 = _pt((x0 * scale, y0 * scale)), _pt((x1 * scale, y1 * scale))
        cv2.rectangle(img, p0, p1, SHADOW, max(3, round(5 * u)), cv2.LINE_AA)
        cv2.rectangle(img, p0, p1, color, max(2, round(3 * u)), cv2.LINE_AA)
        big = 1.8 * u
        w, h = text_size(str(pid), big)
        tag_h = h + round(14 * u)
        top = p0[1] - tag_h if p0[1] >= tag_h else p0[1]  # above the box where there is room: the face stays seen
        _box(img, p0[0], top, p0[0] + w + round(12 * u), top + tag_h, SHADOW, 0.75)
        put_text(img, str(pid), (p0[0] + round(6 * u), top + h + round(7 * u)), big, color)


def _dashed(img, a, b, color, u: float, dashes: int = 7) -> None:
    """A dashed reference line: something to compare with, not a body part."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    for k in range(0, 2 * dashes, 2):
        p, q = a + (b - a) * k / (2 * dashes), a + (b - a) * (k + 1) / (2 * dashes)
        cv2.line(img, _pt(p), _pt(q), color, max(1, round(1.5 * u)), cv2.LINE_AA)


def draw_legs(img, legs: dict, faults=(), red_legs=(), scale: float = 1.0) -> None:
    """Front or back view: both legs, the hip and shoulder lines, and what the
    faults on show mark. `legs` maps the lifter's "left"/"right" to joint ->
    point (source pixels, drawn at `scale`); a leg in `red_legs` is caving:
    its thigh and shin turn red beside a dashed vertical from its foot, the
    line the knee should stay on."""
    u = unit(img)
    P = {side: {k: (np.asarray(v, float) * scale if _ok(v) else None) for k, v in pts.items()}
         for side, pts in legs.items()}
    red_bones = {b for f in faults for b in f.bones if f.mark != "knee_lines"}
    red_joints = {j for f in faults for j in f.joints if f.mark != "knee_lines"}
    marks = {f.mark for f in faults}
    L, R = P.get("left", {}), P.get("right", {})
    for joint in ("shoulder", "hip"):
        if _ok(L.get(joint)) and _ok(R.get(joint)):
            _line(img, L[joint], R[joint], FAULT if joint == "hip" and "shift_arrow" in marks else BONE, u, 2.5)
    for side, pts in P.items():
        caving = side in red_legs
        if caving and _ok(pts.get("ankle")) and _ok(pts.get("hip")):
            foot = pts["ankle"]
            _dashed(img, foot, (foot[0], pts["hip"][1]), REFERENCE, u)
        for a, b, part in BONES:
            if _ok(pts.get(a)) and _ok(pts.get(b)):
                red = part in red_bones or (caving and part in ("thigh", "shin"))
                _line(img, pts[a], pts[b], FAULT if red else BONE, u, 4.0 if part == "trunk" else 3.0)
        for j in JOINTS:
            if _ok(pts.get(j)):
                cv2.circle(img, _pt(pts[j]), max(3, round(4.5 * u)), SHADOW, -1, cv2.LINE_AA)
                cv2.circle(img, _pt(pts[j]), max(2, round(3.2 * u)), (255, 255, 255), -1, cv2.LINE_AA)
                if j in red_joints or (caving and j == "knee"):
                    cv2.circle(img, _pt(pts[j]), round(16 * u), FAULT, max(2, round(3 * u)), cv2.LINE_AA)
    if "shift_arrow" in marks and all(_ok(x.get(j)) for x in (L, R) for j in ("hip", "ankle")):
        # From the centre of the stance to the centre of the pelvis, at hip height.
        hip = (L["hip"] + R["hip"]) / 2
        centre = np.array([(L["ankle"][0] + R["ankle"][0]) / 2, hip[1]])
        _dashed(img, (centre[0], (L["ankle"][1] + R["ankle"][1]) / 2), centre, REFERENCE, u)
        dx = hip[0] - centre[0]
        tip = centre + np.array([np.sign(dx or 1.0) * max(abs(dx), 30 * u), 0.0])
        cv2.arrowedLine(img, _pt(centre), _pt(tip), FAULT, max(2, round(3 * u)), cv2.LINE_AA, tipLength=0.3)


def draw_angles(img, points: dict, angles: dict, faults=(), scale: float = 1.0) -> None:
    """Trunk angle at the hip and shin angle at the ankle, each against the vertical."""
    u = unit(img)
    P = {k: (np.asarray(v, float) * scale if _ok(v) else None) for k, v in points.items()}
    red = {f.readout for f in faults}
    for joint, tip, name in (("hip", "shoulder", "trunk"), ("ankle", "knee", "shin")):
        if _ok(P.get(joint)) and _ok(P.get(tip)):
            _angle_mark(img, P[joint], P[tip], angles.get(name, float("nan")),
                        FAULT if name in red else REFERENCE, u)


CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")  # first wins a tie


def body_boxes(analysis, frames, scale: float = 1.0) -> np.ndarray:
    """(n, 4) boxes x0, y0, x1, y1 around every landmark of the given frames,
    in drawn pixels, padded so the head above the nose and the feet count as
    body too. Frames without a person are left out."""
    img = analysis.track.image[np.asarray(list(frames), int), :, :2] * scale
    found = np.isfinite(img).all(axis=2).any(axis=1)
    if not found.any():
        return np.zeros((0, 4))
    img = img[found]
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanmin(img, axis=1), np.nanmax(img, axis=1)
    pad = 0.12 * (hi - lo).max(axis=1, keepdims=True)  # about a head's size
    return np.hstack([lo - pad, hi + pad])


def panel_corner(img_shape, size: tuple[int, int], avoid: np.ndarray, note: bool = False) -> str:
    """The corner where a panel of `size` (w, h) covers least of the bodies in
    `avoid` (summed over the boxes), so the read-out never hides the lifter's
    face when another corner is free. With a note along the bottom edge only
    the top corners are used."""
    h, w = img_shape[:2]
    pw, ph = size
    best, cost = CORNERS[0], float("inf")
    for corner in CORNERS[:2] if note else CORNERS:
        x0 = 0 if corner.endswith("left") else w - pw
        y0 = 0 if corner.startswith("top") else h - ph
        if len(avoid):
            ox = np.clip(np.minimum(avoid[:, 2], x0 + pw) - np.maximum(avoid[:, 0], x0), 0, None)
            oy = np.clip(np.minimum(avoid[:, 3], y0 + ph) - np.maximum(avoid[:, 1], y0), 0, None)
            c = float((ox * oy).sum())
        else:
            c = 0.0
        if c < cost - 1e-9:
            best, cost = corner, c
    return best


def draw_panel(img, angles: dict | None, faults=(), status: str = "", phase: str = "", note: str = "",
               avoid: np.ndarray | None = None) -> None:
    """Read-out of rep and phase, the four angles, then the faults in red, in
    the corner that hides least of the bodies in `avoid` (boxes, see body_boxes)."""
    u = unit(img)
    pad, line = round(8 * u), round(22 * u)
    rows = []  # (text, colour)
    if status:
        rows.append((status, (255, 255, 255)))
    if phase:
        rows.append((phase, PHASE_COLOR.get(phase, (255, 255, 255))))
    if angles is None:  # front view: sagittal angles would be numbers without meaning
        rows.append(("front view: no angles", (225, 225, 225)))
    red = {f.readout for f in faults}
    for label, key in READOUTS if angles is not None else ():
        v = angles.get(key, float("nan"))
        rows.append((f"{label:<6}{round(v):4d}°" if np.isfinite(v) else f"{label:<6} --",
                     FAULT_TEXT if key in red else (255, 255, 255)))
    captions = [f.caption.upper() for f in faults]
    width = max((text_size(t, u)[0] for t, _ in rows), default=0) + round(8 * u)
    box_h = pad + line * len(rows) + pad // 2
    full_w = max([width + 2 * pad] + [text_size(c, u)[0] + 2 * pad for c in captions])
    full_h = box_h + round(4 * u) + len(captions) * (line + round(8 * u))
    corner = panel_corner(img.shape, (full_w, full_h), avoid if avoid is not None else np.zeros((0, 4)), bool(note))
    x0 = 0 if corner.endswith("left") else img.shape[1] - full_w
    y0 = 0 if corner.startswith("top") else img.shape[0] - full_h
    _box(img, x0, y0, x0 + width + 2 * pad, y0 + box_h, SHADOW, 0.65)
    y = y0 + pad + line - round(6 * u)
    for t, c in rows:
        put_text(img, t, (x0 + pad, y), u, c)
        y += line
    y = y0 + box_h + round(4 * u)
    for label in captions:  # white on red: the one thing to notice from across the gym
        w, h = text_size(label, u)
        _box(img, x0, y, x0 + w + 2 * pad, y + line + round(4 * u), FAULT, 0.85)
        put_text(img, label, (x0 + pad, y + line - round(4 * u)), u)
        y += line + round(8 * u)
    if note:  # shrunk to fit: a narrow phone clip must still show all of it
        h, w = img.shape[:2]
        nu = min(0.8 * u, 0.8 * u * (w - 2 * pad) / max(1, text_size(note, 0.8 * u)[0]))
        _box(img, 0, h - line - pad, w, h, SHADOW, 0.7)
        put_text(img, note, (pad, h - pad), nu, (200, 230, 255))


def angles_at(sig, i: int) -> dict:
    return {key: float(getattr(sig, key)[i]) for _, key in READOUTS}


def points_at(sig, i: int) -> dict:
    return {name: sig.points[name][i] for name in JOINTS if name in sig.points}


def caving_legs(analysis, i: int, faults) -> set[str]:
    """The lifter's legs ("left"/"right") that a per-leg fault on show at frame
    `i` was found on, read from the rep's metric rather than worked out again."""
    rep = next((r for r in analysis.reps if r.rep.start <= i <= r.rep.end), None)
    out: set[str] = set()
    for spec in faults:
        if spec.mark == "knee_lines" and rep is not None and spec.metric in rep.metrics:
            sides = rep.metrics[spec.metric].sides or {}
            out |= {s for s, v in sides.items() if v is not None and np.isfinite(v) and spec.passes(v)}
    return out


def draw_bar_path(img, analysis, start: int, stop: int, scale: float = 1.0, label: str = "") -> None:
    """The followed bar point's path from frame `start` to `stop`, with a dot
    where it is at `stop` and `label` beside the path's top."""
    if analysis.speed is None or stop <= start:
        return
    u = unit(img)
    xy = analysis.speed.path.pixels[start:stop + 1] * scale
    seen = np.isfinite(xy).all(axis=1)
    for a, b, ok in zip(xy[:-1], xy[1:], seen[:-1] & seen[1:]):
        if ok:
            _line(img, a, b, BAR_PATH, u, width=2.0)
    if seen[-1]:
        cv2.circle(img, _pt(xy[-1]), max(3, round(4 * u)), BAR_PATH, -1, cv2.LINE_AA)
    if label and seen.any():
        top = xy[seen][np.argmin(xy[seen][:, 1])]
        put_text(img, label, (int(top[0] + 6 * u), int(top[1])), u, BAR_PATH)


def draw_frame(img, analysis, i: int, faults=(), status: str = "", phase: str = "",
               scale: float = 1.0, note: str = "", avoid: np.ndarray | None = None,
               trail: bool = False) -> np.ndarray:
    """Everything on one frame, in place; `faults` are the codes on show,
    `scale` maps source pixels to `img`; the read-out keeps clear of the
    bodies in `avoid` (default: the lifter in this frame); `trail` draws the
    bar's path since the start of the rep under way."""
    sig = analysis.signals
    if sig is None:
        draw_panel(img, {}, (), status or "no person found", "", note)
        return img
    if avoid is None:
        avoid = body_boxes(analysis, [i], scale)
    faults = [analysis.spec(code) for code in faults]
    draw_people(img, analysis, i, scale)  # first: the lifter's skeleton goes over anyone near
    pts = points_at(sig, i)
    angles = angles_at(sig, i) if sig.view.kind != "front" else None
    if sig.view.kind == "front" and sig.legs:  # both legs side by side: draw each, not their midpoint
        legs = {side: {j: p[i] for j, p in joints.items()} for side, joints in sig.legs.items()}
        draw_legs(img, legs, faults, caving_legs(analysis, i, faults), scale)
    else:
        draw_pose(img, pts, faults, scale)
    if angles is not None:  # after the skeleton, so no bone hides a value
        draw_angles(img, pts, {"trunk": angles["trunk"], "shin": angles["shin"]}, faults, scale)
    rep = next((r.rep for r in analysis.reps if r.rep.start <= i <= r.rep.end), None)
    if trail and rep is not None:
        draw_bar_path(img, analysis, rep.start, i, scale)
    draw_panel(img, angles, faults, status, phase, note, avoid)
    return img
