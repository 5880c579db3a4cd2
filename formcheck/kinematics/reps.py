"""Rep segmentation: squats are dips of the hip-height signal.

A dip counts as a rep when it is deep enough relative to the clip's range of
motion, far enough from the last one, the knees really bend (a hinge to pick
something up keeps them nearly straight), and the hips come back up towards
standing before the next dip (hysteresis: a bounce or a pause at the bottom
does not split a rep). A dip the clip cuts off is kept but marked partial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.kinematics.filters import fill_gaps

HIP_HEIGHT_RANGE = (0.0, 1.3)  # leg lengths: hips between the ankles and a little over standing height


@dataclass(frozen=True)
class RepSettings:
    min_depth: float = 0.12  # hip drop in leg lengths; a quarter squat drops ~0.15
    rel_prominence: float = 0.35  # ...and at least this share of the clip's deepest dip
    min_spacing_s: float = 0.8  # nobody squats faster than this, bottom to bottom
    min_width_s: float = 0.3  # a dip narrower than this at half depth is a tracking glitch
    despike_s: float = 0.2  # running-median window against glitches of a few frames
    return_fraction: float = 0.7  # hips must rise back this share of the way to standing between reps
    phase_fraction: float = 0.1  # start/end: within 10% of the dip from the standing level
    bottom_fraction: float = 0.05  # the bottom phase: within 5% of the dip from the lowest point
    plateau_fraction: float = 0.02  # the bottom is the middle of the frames within 2% of the lowest
    cutoff_fraction: float = 0.2  # a rep is whole when the hips rise back to within 20% of standing
    min_knee_flexion: float = 40.0  # degrees; less is a hinge, not a squat (side views)
    # Any other view: the knee's bend in the world landmarks (3D, so no
    # foreshortening; a 5-frame running median against single-frame jumps)
    # must change by this much over the rep. A quarter squat bends the knees
    # about 45 degrees from standing; a hinge, a sway or a lifter standing
    # still (a re-encoded clip's noise) change them far less. On the shared
    # clips, dips without a squat changed it 16-30 degrees, the shallowest
    # real front-view squats 45-53.
    min_knee_range_world: float = 40.0
    rel_depth: float = 0.4  # a dip under 40% of the clip's deepest rep is set-up, not a rep
    # A rep ends back near standing: the hips at least this high over the
    # ankles, in leg lengths. Standing reads 0.9-1.0 on real clips and the
    # labeled reps' tops 0.82 or more; pulses in the bottom half of a squat
    # stay near 0.5-0.7. Dips between which the hips never get this high are
    # one rep, and a dip with no standing on either side is no rep at all.
    standing_height: float = 0.75
    # A clip that starts partway down its first rep still shows that rep when
    # at least this share of its descent, the bottom and the ascent are in it;
    # only what needs the start of the descent (hips-first, time down) is lost.
    joined_share: float = 0.2


@dataclass
class Rep:
    index: int
    start: int  # frame indices
    descent_end: int  # start of the bottom phase
    bottom: int
    ascent_start: int  # end of the bottom phase
    end: int
    partial: bool
    depth: float  # hip drop, leg lengths
    joined: bool = False  # the clip starts partway down this rep: its descent's start is not seen
    after: int = 0  # the frame the previous rep ended at: this rep's lead-in never reaches before it

    def times(self, t: np.ndarray) -> dict:
        return {"start_s": float(t[self.start]), "bottom_s": float(t[self.bottom]),
                "end_s": float(t[self.end]), "descent_end_s": float(t[self.descent_end]),
                "ascent_start_s": float(t[self.ascent_start])}


def walk_up_to(s: np.ndarray, i: int, step: int, level: float, stop: int) -> int:
    """From i, walk in direction `step` to the first frame at or above `level`
    (NaN frames never are), or to `stop`."""
    j = i
    while j != stop and not s[j] >= level:
        j += step
    return j


def bottom_phase(s: np.ndarray, bottom: int, floor: float, start: int, end: int) -> tuple[int, int]:
    """(first, last) frame of the bottom phase: the frames around `bottom`
    that stay under `floor`, inside start..end."""
    first = walk_up_to(s, bottom, -1, floor, start) + 1
    last = walk_up_to(s, bottom, +1, floor, end) - 1
    return min(first, bottom), max(last, bottom)  # the phase always holds the bottom itself


def segment_reps(t: np.ndarray, hip_height: np.ndarray, knee_bend: np.ndarray | None = None,
                 settings: RepSettings = RepSettings(), knee_bend_world: np.ndarray | None = None) -> list[Rep]:
    """Reps from the hip height. A dip counts only with a squat's knee bend:
    `knee_bend` (the picture's angle, trusted side-on) must reach
    min_knee_flexion, or else `knee_bend_world` (3D) must change by
    min_knee_range_world."""
    n = len(t)
    if n < 3:
        return []
    # Hips below the ankles or far above standing height are a tracking
    # failure (the skeleton snapping onto something else), never a squat:
    # dropped before they can stretch the clip's range of motion.
    with np.errstate(invalid="ignore"):
        plausible = (hip_height >= HIP_HEIGHT_RANGE[0]) & (hip_height <= HIP_HEIGHT_RANGE[1])
    s = fill_gaps(np.where(plausible, hip_height, np.nan), t, max_gap_s=1.0)
    if np.isfinite(s).sum() < 3:
        return []
    # SciPy is loaded on first use: `formcheck --help` builds its parser from
    # modules that reach this one, and SciPy would take most of its second.
    from scipy.signal import find_peaks, medfilt

    s = np.where(np.isfinite(s), s, np.nanmax(s))  # long gaps: treat as standing, never as a dip
    fps = (n - 1) / max(t[-1] - t[0], 1e-6)
    # A running median removes tracking glitches (a few frames of a wildly
    # wrong hip) that would otherwise pose as deep, narrow dips. The ends are
    # padded with their own values: zero padding would pull the clip's first
    # and last frames down into a dip that is not there.
    kernel = max(3, int(settings.despike_s * fps) | 1)
    if n > kernel:
        half = kernel // 2
        s = medfilt(np.pad(s, half, mode="edge"), kernel)[half:-half]
    top, low = np.percentile(s, 95), np.percentile(s, 1)
    rom = top - low
    if rom < settings.min_depth:
        return []
    prominence = max(settings.min_depth, settings.rel_prominence * rom)
    # Prominence is judged against the larger side so a rep cut off by the clip's end counts.
    # Width before spacing: a glitch must not push a real rep aside.
    idx, _ = find_peaks(-s, prominence=(prominence, None), width=settings.min_width_s * fps)
    candidates = _space_out(s, [int(i) for i in idx], settings.min_spacing_s * fps)
    # A dip at the very end (clip stops in the hole) has no right base: find_peaks misses it.
    tail_len = min(n, max(3, int(fps)))
    tail = int(np.argmin(s[-tail_len:])) + n - tail_len
    if top - s[tail] >= settings.min_depth and (not candidates or tail - candidates[-1] > settings.min_spacing_s * fps) \
            and s[tail] <= s[-1] + 1e-9:
        candidates.append(tail)
    candidates = _merge_without_return(s, candidates, top, settings)
    # Hips that never come near standing on either side of a dip: pulses, not reps.
    candidates = [c for k, c in enumerate(candidates)
                  if max(np.max(s[candidates[k - 1] if k else 0:c + 1]),
                         np.max(s[c:candidates[k + 1] + 1 if k + 1 < len(candidates) else n])) >= settings.standing_height]
    world = None
    if knee_bend is None and knee_bend_world is not None:
        world = knee_bend_world.astype(float).copy()
        seen = np.isfinite(world)
        if seen.sum() >= 5:
            world[seen] = medfilt(world[seen], 5)

    reps: list[Rep] = []
    for k, b in enumerate(candidates):
        left_stop = candidates[k - 1] if k else 0
        right_stop = candidates[k + 1] if k + 1 < len(candidates) else n - 1
        top_before = float(np.max(s[left_stop:b + 1]))
        top_after = float(np.max(s[b:right_stop + 1]))
        ref = max(top_before, top_after)
        depth = ref - s[b]
        if depth < settings.min_depth:
            continue
        band = settings.phase_fraction * depth
        start = walk_up_to(s, b, -1, top_before - band, left_stop)
        end = walk_up_to(s, b, +1, top_after - band, right_stop)
        # Cut off by the clip: the last dip whose hips never got most of the
        # way back up, or a first dip the clip starts at the bottom of. A rep
        # the clip joins partway down still shows its bottom and ascent.
        seen_down = top_before - s[b]
        partial = (k == len(candidates) - 1 and top_after - s[b] < (1 - settings.cutoff_fraction) * depth) or \
            (k == 0 and seen_down < settings.joined_share * depth)
        joined = k == 0 and not partial and seen_down < (1 - settings.phase_fraction) * depth
        d_end, a_start = bottom_phase(s, b, s[b] + settings.bottom_fraction * depth, start, end)
        # The bottom is the middle of the bottom phase: a pause or a flat,
        # noisy minimum has no single lowest frame worth trusting.
        core = np.flatnonzero(s[d_end:a_start + 1] <= s[b] + settings.plateau_fraction * depth)
        b = d_end + (int(core[0]) + int(core[-1])) // 2 if len(core) else b
        if knee_bend is not None and np.isfinite(knee_bend[start:end + 1]).any():
            if np.nanmax(knee_bend[start:end + 1]) < settings.min_knee_flexion:
                continue  # a hinge: hips dropped but the knees stayed straight
        elif world is not None and np.isfinite(world[start:end + 1]).sum() >= 3:
            if np.nanmax(world[start:end + 1]) - np.nanmin(world[start:end + 1]) < settings.min_knee_range_world:
                continue  # hips dipped, knees did not bend: no squat
        reps.append(Rep(len(reps), start, d_end, b, a_start, end, bool(partial), float(depth), bool(joined)))
    if reps:
        deepest = max(r.depth for r in reps)
        reps = [r for r in reps if r.partial or r.depth >= settings.rel_depth * deepest]
        for i, r in enumerate(reps):
            r.index = i
            r.after = reps[i - 1].end if i else 0
    return reps


def _space_out(s: np.ndarray, cands: list[int], min_gap: float) -> list[int]:
    """Of two bottoms closer than the minimum spacing keep the lower one."""
    kept: list[int] = []
    for c in cands:
        if kept and c - kept[-1] < min_gap:
            if s[c] < s[kept[-1]]:
                kept[-1] = c
            continue
        kept.append(c)
    return kept


def _merge_without_return(s: np.ndarray, cands: list[int], top: float, settings: RepSettings) -> list[int]:
    """Keep one bottom per rep: if the hips do not rise back at least
    `return_fraction` of the way to standing between two bottoms, nor to
    `standing_height`, they belong to one rep (a bounce, a wobble in a pause,
    pulses in the hole); keep the lower one."""
    merged: list[int] = []
    for c in cands:
        if merged:
            p = merged[-1]
            lower = min(s[p], s[c])
            peak = np.max(s[p:c + 1])
            if peak < lower + settings.return_fraction * (top - lower) or peak < settings.standing_height:
                if s[c] < s[p]:
                    merged[-1] = c
                continue
        merged.append(c)
    return merged
