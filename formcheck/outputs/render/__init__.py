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

from formcheck.kinematics.metrics import heel_rise

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
        from formcheck.media.video import VideoSource

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
            import cv2

            from formcheck.media.video import VideoSource

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


def series(analysis, name: str) -> np.ndarray:
    """A per-frame signal by name. Heel rise is measured per rep (against the
    moments before each rep), so outside reps it is NaN."""
    sig = analysis.signals
    if name != "heel_rise":
        return getattr(sig, name)
    out = np.full(len(sig.t), np.nan)
    for r in analysis.reps:
        out[r.rep.start:r.rep.end + 1] = heel_rise(sig, r.rep)
    return out


def _shown(spec, metric) -> np.ndarray:
    """Frame indices where a fault a rep has is visible: the frames of the
    span its metric judged whose value reaches the mild band, or the whole
    span when the metric is one number for the span (a lag, a time)."""
    if metric.span is None:
        return np.arange(0)
    span = np.arange(metric.span[0], metric.span[1] + 1)
    if metric.trace is None or len(metric.trace) != len(span):
        return span
    with np.errstate(invalid="ignore"):
        hit = span[spec.passes(metric.trace)]
    return hit if len(hit) else span


def fault_frames(analysis) -> dict[str, np.ndarray]:
    """Fault code -> boolean per frame: where the video shows that fault.
    Only reps in which the fault was found show it, so the video agrees with the table."""
    n = analysis.track.frames
    out: dict[str, np.ndarray] = {}
    if analysis.signals is None:
        return out
    for r in analysis.reps:
        for f in r.faults:
            spec = analysis.spec(f.code)
            idx = _shown(spec, r.metrics[spec.metric])
            out.setdefault(f.code, np.zeros(n, bool))[idx[(idx >= 0) & (idx < n)]] = True
    return out


def worst_moment(analysis, code: str) -> tuple[int, int] | None:
    """(rep position, frame index) where a clip-level fault is worst: the
    complete rep with the most extreme metric, then that metric's worst frame."""
    spec = analysis.spec(code)
    cands = [k for k, r in enumerate(analysis.reps) if not r.rep.partial and r.findings[code].is_fault]
    if not cands or analysis.signals is None:
        return None

    def score(k: int) -> float:
        v = analysis.reps[k].metrics[spec.metric].value
        return (v if spec.above else -v) if v is not None and np.isfinite(v) else -np.inf

    k = max(cands, key=score)
    worst = analysis.reps[k].metrics[spec.metric].worst
    return k, (analysis.reps[k].rep.bottom if worst is None else worst)
