"""Live mode: fps and latency from frame capture to on-screen cue at 640x480,
with a clip played at real-time pace as a webcam would deliver it. Goal:
>= 25 fps and a median latency under 100 ms.

The clip is letterboxed to 640x480 and resampled to a steady 30 fps (looped
to --seconds), then run through `formcheck live` twice: in the terminal
(--no-window) and with the OpenCV window (on $DISPLAY, or a private Xvfb
when there is none; skipped when neither exists). The bare MediaPipe loop on
the same frames, unpaced, is the ceiling the live loop is compared with.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from common import bare_loop, fastest, load_average, parser, result_line, warm_up

SIZE = (640, 480)
FPS = 30.0
GOAL_FPS, GOAL_MEDIAN_MS = 25.0, 100.0


def make_clip(src: str, dst: Path, seconds: float) -> int:
    """Letterbox `src` into 640x480 at a steady 30 fps, looping it to `seconds`."""
    import cv2
    import numpy as np

    from formcheck.media.video import VideoSource

    with VideoSource(src) as source:
        frames = [(f.t, f.bgr) for f in source.frames()]
    t0, duration = frames[0][0], frames[-1][0] - frames[0][0] + 1.0 / FPS
    h, w = frames[0][1].shape[:2]
    scale = min(SIZE[0] / w, SIZE[1] / h)
    nw, nh = round(w * scale), round(h * scale)
    x, y = (SIZE[0] - nw) // 2, (SIZE[1] - nh) // 2
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    n, k = round(seconds * FPS), 0
    canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for i in range(n):
        t = t0 + (i / FPS) % duration
        while k + 1 < len(frames) and frames[k + 1][0] <= t:
            k += 1
        if frames[k][0] > t:  # looped back to the start
            k = 0
        canvas[:] = 0
        canvas[y:y + nh, x:x + nw] = cv2.resize(frames[k][1], (nw, nh), interpolation=cv2.INTER_AREA)
        writer.write(canvas)
    writer.release()
    return n


def run_live(clip: Path, log: Path, window: bool, people: int = 1, extra: tuple[str, ...] = ()) -> dict:
    from formcheck.cli.main import main

    args = ["live", "--source", str(clip), "--session-log", str(log), "--people", str(people), "-q"] \
        + ([] if window else ["--no-window"]) + list(extra)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(args)
    if code != 0:
        raise SystemExit(f"formcheck live failed ({code})")
    return json.loads(log.read_text())


@contextlib.contextmanager
def display():
    """$DISPLAY if set, else a private Xvfb; yields None when there is neither."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        yield None
        return
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = xvfb.stdout.readline().strip()
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield os.environ["DISPLAY"] if number else None
    finally:
        del os.environ["DISPLAY"]
        xvfb.terminate()
        xvfb.wait(timeout=10)


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="length of the paced session (default 20)")
    args = p.parse_args()
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "live_640x480.mp4"
        n = make_clip(args.clip, clip, args.seconds)
        t_bare, _ = fastest(lambda: bare_loop(clip), args.repeat)
        bare_ms = 1000 * t_bare / n
        runs = {"terminal": run_live(clip, Path(tmp) / "terminal.json", window=False)}
        with display() as shown:
            if shown:
                runs["window"] = run_live(clip, Path(tmp) / "window.json", window=True)
        runs["terminal, 2 people"] = run_live(clip, Path(tmp) / "two.json", window=False, people=2)
        # Speech: the engine's own process and the voice thread, sound laid on a file (no speakers here).
        runs["terminal, voice"] = run_live(clip, Path(tmp) / "voice.json", window=False,
                                           extra=("--voice-out", str(Path(tmp) / "voice.wav")))
    ceiling = min(FPS, 1000 / bare_ms)
    print(f"{Path(args.clip).name} letterboxed to {SIZE[0]}x{SIZE[1]} at {FPS:.0f} fps, {n} frames "
          f"({args.seconds:.0f} s, real-time pace); load {load_average():.2f}")
    print(f"  bare MediaPipe loop, 2 people, unpaced: {bare_ms:.1f} ms/frame = {1000 / bare_ms:.1f} fps "
          f"(ceiling for a {FPS:.0f} fps source: {ceiling:.1f} fps)")
    print(f"  {'live mode':19s} {'fps':>5s} {'/ceiling':>8s} {'dropped':>8s} {'median':>7s} {'p95':>6s} {'max':>6s} {'reps':>5s}")
    for mode, s in runs.items():
        lat = s["latency_ms"]
        print(f"  {mode:19s} {s['fps_processed']:5.1f} {s['fps_processed'] / ceiling:8.2f} "
              f"{s['frames_dropped'] / max(1, s['frames_delivered']):8.0%} {lat['median_ms']:5.0f}ms "
              f"{lat['p95_ms']:4.0f}ms {lat['max_ms']:4.0f}ms {s['live_rep_count']:>2d}/{s['offline_rep_count']:<2d}")
    if "window" not in runs:
        print("  window: skipped (no $DISPLAY and no Xvfb)")
    key = runs.get("window", runs["terminal"])
    met = key["fps_processed"] >= GOAL_FPS and key["latency_ms"]["median_ms"] < GOAL_MEDIAN_MS
    print("  latency: frame capture to the frame shown with its cue (window) or the cue decided (terminal);"
          " reps: live/offline on the same frames; live looks for 1 person unless said")
    print(f"  goal >= {GOAL_FPS:.0f} fps and median < {GOAL_MEDIAN_MS:.0f} ms ({'window' if 'window' in runs else 'terminal'}): "
          f"{'met' if met else 'NOT met'}")
    t, w = runs["terminal"], runs.get("window", {})
    print(result_line("live_latency", clip=Path(args.clip).name, size=f"{SIZE[0]}x{SIZE[1]}",
                      fps=key["fps_processed"], median_ms=key["latency_ms"]["median_ms"],
                      p95_ms=key["latency_ms"]["p95_ms"], terminal_fps=t["fps_processed"],
                      terminal_median_ms=t["latency_ms"]["median_ms"], terminal_p95_ms=t["latency_ms"]["p95_ms"],
                      window=bool(w), bare_fps=1000 / bare_ms, ratio=key["fps_processed"] / ceiling,
                      goal_met=met, load=load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
