"""Plots of an analysis as PNG bytes: the key signals over the clip with the
reps marked, each rep's curve overlaid on 0-100% of the rep, and one plot
per fault of the signal it is judged on.

Figures are built on matplotlib's Agg canvas directly, never through
pyplot, so rendering does not switch the backend of a program that imports
formcheck (a notebook, a GUI).
"""

from __future__ import annotations

import functools
import io

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from formcheck.kinematics.signals import SIGNAL_LABELS
from formcheck.outputs.render import series

OK_COLOR, FAULT_COLOR = "#1f77b4", "#d62728"
# The clip plots' signals; hip flexion is the tuck proxy's signal.
KEY_SIGNALS = ("trunk", "knee_flexion", "hip_height", "hip_flexion")


# Large type on narrow figures: a 400-pixel phone shows a 600-pixel plot at
# 0.6 of its size, and 13 pt at 100 dpi is 18 px, so text stays at 10 px or more.
STYLE = {"font.size": 13, "axes.titlesize": 13, "axes.labelsize": 13, "xtick.labelsize": 12,
         "ytick.labelsize": 12, "legend.fontsize": 12, "figure.titlesize": 13}
WIDE = 6.0  # inches (600 px): the widest figure, so phones scale plots down little


def _styled(plot):
    """Build the figure under STYLE without touching the caller's matplotlib settings."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return plot(*args, **kwargs)
    return wrapper


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _has(r, code: str | None) -> bool:
    return r.findings[code].is_fault if code else bool(r.faults)


def _mark_reps(ax, analysis, code: str | None, t0: float, numbers: bool) -> None:
    """Shade each rep: red when it has the fault (any fault if code is None), grey otherwise."""
    t = analysis.track.t
    for r in analysis.reps:
        a, b = t[r.rep.start] - t0, t[r.rep.end] - t0
        bad = _has(r, code)
        ax.axvspan(a, b, color=FAULT_COLOR if bad else "0.5", alpha=0.13 if bad else 0.08, lw=0,
                   hatch="//" if r.rep.partial else None)
        ax.axvline(t[r.rep.bottom] - t0, color="0.4", lw=0.6, ls=":")
        if numbers:
            ax.text((a + b) / 2, 1.02, str(r.rep.index + 1) + ("*" if r.rep.partial else ""),
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=13,
                    color=FAULT_COLOR if bad else "0.3", fontweight="bold" if bad else "normal")


def _thresholds(ax, specs, signal: str) -> None:
    """The mild band of each fault judged per frame on `signal`, as a dashed line."""
    drawn = False
    for spec in specs:
        if spec.threshold_line and spec.plot[:1] == (signal,):
            ax.axhline(spec.bands[0], color=FAULT_COLOR, lw=1, ls="--", label=f"{spec.label} threshold")
            drawn = True
    if drawn:
        ax.legend(loc="best", framealpha=0.8)


def _empty(message: str) -> bytes:
    fig = Figure(figsize=(WIDE, 2))
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="0.3")
    return _png(fig)


@_styled
def timeline_png(analysis) -> bytes:
    """The four key signals over the clip; reps shaded, faulty ones red, rep numbers on top."""
    sig = analysis.signals
    if sig is None:
        return _empty("no person found: nothing to plot")
    t0 = float(sig.t[0])
    fig = Figure(figsize=(WIDE, 8.5), layout="constrained")
    axes = fig.subplots(len(KEY_SIGNALS), 1, sharex=True)
    for n, (ax, name) in enumerate(zip(axes, KEY_SIGNALS)):
        ax.plot(sig.t - t0, series(analysis, name), color="0.15", lw=1.4)
        _mark_reps(ax, analysis, None, t0, numbers=n == 0)
        if name == "trunk":  # the clip's main back-load signal carries its threshold here too
            _thresholds(ax, analysis.specs, name)
        ax.set_ylabel(SIGNAL_LABELS[name])
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    title = "Key signals\nreps shaded; red: a fault; *: partial"
    if sig.view.kind == "front":  # the angles assume a side view; only hip height holds
        title += "\nfront view: angles are not meaningful, hip height is"
    fig.suptitle(title)
    return _png(fig)


@_styled
def rep_overlay_png(analysis) -> bytes:
    """Each complete rep's curve on 0-100% of the rep, so reps compare shape for shape."""
    sig = analysis.signals
    reps = analysis.complete_reps
    if sig is None or not reps:
        return _empty("no complete reps to compare")
    fig = Figure(figsize=(WIDE, 6.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    # One colour per rep, early to late, so fatigue shows as a drift; faulty reps solid.
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.85, len(reps)))
    for ax, name in zip(axes, KEY_SIGNALS):
        x_all = series(analysis, name)
        for r, color in zip(reps, colors):
            rep = r.rep
            y = x_all[rep.start:rep.end + 1]
            pct = np.linspace(0, 100, len(y))
            bad = bool(r.faults)
            ax.plot(pct, y, color=color, lw=1.8 if bad else 1.3, ls="-" if bad else "--",
                    label=f"rep {rep.index + 1}" + (" (fault)" if bad else ""))
            b = rep.bottom - rep.start
            ax.plot(pct[b], y[b], "o", ms=4, color=color)
        ax.set_title(SIGNAL_LABELS[name])
        ax.set_xlim(0, 100)
        ax.grid(alpha=0.3)
    for ax in axes[2:]:
        ax.set_xlabel("% of rep")
    if len(reps) <= 10:
        axes[0].legend(frameon=False)
    fig.suptitle("Rep by rep\nsolid: a fault; dashed: clean; dot: bottom")
    return _png(fig)


