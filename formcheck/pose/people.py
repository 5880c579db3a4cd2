"""Everyone the pose model found in a clip, each followed from frame to frame
under a number of their own, and the rule that picks the lifter among them.

Identities: a person in a frame is the one seen last whose hip centre lay
nearest, measured in that person's own length in the picture (so a near
and a far person are told apart by size too). Someone unseen for longer
than MAX_GAP_S is gone; in a file, a number that begins where another ended
within REJOIN_S is the same person found again, and the two are joined.
Someone who comes back elsewhere, or later, gets a new number.

The lifter, unless the user names one (`--person`): among the people in view
for at least MIN_SEEN_S, the one whose hips go down and up (and who is in
view for a good share of the time, SQUAT_PRESENCE); among several such (or
none), the one longest in view; then the largest in the picture; then the
most central. The first of these that tells the chosen
person from the runner-up is the reason given in the report.

The hips' dips are counted here, on the raw landmarks of every person and
frame by frame (live sessions count them as frames come), which the rep
counter of the analysis, made for one cleaned track, is not: a coarse
count that only has to tell a squatter from someone standing or walking.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from formcheck.errors import FormcheckError
from formcheck.pose.person import Person
from formcheck.pose.track import HIPS, LM, Crowd, PoseTrack

MIN_SEEN_S = 0.5  # seen for less time than this: a stray detection, not a person in view
# Unseen for longer than this, a person has left; coming back is a new identity. Long enough for a
# squatter the detector misses through the bottom of a rep or while someone walks in front of them.
MAX_GAP_S = 2.0
MATCH_COST = 0.6  # the same person: hip centre moved by this share of their length, plus the change of size
MOVED_AT_MOST = 1.0  # a number found again: it begins less than the lost one's length from where that was
USUAL_SIZE_FRAMES = 90  # a person's usual length is read from their last this many frames (a rep or two)
USUAL_PERCENTILE = 75
SHRINK_WEIGHT = 0.5
VERTICAL_WEIGHT = 0.5
# A number that first shows after another was last seen, within this time and where that one was last,
# is the same person found again (the detector lost them a while): the two become one number.
REJOIN_S = 10.0
DIP = 0.2  # the hips go down, then up again, by this share of the leg's length: one dip
SQUATS = 1  # dips that make "squats" (a clip may hold a single rep)
# ...counted only for someone in view at least this share of the time the longest-seen person is:
# a stray detection's landmarks jitter, and a few seconds of it can look like dips.
SQUAT_PRESENCE = 0.5
SEEN_TOLERANCE = 0.1  # in view within this share of the clip of each other: as long as each other
SIZE_TOLERANCE = 0.15  # lengths within this share of each other: as large as each other
RULES = ("auto", "left", "right", "center", "largest", "all")
SHOULDERS = [LM["left_shoulder"], LM["right_shoulder"]]
KNEES = [LM["left_knee"], LM["right_knee"]]
ANKLES = [LM["left_ankle"], LM["right_ankle"]]


def person_rule(text: str) -> str:
    """A --person value: one of RULES or a person's number from a report."""
    value = text.strip().lower()
    if value == "centre":
        value = "center"
    if value in RULES or (value.isdigit() and int(value) > 0):
        return value
    raise ValueError(f"--person takes {', '.join(RULES)} or a person's number from a report, not {text!r}")


def _size(points: np.ndarray) -> float:
    """A person's length in the picture, shoulder to hip to knee to ankle
    (both sides' mean): unlike their height it barely changes as they squat."""
    chain = points[[SHOULDERS, HIPS, KNEES, ANKLES], :2]  # (4 joints, 2 sides, xy)
    return float(max(np.linalg.norm(np.diff(chain, axis=0), axis=-1).sum(axis=0).mean(), 1.0))


def _centre(points: np.ndarray) -> np.ndarray:
    return points[HIPS, :2].mean(axis=0)


def _moved(centre: np.ndarray, before: np.ndarray, length: float) -> float:
    """How far a hip centre moved, in the person's length; up and down counts
    half, as a squatter's hips travel nearly a thigh's length each rep (and
    the detector often misses them on the way), while people walk across."""
    dx, dy = centre - before
    return float(np.hypot(dx, VERTICAL_WEIGHT * dy)) / length


def _usual(sizes) -> float:
    """A person's usual length from their recent ones: near the top of them, as
    standing shows it (squatting, or a frame of poor landmarks, shows them shorter)."""
    return float(np.percentile(sizes, USUAL_PERCENTILE))


