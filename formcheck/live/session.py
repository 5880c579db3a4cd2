"""The live session: newest frame -> pose -> online coach -> window or
terminal; at the end, the same reports as `analyze` from everything seen.

However the session ends (end of the source, `q` in the window, Ctrl-C),
the frames processed so far become a PoseTrack, run through the offline
analysis and are written out: nothing done in the session is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from formcheck.analyze import analyze_track
from formcheck.coach.faults import specs_from_config
from formcheck.coach.safety import normalize
from formcheck.errors import FormcheckError
from formcheck.live.capture import FileReader, FrameGrabber, open_source, parse_size
from formcheck.live.cues import VoiceCalls
from formcheck.live.online import SAGITTAL, OnlineCoach, RepSummary, Status
from formcheck.live.voice import Speaker
from formcheck.log import log
from formcheck.media.atomic import atomic_path, write_text
from formcheck.outputs.report import format_text
from formcheck.outputs.writers import OutputOptions, check_targets, write_outputs
from formcheck.pose.backend import create_backend
from formcheck.pose.chunks import default_workers
from formcheck.pose.blazepose import SEARCH_SQUARES
from formcheck.pose.people import LivePicker, follow
from formcheck.pose.run import TrackBuilder

WINDOW = "formcheck live"
SESSION_FILE = "live_session.json"
LIVE_PEOPLE = 4  # people read per frame when --person picks among them
LIVE_DETECT_EVERY = 3
CUE_COLOR = (40, 40, 235)  # BGR; the overlay's fault red: a cue is the one thing to read


class StopRequest:
    """Ctrl-C (or SIGTERM) asks the loop to finish cleanly; a second Ctrl-C
    interrupts even the report."""

    def __init__(self) -> None:
        self.requested = False
        self._saved: dict[int, object] = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("stopping; writing the report (Ctrl-C again to abandon it)")

    def __exit__(self, *exc) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


def draw_overlay(bgr: np.ndarray, coach: OnlineCoach, status: Status, fps: float) -> np.ndarray:
    """Skeleton, reps, phase, angles, fps and the current cue, drawn in place."""
    from formcheck.outputs.render.skeleton import (
        draw_panel,
        draw_pose,
        put_text,
        text_size,
        unit,
    )

    code = coach.cues.code if status.cue else None
    draw_pose(bgr, coach.signals.points, [s for s in coach.specs if s.code == code])
    angles = coach.values if status.view in SAGITTAL else None
    last = next((r.speed for r in reversed(coach.reps) if r.speed), None)  # the newest rep timed
    speed = f"   last {last.mean:.2f} {last.unit}/s" if last else ""
    draw_panel(bgr, angles, (), f"reps {status.reps}{speed}   {fps:4.1f} fps", status.phase)
    if status.cue:
        u = 1.6 * unit(bgr)
        w, h = text_size(status.cue.upper(), u)
        H, W = bgr.shape[:2]
        x, y = max(0, (W - w) // 2), H - round(24 * u)
        cv2.rectangle(bgr, (x - round(12 * u), y - h - round(12 * u)), (x + w + round(12 * u), y + round(12 * u)),
                      CUE_COLOR, -1)
        put_text(bgr, status.cue.upper(), (x, y), u)
    return bgr


class Window:
    """The OpenCV window; `q`, Esc or closing it ends the session."""

    def __init__(self) -> None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            # Without a display Qt aborts the whole process; say so instead.
            raise FormcheckError("no display for the live window (DISPLAY is not set): use --no-window")
        try:
            # No toolbar: nothing to click mid-set, and Qt's toolbar wants fonts a pip wheel lacks.
            cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise FormcheckError(f"cannot open the live window: {str(exc).strip().splitlines()[-1]}") from None
        self.frames_shown = 0  # frames the window was visible for, for the session log

    def show(self, img: np.ndarray) -> bool:
        """Show a frame; False when the user asked to stop."""
        cv2.imshow(WINDOW, img)
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), ord("Q"), 27):
            return False
        visible = cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) >= 1
        self.frames_shown += visible
        return visible

    def close(self) -> None:
        cv2.destroyWindow(WINDOW)
        cv2.waitKey(1)


def write_snapshot(path: str | Path, bgr: np.ndarray) -> None:
    """The image under `path` whole or not at all; its extension (checked when
    the arguments are read) picks the format."""
    with atomic_path(path, suffix=Path(path).suffix) as tmp:
        if not cv2.imwrite(str(tmp), bgr):  # OpenCV reports a failed write only by returning False
            raise FormcheckError(f"cannot write snapshot {path}")


def _rep_line(r: RepSummary) -> str:
    depth = (r.depth_class or "depth n/a").replace("_", " ")
    faults = ", ".join(f.code for f in r.faults) or "-"
    cue = f"  cue: {r.cue}" if r.cue else ""
    speed = f"  up at {r.speed.mean:.2f} {r.speed.unit}/s" if r.speed else ""  # once timed
    return f"rep {r.index:>2}  bottom {r.bottom_s:6.1f}s  {depth:<15} faults: {faults}{speed}{cue}"


def _latency_stats(ms: list[float]) -> dict:
    if not ms:
        return {"frames": 0}
    a = np.asarray(ms)
    return {"frames": len(a), "median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


def run_session(args, config: dict, options: OutputOptions) -> int:
    """A live session as the command line asked for it (`args`: the source, window, model and files),
    with the config and output options already read from it."""
    # Whatever can be checked is checked before the camera opens: a typo must
    # not cost a whole set (the symptoms are otherwise read only by the report).
    normalize(args.symptom or ())
    own_files = [(flag, Path(value)) for flag, value in (("--snapshot", args.snapshot),
                                                          ("--session-log", args.session_log),
                                                          ("--voice-out", args.voice_out)) if value]
    check_targets(options.targets() + own_files, [args.source])
    specs = specs_from_config(config)
    size = parse_size(args.size)
    # Every resource opened is closed on every path: `opened` right after the
    # frame loop, so the camera, model and window are let go before the
    # offline analysis; the scorer once its last rep is in.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="formcheck-score") as scorer, \
            contextlib.ExitStack() as opened:
        reader = open_source(args.source, size)  # fails fast without a camera
        grabber = FrameGrabber(reader)
        opened.callback(grabber.stop)  # the grabber closes the source
        window = None if args.no_window else Window()
        if window is not None:
            opened.callback(window.close)
        people = args.people or (LIVE_PEOPLE if args.person != "auto" else 1)
        # Asked to read several people: the search looks past the most prominent one (pose.blazepose), on
        # every LIVE_DETECT_EVERY-th frame, everyone followed from their own landmarks in between.
        backend = create_backend(args.backend, model=args.model, max_people=people, threads=default_workers(),
                                 detect_every=LIVE_DETECT_EVERY if people > 1 else 1)
        if people > 1 and hasattr(backend, "search"):
            backend.search = SEARCH_SQUARES
        opened.callback(backend.close)
        coach = OnlineCoach(specs, executor=scorer)
        speaker, calls = Speaker(Path(args.voice_out) if args.voice_out else None), VoiceCalls(specs)
        if args.voice_out or (config["live"]["voice"] if args.voice is None else args.voice):
            if not speaker.start():
                log.warning("%s", speaker.note)
        recorder = TrackBuilder(reader.width, reader.height)
        picker = LivePicker(args.person)
        latency_ms: list[float] = []
        source_frames: list[int] = []  # the source's frame number of each processed frame
        last_ts = -1
        shown = None
        recent: deque[float] = deque(maxlen=30)  # when the last frames were done: the fps shown
        printed: dict[int, bool] = {}  # rep -> its line is out, with its speed: one timed later gets its own
        stopped_by = "end of source"
        started = time.perf_counter()
        if not args.quiet:
            print(f"formcheck live: {reader.name} ({reader.width}x{reader.height}); "
                  + ("press q in the window or Ctrl-C to stop" if window else "Ctrl-C to stop"), file=sys.stderr)
        failure: Exception | None = None
        with StopRequest() as stop:
            grabber.start()
            try:
                while True:
                    if stop.requested:
                        stopped_by = "interrupt"
                        break
                    grab = grabber.next(timeout=0.25)
                    if grab is None:
                        if grabber.done:
                            break
                        continue
                    # VIDEO mode needs strictly increasing whole milliseconds.
                    ts = last_ts = max(int(round(grab.t * 1000)), last_ts + 1)
                    people = backend.detect(cv2.cvtColor(grab.bgr, cv2.COLOR_BGR2RGB), ts)
                    lifter = picker.pick(grab.t, people, reader.width, reader.height)
                    recorder.add(grab.t, people)
                    image, vis, pres, world = recorder.row(lifter)
                    source_frames.append(grab.index)
                    status = coach.update(grab.t, image, vis, pres, world)
                    recent.append(time.perf_counter())
                    fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
                    if window is not None or args.snapshot:
                        shown = draw_overlay(grab.bgr, coach, status, fps)
                    if window is not None and not window.show(shown):
                        stopped_by = "window"
                        break
                    for r in status.new_reps:  # with its speed when that came in first
                        print(_rep_line(r), flush=True)
                        printed[r.index] = r.speed is not None
                    for r in status.timed:  # else a moment later: the bar's rise ends after the rep is counted
                        if r.speed and printed.get(r.index) is False:
                            printed[r.index] = True
                            print(f"rep {r.index:>2}  up at {r.speed.mean:.2f} {r.speed.unit}/s", flush=True)
                    if status.new_cue and window is None:
                        print(f"[{grab.t:6.1f}s] cue: {status.new_cue}", flush=True)
                    lines, hush = calls.step(status.reps, status.phase, status.new_reps)
                    if hush:
                        speaker.hush(grab.t)
                    for text in lines:
                        speaker.say(grab.t, text)
                    latency_ms.append((time.perf_counter() - grab.captured) * 1000.0)
            except Exception as exc:  # the report of what was seen is still written, then the error shown
                failure, stopped_by = exc, "error"
            finally:
                opened.close()
            if grabber.error is not None:
                log.warning("the source failed mid-session: %s", grabber.error)
            last = coach.finish()
            for r in last:
                print(_rep_line(r), flush=True)
            end_t = float(recorder.rows["t"][-1]) if recorder.rows["t"] else 0.0
            for text in calls.step(len(coach.reps), "standing", last)[0]:  # the session ended standing
                speaker.say(end_t, text)
            voice_files = speaker.close()
            wall = time.perf_counter() - started
            extra = {"window_frames_shown": window.frames_shown} if window is not None else {}
            extra["source_frames"] = source_frames
            extra["voice"] = {"on": speaker.running, "note": speaker.note, "said": speaker.spoken,
                              "files": voice_files}
            code = _report(args, config, options, reader, coach, recorder, grabber, latency_ms, wall, stopped_by,
                           shown, extra)
    if failure is not None:
        raise failure
    return code


def _report(args, config, options, reader, coach, recorder, grabber, latency_ms, wall, stopped_by, shown,
            extra) -> int:
    """Offline analysis of everything seen, the analyze reports and the session log."""
    source_frames = extra.pop("source_frames")
    voice = extra.pop("voice")
    session = {
        "source": reader.name, "stopped_by": stopped_by, "wall_s": round(wall, 3),
        "frames_delivered": grabber.delivered, "frames_processed": len(latency_ms),
        "frames_dropped": grabber.delivered - len(latency_ms),
        "fps_processed": round(len(latency_ms) / wall, 2) if wall > 0 else 0.0,
        "source_fps": round(reader.fps, 3), "size": [reader.width, reader.height],
        "latency_ms": _latency_stats(latency_ms),
        "live_rep_count": len(coach.reps), "reps": [r.to_dict() for r in coach.reps],
        "set_up_dips": [r.to_dict() for r in coach.set_up], "cues": coach.cues.log,
        **({"voice_note": voice["note"]} if voice["note"] else {}),
        **({"spoken": voice["said"]} if voice["on"] else {}), **extra,
    }
    meta = {"live": True, "frames_dropped": session["frames_dropped"]}
    if isinstance(reader, FileReader):
        # A file stays available after the session: the pictures are drawn on
        # its frames. Frames were dropped (or resized) to keep up, so the
        # track says which file frame each row is, and the file's size.
        name = reader.name
        meta.update(source_frames=source_frames, source_size=[reader.source.width, reader.source.height])
    else:
        name = f"live: {reader.name}"  # a camera or stream cannot be read again
    t = recorder.rows["t"]
    # The rate the frames were actually processed at, not the source's.
    fps = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else reader.fps
    # The report picks by the session's rule over the whole session, as `analyze` would: live numbers people
    # as they come, while the report's numbers also join a person found again.
    track = follow(recorder.build(fps, name, meta), args.person)
    analysis = analyze_track(track, config, symptoms=args.symptom or ())
    session["offline_rep_count"] = len(analysis.complete_reps)
    written = write_outputs(analysis, options) + voice["files"]
    out = Path(args.out) if args.out else None
    log_path = Path(args.session_log) if args.session_log else (out / SESSION_FILE if out else None)
    if log_path is not None:
        write_text(log_path, json.dumps({**session, "latency_ms_per_frame": [round(v, 2) for v in latency_ms]},
                                        indent=1) + "\n")
        written.append(log_path)
    if args.snapshot and shown is not None:
        write_snapshot(args.snapshot, shown)
        written.append(Path(args.snapshot))
    lat = session["latency_ms"]
    print(f"\nLive session ({stopped_by}): {len(coach.reps)} reps, {session['frames_processed']} frames "
          f"processed at {session['fps_processed']:.1f} fps, {session['frames_dropped']} dropped; "
          f"latency median {lat.get('median_ms', 0):.0f} ms, 95th percentile {lat.get('p95_ms', 0):.0f} ms")
    for r in coach.reps:
        print("  " + _rep_line(r))
    if voice["on"]:
        said = "; ".join(f"{x['t']:.1f}s \"{x['text']}\"" + (" (cut)" if x.get("cut") else "") for x in voice["said"])
        print(f"  said: {said or 'nothing'}")
    print()
    if not options.uses_stdout:  # a data file is on stdout: keep it parseable
        sys.stdout.write(format_text(analysis, details=bool(getattr(args, 'details', False))))
    for path in written:
        log.info("wrote %s", path)
    return 0