@_styled
def fault_png(analysis, code: str) -> bytes:
    """The signal(s) a fault is judged on, over the clip; reps with that fault shaded."""
    sig = analysis.signals
    if sig is None:
        return _empty("no person found: nothing to plot")
    t0 = float(sig.t[0])
    fig = Figure(figsize=(WIDE, 3.8), layout="constrained")
    ax = fig.subplots()
    spec = analysis.spec(code)
    signals = spec.plot or ("hip_height",)
    for name, style in zip(signals, ("-", "--")):
        ax.plot(sig.t - t0, series(analysis, name), color="0.15", lw=1.4, ls=style, label=SIGNAL_LABELS[name])
    _mark_reps(ax, analysis, code, t0, numbers=True)
    ax.set_ylabel(SIGNAL_LABELS[signals[0]] if len(signals) == 1 else "degrees")
    ax.set_xlabel("time (s)")
    ax.grid(alpha=0.3)
    if len(signals) > 1:
        ax.legend(loc="best", framealpha=0.8)
    _thresholds(ax, [spec], signals[0])
    return _png(fig)


@_styled
def speed_png(analysis) -> bytes:
    """Each complete rep's mean concentric bar speed; the set's stopping line
    (the fastest rep's speed less the loss threshold) dashed."""
    sp = analysis.speed
    reps = [r for r in analysis.complete_reps if r.speed is not None]
    if sp is None or not reps:
        return _empty("no bar speeds to plot")
    unit = f"{reps[0].speed.unit}/s"
    fig = Figure(figsize=(WIDE, 3.6), layout="constrained")
    ax = fig.subplots()
    n = [r.rep.index + 1 for r in reps]
    late = [sp.stop_after is not None and k > sp.stop_after for k in n]
    ax.bar(n, [r.speed.mean for r in reps], color=[FAULT_COLOR if x else OK_COLOR for x in late], width=0.6)
    line = sp.fastest_mean * (1 - sp.threshold)
    ax.axhline(line, color="0.3", ls="--", lw=1.2)
    ax.text(0.99, line, f"{sp.threshold:.0%} slower than rep {sp.fastest}", transform=ax.get_yaxis_transform(),
            ha="right", va="bottom", fontsize=11, color="0.3", bbox={"fc": "white", "ec": "none", "alpha": 0.8})
    ax.set_xticks(n)
    ax.set_xlabel("rep")
    ax.set_ylabel(f"mean concentric speed ({unit})")
    ax.set_ylim(0, max(r.speed.mean for r in reps) * 1.25)
    ax.grid(axis="y", alpha=0.3)
    title = "Bar speed per rep"
    if sp.stop_after is not None:
        title += f"\nred: reps after rep {sp.stop_after}, where the set could have stopped"
    fig.suptitle(title)
    return _png(fig)