def _size_change(size: float, sizes) -> float:
    """What a detection's length counts against it being someone seen before:
    taller than they have been, in full; shorter (they may be at the bottom of
    a squat, the thighs towards the camera), by half. Someone walking past a
    squatter hidden behind them is as near as the squatter was, not their size."""
    ratio = np.log(size / _usual(sizes))
    return float(ratio if ratio > 0 else -SHRINK_WEIGHT * ratio)


class Identities:
    """Numbers people frame by frame (1, 2, ...), online: live sessions
    number them as frames come, a file's run once over its frames. Each
    person is looked for where they were last seen, not where their motion
    would carry them: a squatter's hips move down and up, and one hidden for
    a moment by someone walking past reappears about where they were."""

    def __init__(self) -> None:
        # id -> (last time seen, hip centre, their recent lengths in the picture)
        self._seen: dict[int, tuple[float, np.ndarray, deque]] = {}
        self._next = 1

    def assign(self, t: float, people: list[np.ndarray]) -> list[int]:
        """The identity of each person's landmarks (pixels) in this frame."""
        self._seen = {k: v for k, v in self._seen.items() if t - v[0] <= MAX_GAP_S}
        found = [(_centre(p), _size(p)) for p in people]
        pairs = []
        for i, (c, s) in enumerate(found):
            for pid, (_, last_c, sizes) in self._seen.items():
                cost = _moved(c, last_c, _usual(sizes)) + _size_change(s, sizes)
                if cost < MATCH_COST:
                    pairs.append((cost, i, pid))
        ids = [-1] * len(people)
        for _, i, pid in sorted(pairs):
            if ids[i] < 0 and pid not in ids:
                ids[i] = pid
        for i in range(len(people)):
            if ids[i] < 0:
                ids[i], self._next = self._next, self._next + 1
        for pid, (c, s) in zip(ids, found):
            sizes = self._seen[pid][2] if pid in self._seen else deque(maxlen=USUAL_SIZE_FRAMES)
            sizes.append(s)
            self._seen[pid] = (t, c, sizes)
        return ids


class HipDips:
    """Counts a person's hip dips, frame by frame: down by DIP of the leg's
    length from the highest point since the last dip, then up again by as
    much from the lowest. Heights in pixels, down the picture."""

    def __init__(self) -> None:
        self.count = 0
        self._legs: list[float] = []
        self._recent: list[float] = []  # the last few hip heights: a running median steadies them
        self._down = False
        self._top = self._bottom = None

    def update(self, points: np.ndarray) -> None:
        hip, knee, ankle = (points[idx, :2].mean(axis=0) for idx in (HIPS, KNEES, ANKLES))
        leg = float(np.linalg.norm(hip - knee) + np.linalg.norm(knee - ankle))
        if not np.isfinite(leg) or leg <= 0:
            return
        self._legs.append(leg)
        self._recent = (self._recent + [float(hip[1])])[-5:]
        y, unit = float(np.median(self._recent)), DIP * float(np.median(self._legs[-300:]))
        if not self._down:
            self._top = y if self._top is None else min(self._top, y)
            if y - self._top > unit:
                self._down, self._bottom = True, y
        else:
            self._bottom = max(self._bottom, y)
            if self._bottom - y > unit:
                self.count += 1
                self._down, self._top = False, y


def numbered(crowd: Crowd, t: np.ndarray) -> Crowd:
    """The crowd with its people numbered from the first frame on (slots in
    any order; a slot with NaN landmarks is empty): frame by frame as
    `Identities` does, then each number that begins where an earlier one
    ended, never in view at the same time, joined to it (`REJOIN_S`), a
    stray number within one person's absence joined to them, and the
    numbers made 1, 2, ... again in order of first appearance."""
    filled = ~np.isnan(crowd.image[:, :, :, 0]).all(axis=2)
    ids = np.full(filled.shape, -1, dtype=np.int16)
    numbers = Identities()
    for i in range(len(t)):
        slots = np.flatnonzero(filled[i])
        ids[i, slots] = numbers.assign(float(t[i]), [crowd.image[i, k] for k in slots])
    return replace(crowd, ids=_compact(_strays_joined(_rejoined(ids, crowd.image, t), crowd.image, t)))


