"""Pictures of an Analysis: annotated video, key frames, plots, HTML report.

Plain analysis never imports this package; the CLI imports it only when the
user asks for a picture, so the encoder and matplotlib stay off the fast path.

What the video and the key frames share lives here: the frames of the
original video (or blank stand-ins when it is gone), the rep and phase of
every frame, and where in time each fault shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from formcheck.metrics import heel_rise, knee_stop, onsets

SHOW_AROUND_BOTTOM_S = 0.25  # bottom-phase faults stay on screen a little longer than the phase
BLANK_GREY = 40  # stand-in frames: dark enough for white lines and text
BLANK_NOTE = "blank frame: original video not available"  # drawn on each stand-in frame


@dataclass
class SourceFrames:
    """Exactly `track.frames` upright BGR frames matching the pose track.

    `note` says why the original video is not used (empty when it is); the
    frames are then blank, so the drawing still lines up with the track.
    """

    track: object
    note: str = field(default="", init=False)

    def __post_init__(self) -> None:
        from formcheck.errors import FormcheckError
        from formcheck.video import VideoSource

        tr, path = self.track, self.track.source
        # A clip the pose layer turned upright is drawn turned the same way.
        meta = tr.meta if isinstance(getattr(tr, "meta", None), dict) else {}
        turn = meta.get("turn", 0)
        self.turn = turn if turn in (0, 90, 180, 270) else 0
        # A live session on a file keeps only some of its frames, maybe
        # resized: the file frame of each track row, and the file's size.
        rows = meta.get("source_frames")
        self.rows = list(rows) if isinstance(rows, list) and len(rows) == tr.frames else None
        size = meta.get("source_size")
        self.file_size = tuple(size) if isinstance(size, list) and len(size) == 2 else (tr.width, tr.height)
        if not path or not Path(path).is_file():
            self.note = f"original video not available ({Path(path).name or 'no path'}): drawn on a blank frame"
            return
        try:
            with VideoSource(path, turn=self.turn) as src:
                size = (src.width, src.height)
        except FormcheckError as exc:
            self.note = f"original video unreadable ({exc}): drawn on a blank frame"
            return
        if size != self.file_size:
            # Another file under the same name: its pixels would not line up with the landmarks.
            self.note = (f"the video is {size[0]}x{size[1]} but the pose track is "
                         f"{self.file_size[0]}x{self.file_size[1]}: drawn on a blank frame")

    def blank(self) -> np.ndarray:
        return np.full((self.track.height, self.track.width, 3), BLANK_GREY, np.uint8)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        n = self.track.frames
        i = 0
        if not self.note:
            from formcheck.video import VideoSource

            import cv2

            size = (self.track.width, self.track.height)
            with VideoSource(self.track.source, turn=self.turn) as src:
                for frame in src.frames():
                    if i >= n:
                        break
                    if self.rows is not None and frame.index != self.rows[i]:
                        continue  # a frame the live session dropped
                    bgr = frame.bgr
                    if bgr.shape[1::-1] != size:
                        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                    yield i, bgr
                    i += 1
        for j in range(i, n):  # a video shorter than its track: keep the track's length
            yield j, self.blank()

    def pick(self, indices) -> dict[int, np.ndarray]:
        """The frames at `indices`, read in one pass (decoders seek unreliably)."""
        wanted = set(int(i) for i in indices)
        out: dict[int, np.ndarray] = {}
        last = max(wanted, default=-1)
        for i, bgr in self:
            if i in wanted:
                out[i] = bgr.copy()
            if i >= last:
                break
        return out


def frame_status(analysis) -> list[tuple[int | None, str]]:
    """Per frame: (rep position among all reps or None, phase name)."""
    n = analysis.track.frames
    status: list[tuple[int | None, str]] = [(None, "standing")] * n
    for k, r in enumerate(analysis.reps):
        rep = r.rep
        for i in range(rep.start, min(rep.end, n - 1) + 1):
            phase = "descent" if i < rep.descent_end else "bottom" if i <= rep.ascent_start else "ascent"
            status[i] = (k, phase)
    return status


def status_text(analysis, k: int | None, i: int) -> str:
    """`rep 2 of 4` inside a rep; the count of finished reps outside."""
    reps = analysis.reps
    if k is not None:
        r = reps[k].rep
        return f"rep {r.index + 1} of {len(reps)}" + (" (partial)" if r.partial else "")
    done = sum(1 for r in reps if r.rep.end < i)
    return f"reps done: {done} of {len(reps)}"


def _band(analysis, code: str) -> float | None:
    rule = next((r for r in analysis.rules if r.code == code), None)
    return float(rule.bands[0]) if rule else None


def series(analysis, name: str) -> np.ndarray:
    """A per-frame signal by name. Heel rise is measured per rep (against the
    moments before each rep), so outside reps it is NaN."""
    sig = analysis.signals
    if name != "heel_rise":
        return getattr(sig, name)
    out = np.full(len(sig.t), np.nan)
    previous_end = 0
    for r in analysis.reps:
        out[r.rep.start:r.rep.end + 1] = heel_rise(sig, r.rep, previous_end)
        previous_end = r.rep.end
    return out


def _knee_stop(sig, rep) -> int:
    stop = knee_stop(sig, rep)
    return rep.bottom if stop is None else stop


def _onsets(analysis, k: int) -> tuple[int, int] | None:
    """Frames where hip and knee flexion start in rep k (hip_first's evidence)."""
    sig, rep = analysis.signals, analysis.reps[k].rep
    previous_end = analysis.reps[k - 1].rep.end if k else 0
    t_hip, t_knee = onsets(sig, rep, previous_end)
    if not (np.isfinite(t_hip) and np.isfinite(t_knee)):
        return None
    return int(np.searchsorted(sig.t, t_hip)), int(np.searchsorted(sig.t, t_knee))


def _around_bottom(analysis, rep) -> tuple[int, int]:
    pad = int(round(SHOW_AROUND_BOTTOM_S * analysis.track.fps))
    return max(rep.start, rep.descent_end - pad), min(rep.end, rep.ascent_start + pad)


def _rep_frames(analysis, k: int, code: str) -> np.ndarray:
    """Frame indices of rep k where `code` is visible, given the rep has it."""
    sig, rep = analysis.signals, analysis.reps[k].rep
    span = np.arange(rep.start, rep.end + 1)
    band = _band(analysis, code)
    with np.errstate(invalid="ignore"):
        if code == "forward_lean" and band is not None:
            return span[sig.trunk[span] >= band]
        if code == "heel_lift" and band is not None:
            return span[series(analysis, "heel_rise")[span] >= band]
        if code == "butt_wink":
            stop = _knee_stop(sig, rep)
            after = np.arange(stop, rep.ascent_start + 1)
            gain = sig.hip_flexion[after] - sig.hip_flexion[stop]
            # Half the rule's threshold: the tuck builds over a few frames, show it while it does.
            return after[gain >= 0.5 * (band or 10.0)]
        if code == "hip_first":
            on = _onsets(analysis, k)
            return np.arange(on[0], max(on[0], on[1]) + 1) if on else np.arange(0)
    a, b = _around_bottom(analysis, rep)  # depth, knee travel and anything newer: the bottom
    return np.arange(a, b + 1)


def fault_frames(analysis) -> dict[str, np.ndarray]:
    """Fault code -> boolean per frame: where the video shows that fault.
    Only reps in which the rule fired show it, so the video agrees with the table."""
    n = analysis.track.frames
    out: dict[str, np.ndarray] = {}
    if analysis.signals is None:
        return out
    for k, r in enumerate(analysis.reps):
        for f in r.faults:
            mask = out.setdefault(f["code"], np.zeros(n, bool))
            idx = _rep_frames(analysis, k, f["code"])
            mask[idx[(idx >= 0) & (idx < n)]] = True
    return out


# Where each fault is worst inside its worst rep: (signal, window, pick the max?),
# the same windows its metric reads. Others (knee travel) show the rep's bottom.
WORST = {
    "forward_lean": ("trunk", "ascent", True),
    "heel_lift": ("heel_rise", "bottom", True),
    "shallow_depth": ("hip_above_knee", "bottom", False),  # the lowest point, still too high
}


def worst_moment(analysis, code: str) -> tuple[int, int] | None:
    """(rep position, frame index) where a clip-level fault is worst: the
    complete rep with the most extreme rule metric, then the frame inside it."""
    rule = next((r for r in analysis.rules if r.code == code), None)
    cands = [k for k, r in enumerate(analysis.reps)
             if not r.rep.partial and any(f["code"] == code for f in r.faults)]
    if not cands or analysis.signals is None:
        return None

    def score(k: int) -> float:
        m = analysis.reps[k].metrics.get(rule.metric) if rule else None
        v = m.value if m is not None and m.value is not None else np.nan
        return (v if rule.above else -v) if np.isfinite(v) else -np.inf

    k = max(cands, key=score)
    sig, rep = analysis.signals, analysis.reps[k].rep
    if code == "hip_first":
        on = _onsets(analysis, k)
        return k, (on[1] if on else rep.start)  # knees about to move, hips already have
    if code == "butt_wink":
        a, b = _knee_stop(sig, rep), rep.ascent_start
        x, biggest = sig.hip_flexion[a:b + 1], True
    elif code in WORST:
        name, window, biggest = WORST[code]
        a, b = (rep.ascent_start, rep.end) if window == "ascent" else (rep.descent_end, rep.ascent_start)
        x = series(analysis, name)[a:b + 1]
    else:
        return k, rep.bottom
    if not np.isfinite(x).any():
        return k, rep.bottom
    return k, a + int(np.nanargmax(x) if biggest else np.nanargmin(x))
