"""The frames the live coach keeps: what counting a rep and scoring it look back at."""

from __future__ import annotations

import math

import numpy as np

from formcheck.pose.track import PoseTrack


class FrameHistory:
    """The last `keep_s` seconds of frames (landmarks, time, causal hip
    height), by stream index: frame i of the stream sits at row i - first."""

    def __init__(self, keep_s: float):
        self.keep_s = keep_s
        self.first = 0
        self.n = 0  # frames seen
        self.rows: dict[str, list] = {k: [] for k in ("t", "image", "vis", "pres", "world", "h")}

    def append(self, t: float, image: np.ndarray, vis: np.ndarray, pres: np.ndarray, world: np.ndarray) -> None:
        """A new frame; its hip height, NaN until known, is rows["h"][-1]."""
        for values, v in zip(self.rows.values(), (t, image, vis, pres, world, math.nan)):
            values.append(v)
        self.n += 1
        cut = 0
        while cut < len(self.rows["t"]) - 1 and self.rows["t"][cut] < t - self.keep_s:
            cut += 1
        if cut > 256:  # trim in batches: deleting from a list's front is linear
            for values in self.rows.values():
                del values[:cut]
            self.first += cut

    def arr(self, key: str, a: int, b: int) -> np.ndarray:
        """Rows for stream indices a..b inclusive."""
        return np.asarray(self.rows[key][max(a, self.first) - self.first:b - self.first + 1])

    def track(self, a: int, b: int) -> PoseTrack:
        """Frames a..b inclusive as a pose track, for the offline metrics."""
        return PoseTrack(t=self.arr("t", a, b), image=self.arr("image", a, b), visibility=self.arr("vis", a, b),
                         presence=self.arr("pres", a, b), world=self.arr("world", a, b), fps=30.0, width=1, height=1)
