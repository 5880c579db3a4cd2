"""Cleaning and smoothing of landmark signals.

Each filter works on one 1-D signal with NaN gaps and returns a new array of
the same length. FILTERS maps a name to the smoothing filter, so the
recorded-video path (zero-phase Butterworth) and the live path (causal One
Euro) are a config choice, not a code fork.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np


def finite_runs(x: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of finite values."""
    ok = np.isfinite(x).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok, [0]))))
    return list(zip(edges[::2], edges[1::2]))


def fill_gaps(x: np.ndarray, t: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate NaN gaps no longer than max_gap_s; longer gaps stay NaN
    (a long dropout is missing data, not something to invent)."""
    x = np.asarray(x, dtype=float).copy()
    runs = finite_runs(x)
    for (_, a_end), (b_start, _) in zip(runs, runs[1:]):
        left, right = a_end - 1, b_start
        if t[right] - t[left] <= max_gap_s + 1e-9:
            x[left + 1:right] = np.interp(t[left + 1:right], [t[left], t[right]], [x[left], x[right]])
    return x


def hampel(x: np.ndarray, half_window: int = 3, n_sigmas: float = 3.0) -> np.ndarray:
    """Replace isolated outliers (a landmark jumping for a frame or two) by the
    local median. Robust: the median and MAD ignore the outlier itself."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 3:
        return x.copy()
    pad = np.pad(x, half_window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(pad, 2 * half_window + 1)
    with warnings.catch_warnings():  # all-NaN windows (dropouts) are expected here
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(windows, axis=1)
        mad = 1.4826 * np.nanmedian(np.abs(windows - med[:, None]), axis=1)
    out = x.copy()
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(x) & (np.abs(x - med) > n_sigmas * np.maximum(mad, 1e-9)) & (mad > 0)
    out[bad] = med[bad]
    return out


def butterworth(x: np.ndarray, t: np.ndarray, cutoff_hz: float = 6.0, order: int = 2) -> np.ndarray:
    """Zero-phase low-pass (filtfilt), run on each finite stretch separately.

    The cut-off is kept below 0.4 x the sampling rate, so a 10 fps clip is
    still filtered sensibly instead of raising."""
    from scipy.signal import butter, filtfilt  # on first use, as in reps

    x = np.asarray(x, dtype=float)
    out = x.copy()
    if len(t) < 2:
        return out
    fs = 1.0 / float(np.median(np.diff(t)))
    wn = min(cutoff_hz, 0.4 * fs) / (fs / 2.0)
    b, a = butter(order, wn)
    min_len = 3 * (max(len(a), len(b)) + 1)
    for start, stop in finite_runs(x):
        if stop - start > min_len:
            out[start:stop] = filtfilt(b, a, x[start:stop])
    return out


class OneEuro:
    """Causal One Euro filter (Casiez et al. 2012): little lag when the signal
    moves fast, strong smoothing when it is still. Used for live video."""

    def __init__(self, min_cutoff: float = 1.5, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x_prev: float | None = None
        self.dx_prev = 0.0
        self.t_prev = 0.0

    @staticmethod
    def _alpha(cutoff: float, dt: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: float, t: float) -> float:
        if not math.isfinite(x):
            return x  # a dropout passes through; the state waits for the next value
        if self.x_prev is None or t <= self.t_prev:
            self.x_prev, self.t_prev = x, t
            return x
        dt = t - self.t_prev
        dx = (x - self.x_prev) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self.dx_prev
        cutoff = self.min_cutoff + self.beta * abs(dx_hat)
        a = self._alpha(cutoff, dt)
        x_hat = a * x + (1 - a) * self.x_prev
        self.x_prev, self.dx_prev, self.t_prev = x_hat, dx_hat, t
        return x_hat


def one_euro(x: np.ndarray, t: np.ndarray, min_cutoff: float = 1.5, beta: float = 0.05) -> np.ndarray:
    f = OneEuro(min_cutoff=min_cutoff, beta=beta)
    return np.array([f(float(v), float(ti)) for v, ti in zip(x, t)])


def no_filter(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float).copy()


FILTERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "butterworth": butterworth,
    "one_euro": one_euro,
    "none": no_filter,
}


def clean_signal(x: np.ndarray, t: np.ndarray, smoother: str = "butterworth",
                 max_gap_s: float = 0.25) -> np.ndarray:
    """The standard chain: outliers out, short gaps filled, then smoothed."""
    return FILTERS[smoother](fill_gaps(hampel(x), t, max_gap_s), t)


LENGTH_WINDOW_S = 8.0  # segment lengths follow zooms and camera moves on this time scale


def seen_length(a: np.ndarray, b: np.ndarray, t: np.ndarray, window_s: float = LENGTH_WINDOW_S) -> np.ndarray:
    """Segment length in pixels as the camera sees it around each frame: a high
    percentile over a few seconds, so it follows zooms and camera moves but
    not the foreshortening of a bent leg at the bottom of a rep."""
    d = np.linalg.norm(a - b, axis=1)
    n = len(d)
    if n == 0 or not np.isfinite(d).any():
        return np.full(n, np.nan)
    fps = (n - 1) / max(float(t[-1] - t[0]), 1e-6) if n > 1 else 1.0
    half = max(1, int(window_s * fps / 2))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(d, half, constant_values=np.nan), 2 * half + 1)
    with warnings.catch_warnings():  # windows inside a long dropout are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanpercentile(windows, 95, axis=1)
    # Where a whole window is missing, fall back to the clip's typical length.
    return np.where(np.isfinite(out), out, np.nanmedian(d))
