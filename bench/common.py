"""Shared pieces of the benchmarks: the default clip, the bare MediaPipe loop
every ratio is taken against, timing, and the final RESULT line.

Benchmarks print ratios measured in one run, on one machine, at one moment;
they never assert times. The machine may be shared, so each side is timed a
few times, interleaved, and the fastest run of each counts (the least
disturbed one).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CLIP = REPO.parent / "shared" / "videos" / "formfit_squat.mp4"  # 255 frames, side view


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--clip", default=str(DEFAULT_CLIP), help=f"video to time (default: {DEFAULT_CLIP.name})")
    p.add_argument("--repeat", type=int, default=2, help="timed runs of each side; the fastest counts (default 2)")
    return p


def bare_loop(clip: str | Path, poses: int = 1) -> int:
    """The baseline we compare against: the fastest loop a user could write.
    Decode, BGR->RGB and PoseLandmarker.detect_for_video with the same (full)
    model and one pose, nothing else: MediaPipe then runs its person detector
    only when it loses the person. (formcheck runs its own pipeline on LiteRT
    with the detector on every frame: the price of seeing a second person and
    of a track that does not depend on where inference started.) `poses=2`
    gives the loop with MediaPipe's detector on every frame too."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from formcheck.media.model import resolve_model
    from formcheck.media.quiet import native_stderr_silenced

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model(None))),
        running_mode=vision.RunningMode.VIDEO, num_poses=poses)
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = 0
    with native_stderr_silenced():
        landmarker = vision.PoseLandmarker.create_from_options(options)
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), round(n * 1000 / fps))
            n += 1
    finally:
        landmarker.close()
        cap.release()
    return n


def warm_up() -> None:
    """Load MediaPipe's libraries and run one inference, so neither side pays the
    process's one-time start-up inside its timing."""
    import numpy as np

    from formcheck.pose.backend import create_backend

    with create_backend("mediapipe") as backend:
        backend.detect(np.zeros((64, 64, 3), np.uint8), 0)


def fastest(fn, repeat: int) -> tuple[float, object]:
    """(fastest wall time in seconds, the result of the last call)."""
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def interleaved(fns: dict, repeat: int) -> dict[str, tuple[float, object]]:
    """Time several functions in turns (a, b, a, b, ...) so a burst of load hits both alike."""
    best = {name: (float("inf"), None) for name in fns}
    for _ in range(max(1, repeat)):
        for name, fn in fns.items():
            secs, out = fastest(fn, 1)
            if secs < best[name][0]:
                best[name] = (secs, out)
    return best


def load_average() -> float:
    """The 1-minute load average, printed with each result: above the core count, ratios are noisy."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def result_line(name: str, **values) -> str:
    """The machine-readable last line: `RESULT name=... key=value ...`."""
    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v).replace(" ", "_")
    return "RESULT " + " ".join([f"name={name}"] + [f"{k}={fmt(v)}" for k, v in values.items()])


def against_bare(clip: str | Path, ours, repeat: int, poses: int = 1) -> tuple[float, float, int]:
    """(bare ms/frame, our ms/frame, our frame count) of `ours` (a callable
    returning its frame count) against the bare loop on the same clip."""
    warm_up()
    timed = interleaved({"bare": lambda: bare_loop(clip, poses), "ours": ours}, repeat)
    (t_bare, n_bare), (t_ours, n_ours) = timed["bare"], timed["ours"]
    if n_bare != n_ours:
        print(f"note: frame counts differ (bare {n_bare}, ours {n_ours}); comparing per frame")
    return 1000 * t_bare / n_bare, 1000 * t_ours / n_ours, n_ours


def whole_process(args: list[str]) -> float:
    """Wall seconds of one command in a fresh process (start-up and imports count, as for a user)."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - t0