def _rejoined(ids: np.ndarray, image: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The numbers with each one found again joined to the one it continues (see `numbered`)."""
    def centre(pid: int, row: int) -> np.ndarray:
        return _centre(image[row, int(np.flatnonzero(ids[row] == pid)[0])])

    spans, usual = {}, {}
    for pid in np.unique(ids[ids >= 0]):
        rows, slots = np.nonzero(ids == pid)
        spans[int(pid)] = (int(rows.min()), int(rows.max()))
        recent = image[rows[-USUAL_SIZE_FRAMES:], slots[-USUAL_SIZE_FRAMES:]]
        usual[int(pid)] = _usual([_size(p) for p in recent])
    ends: dict[int, tuple[int, int]] = {}  # a kept number -> (its last row, the number seen there)
    into: dict[int, int] = {}
    for pid in sorted(spans, key=lambda p: spans[p][0]):
        first, last = spans[pid]
        start = centre(pid, first)
        best = None
        for root, (end, piece) in ends.items():
            if end < first and t[first] - t[end] <= REJOIN_S:
                moved = _moved(start, centre(piece, end), usual[piece])
                if moved < MOVED_AT_MOST and (best is None or moved < best[0]):
                    best = (moved, root)
        root = pid if best is None else best[1]
        into[pid] = root
        ends[root] = (last, pid)
    out = ids.copy()
    for pid, root in into.items():
        out[ids == pid] = root
    return out


def _strays_joined(ids: np.ndarray, image: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Numbers seen for less than MIN_SEEN_S in all, each time while one other
    person is out of sight and next to where that one was last seen: that
    person's frames of poor landmarks (a collapsed skeleton at the bottom of
    a rep), joined to them."""
    frame_s = float(t[-1] - t[0]) / max(len(t) - 1, 1)
    present = {int(pid): np.flatnonzero((ids == pid).any(axis=1)) for pid in np.unique(ids[ids >= 0])}

    def points(pid: int, row: int) -> np.ndarray:
        return image[row, int(np.flatnonzero(ids[row] == pid)[0])]

    out = ids.copy()
    for pid, rows in present.items():
        if len(rows) * frame_s >= MIN_SEEN_S:
            continue
        hosts = []
        for other, seen in present.items():
            if other == pid or np.isin(rows, seen).any():
                continue
            near = True
            for row in rows:
                before = seen[seen < row]
                if not len(before) or t[row] - t[before[-1]] > MAX_GAP_S:
                    near = False
                    break
                last = points(other, before[-1])
                near = near and _moved(_centre(points(pid, row)), _centre(last), _size(last)) < MOVED_AT_MOST
            if near:
                hosts.append(other)
        if len(hosts) == 1:  # one person it can be; with two, it is not ours to say
            out[ids == pid] = hosts[0]
    return out


def _compact(ids: np.ndarray) -> np.ndarray:
    """The numbers made 1, 2, ... in order of first appearance."""
    first = {int(pid): int(np.flatnonzero((ids == pid).any(axis=1))[0]) for pid in np.unique(ids[ids >= 0])}
    out = ids.copy()
    for k, pid in enumerate(sorted(first, key=first.get)):
        out[ids == pid] = k + 1
    return out


@dataclass
class Seen:
    """One person over the clip, as the choice weighs them."""

    id: int
    seen_s: float
    share: float  # of the clip's length
    dips: int
    size: float  # median length (shoulder to ankle) in the picture, share of the frame's height
    x: float  # median hip centre across the picture, 0 left .. 1 right
    where: str = ""  # on the left, in the middle, on the right (among the people in view)
    squats: bool = False  # dipped, and in view long enough for that to count (see `choose`)

    def to_dict(self) -> dict:
        return {"id": self.id, "where": self.where, "seen_s": round(self.seen_s, 2), "share": round(self.share, 3),
                "hip_dips": self.dips, "squats": self.squats, "size": round(self.size, 3), "x": round(self.x, 3)}


def _people_seen(crowd: Crowd, t: np.ndarray, fps: float, width: int, height: int) -> list[Seen]:
    duration = float(t[-1] - t[0] + 1.0 / fps) if len(t) else 0.0
    frame_s = duration / len(t) if len(t) else 0.0  # a frame's share of the clip, by its own timestamps
    out = []
    for pid in np.unique(crowd.ids[crowd.ids >= 0]):
        frames, slots = np.nonzero(crowd.ids == pid)
        points = crowd.image[frames, slots]
        dips = HipDips()
        for p in points:
            dips.update(p)
        seen_s = len(frames) * frame_s
        out.append(Seen(int(pid), seen_s, seen_s / duration if duration else 0.0, dips.count,
                        float(np.median([_size(p) for p in points])) / height,
                        float(np.median([_centre(p)[0] for p in points])) / width))
    return out


def _place(people: list[Seen]) -> None:
    """Names where each person stands, from left to right among them."""
    ordered = sorted(people, key=lambda s: s.x)
    for k, s in enumerate(ordered):
        if len(ordered) == 1:
            s.where = "alone in view"
        elif k == 0:
            s.where = "on the left"
        elif k == len(ordered) - 1:
            s.where = "on the right"
        else:
            s.where = "in the middle" if len(ordered) == 3 else f"{_ordinal(k + 1)} from the left"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# The automatic choice, criterion by criterion: (name, score, tolerance, said as).
CRITERIA = (
    ("squats", lambda s: float(s.squats), 0.0, "who squats"),
    ("in view", lambda s: s.share, SEEN_TOLERANCE, "the one longest in view"),
    ("size", lambda s: np.log(max(s.size, 1e-6)), np.log(1 + SIZE_TOLERANCE), "the largest in the picture"),
    ("central", lambda s: -abs(s.x - 0.5), 0.0, "the most central"),
)


def _auto(people: list[Seen]) -> tuple[Seen, str]:
    """The lifter by the stated rule, and the criterion that told them from the runner-up."""
    left, reason = list(people), "alone in view"
    for _, score, tolerance, said in CRITERIA:
        best = max(score(s) for s in left)
        kept = [s for s in left if score(s) >= best - tolerance - 1e-9]
        if len(kept) == 1 < len(left):
            reason = said
        left = kept
        if len(left) == 1:
            break
    return left[0], reason


def _by_rule(people: list[Seen], rule: str) -> Seen:
    if rule.isdigit():
        match = [s for s in people if s.id == int(rule)]
        if not match:
            raise FormcheckError(f"--person {rule}: no person {rule} in this clip (people in view: "
                                 + ", ".join(f"{s.id} ({s.where})" for s in people) + ")")
        return match[0]
    pick = {"left": lambda s: -s.x, "right": lambda s: s.x, "center": lambda s: -abs(s.x - 0.5),
            "largest": lambda s: s.size}[rule]
    return max(people, key=pick)


@dataclass
class Choice:
    """Whom the analysis follows among the people in view, and why."""

    analysed: int
    rule: str  # auto or what --person asked
    reason: str
    people: list[Seen] = field(default_factory=list)  # everyone in view long enough to count

    def person(self, pid: int) -> Seen | None:
        return next((s for s in self.people if s.id == pid), None)

    @property
    def runner_up(self) -> Seen | None:
        others = [s for s in self.people if s.id != self.analysed]
        if not others:
            return None
        return _auto(others)[0]

    def sentence(self) -> str:
        """The report's line on it, or "" with one person in view."""
        me = self.person(self.analysed)
        if len(self.people) < 2 or me is None:
            return ""
        others = [s for s in self.people if s.id != self.analysed]
        squatters = [s for s in self.people if s.squats]
        head = f"{len(self.people)} people in view"
        if len(squatters) > 1:
            head += (f", {len(squatters)} of them squat" if len(squatters) < len(self.people)
                     else ", both squat" if len(squatters) == 2 else ", all squat")
        why = f"the one chosen (--person {self.rule})" if self.rule != "auto" else self.reason
        text = f"{head}; analysed person {me.id} ({me.where}), {why}"
        if self.rule == "auto" and me.squats and not any(s.squats for s in others):
            text += "; the others did not squat" if len(others) > 1 else "; the other did not squat"
        rival = self.runner_up
        if rival is not None:
            text += (f"; runner-up person {rival.id} ({rival.where}"
                     + (", squats too" if rival.squats else "") + f"): --person {rival.id} analyses them instead")
        return text

    def to_dict(self) -> dict:
        rival = self.runner_up
        return {"seen": len(self.people), "analysed": self.analysed, "rule": self.rule, "reason": self.reason,
                "runner_up": rival.id if rival else None, "people": [s.to_dict() for s in self.people]}


def choose(crowd: Crowd, t: np.ndarray, fps: float, width: int, height: int, rule: str = "auto") -> Choice:
    """The lifter among the crowd: by the module's rule, or as `rule` (a
    --person value other than "all") asks."""
    everyone = _people_seen(crowd, t, fps, width, height)
    if not everyone:
        return Choice(-1, rule, "nobody in view")
    people = [s for s in everyone if s.seen_s >= MIN_SEEN_S] or [max(everyone, key=lambda s: s.seen_s)]
    longest = max(s.seen_s for s in people)
    for s in everyone:
        s.squats = s.dips >= SQUATS and s.seen_s >= SQUAT_PRESENCE * longest
    _place(people)
    if rule.isdigit() and int(rule) not in {s.id for s in people}:
        stray = next((s for s in everyone if s.id == int(rule)), None)
        if stray is not None:  # a number a report can name only when in view long enough, but asked is asked
            stray.where = "seen briefly"
            people.append(stray)
    if rule == "auto":
        me, reason = _auto(people)
    else:
        me, reason = _by_rule(people, rule), f"--person {rule}"
    return Choice(me.id, rule, reason, people)


def follow(track: PoseTrack, rule: str = "auto") -> PoseTrack:
    """The track following the person `rule` picks among its crowd, which
    is numbered first if it is not yet (the track itself when it holds no
    crowd: one person, or a file from before crowds were kept)."""
    crowd = track.crowd
    if crowd is None:
        if rule not in ("auto", "all", "largest", "center", "left", "right", "1"):
            raise FormcheckError(f"--person {rule}: this pose track holds one person only")
        return track
    filled = ~np.isnan(crowd.image[:, :, :, 0]).all(axis=2)
    if (crowd.ids[filled] < 0).any():
        crowd = numbered(crowd, track.t)
    choice = choose(crowd, track.t, track.fps, track.width, track.height, "auto" if rule == "all" else rule)
    rows = crowd.of(choice.analysed)
    return PoseTrack(t=track.t, image=rows["image"], visibility=rows["visibility"], presence=rows["presence"],
                     world=rows["world"], fps=track.fps, width=track.width, height=track.height,
                     source=track.source, people=filled.sum(axis=1).astype(np.int8),
                     masks=rows.get("masks"), meta={**track.meta, "people": choice.to_dict()}, crowd=crowd)


def everyone(track: PoseTrack) -> list[int]:
    """The people `--person all` analyses: each one in view long enough to count."""
    if track.crowd is None:
        return [1]
    return [s.id for s in choice_of(follow(track)).people]


def choice_of(track: PoseTrack) -> Choice | None:
    """The choice recorded on a track by `follow`, or None."""
    data = track.meta.get("people")
    if not data:
        return None
    return Choice(int(data["analysed"]), data["rule"], data["reason"],
                  [Seen(p["id"], p["seen_s"], p["share"], p["hip_dips"], p["size"], p["x"], p["where"], p["squats"])
                   for p in data["people"]])


class LivePicker:
    """The lifter frame by frame in a live session: people numbered as they
    come, each one's dips counted; the rule's person is kept while in view.
    With "auto", the pick moves to someone who squats when the person
    followed has not (the first pick is the largest, as nobody squatted yet)."""

    def __init__(self, rule: str = "auto") -> None:
        self.rule = rule
        self.numbers = Identities()
        self.dips: dict[int, HipDips] = {}
        self.current: int | None = None

    def pick(self, t: float, people: list[Person], width: int, height: int) -> Person | None:
        scale = np.array([width, height, width], dtype=np.float32)
        points = [p.image * scale for p in people]
        ids = self.numbers.assign(t, points)
        for pid, p in zip(ids, points):
            self.dips.setdefault(pid, HipDips()).update(p)
        if not people:
            return None
        here = dict(zip(ids, range(len(people))))
        if self.current not in here:
            if self.rule == "auto":
                self.current = max(ids, key=lambda pid: (self.dips[pid].count >= SQUATS, _size(points[here[pid]])))
            else:
                x = {pid: float(_centre(points[here[pid]])[0]) / width for pid in ids}
                pick = {"left": lambda pid: -x[pid], "right": lambda pid: x[pid],
                        "center": lambda pid: -abs(x[pid] - 0.5),
                        "largest": lambda pid: _size(points[here[pid]])}[self.rule]
                self.current = max(ids, key=pick)
        elif self.rule == "auto" and self.dips[self.current].count < SQUATS:
            squatters = [pid for pid in ids if self.dips[pid].count >= SQUATS]
            if squatters:
                self.current = squatters[0]
        return people[here[self.current]]
