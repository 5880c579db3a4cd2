"""What a web worker process does: the pose and analysis path of `batch`,
with the frames done reported back so the page can show progress.

This module is what a worker imports first; it stays free of the web
framework so workers load only the pose and analysis code.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from formcheck.errors import FormcheckError

# The files of one analysis, named by us. report.* are what `analyze --out` writes.
REPORT_JSON, REPORT_CSV, POSE, REPORT_HTML, ANNOTATED = (
    "report.json", "report_reps.csv", "report_pose.npz", "report.html", "annotated.mp4")
# Share of the progress bar that pose inference fills; rendering the video and the report take the rest.
POSE_SHARE = 0.7
PROGRESS_EVERY_S = 0.25


def warm(options: dict, state: dict) -> None:
    """Load the model once per worker, as batch's pool initializer does."""
    from formcheck.coach.config import load_config
    from formcheck.pose import PoseSettings
    from formcheck.pose.backend import ReusedBackend

    settings = PoseSettings()
    state.update(settings=settings, config=load_config(options.get("config")),
                 backend=ReusedBackend(options["model"], settings))


class _Counted:
    """The worker's backend, counting frames as they go through it."""

    def __init__(self, inner, tick):
        self.inner, self.tick = inner, tick

    def detect(self, rgb, timestamp_ms):
        self.tick()
        return self.inner.detect(rgb, timestamp_ms)

    @property
    def search(self) -> int:
        return self.inner.search

    @search.setter
    def search(self, value: int) -> None:  # the pose run says how far per clip (pose.run.search_level)
        self.inner.search = value

    def next_clip(self) -> None:
        self.inner.next_clip()

    def close(self) -> None:  # the worker owns the model; a clip must not close it
        pass


def run_job(task: dict, options: dict, state: dict, progress) -> dict:
    """Analyse one upload and write its reports next to it; the summary the history lists."""
    from formcheck.analyze import analyze_track
    from formcheck.media.video import VideoSource
    from formcheck.outputs.writers import OutputOptions, write_outputs
    from formcheck.pose.extract import extract_track, require_person
    from formcheck.pose.people import follow
    from formcheck.pose.track import PoseTrack

    if "backend" not in state:
        warm(options, state)
    folder = Path(task["folder"])
    video = folder / task["video"]
    with VideoSource(video) as src:
        total = src.frame_count
    done = [0, 0.0]

    def tick() -> None:
        done[0] += 1
        now = time.monotonic()
        if now - done[1] >= PROGRESS_EVERY_S:
            done[1] = now
            share = min(done[0] / total, 1.0) if total else 0.0
            progress(stage="pose", frames_done=done[0], frames_total=max(total, done[0]),
                     progress=round(POSE_SHARE * share, 4))

    person = task.get("person", "auto")
    progress(stage="pose", frames_done=0, frames_total=total, progress=0.0)
    if person != "auto" and (folder / POSE).is_file():  # another person of an analysed clip: no new inference
        track = PoseTrack.load(folder / POSE)
        track.source = str(video)
    else:
        state["backend"].next_clip()
        track = extract_track(video, model=options["model"], settings=state["settings"],
                              use_cache=not options.get("no_cache"), quiet=True,
                              backend=_Counted(state["backend"], tick), warn=False)
    require_person(track, task["file"])
    track = follow(track, person)
    track.meta["shown_as"] = task["file"]  # the reports name the lifter's file, never our folder
    progress(stage="analysis", frames_done=track.frames, frames_total=track.frames, progress=POSE_SHARE)
    analysis = analyze_track(track, state["config"], symptoms=task["symptoms"])
    progress(stage="rendering", progress=POSE_SHARE + 0.05)
    write_outputs(analysis, OutputOptions(json=folder / REPORT_JSON, csv=folder / REPORT_CSV,
                                          html=folder / REPORT_HTML, video_out=folder / ANNOTATED))
    track.save(folder / POSE)  # re-analysis without inference, as after `analyze --out`
    faults = analysis.faults
    people = analysis.people
    return {"reps": len(analysis.complete_reps), "faults": [f.code for f in faults],
            "view": analysis.view.kind, "duration_s": round(track.duration, 2),
            "warnings": list(analysis.warnings),
            # Whom the report follows, and everyone the page lets the user pick instead.
            "people": {"analysed": people.analysed, "sentence": people.sentence(),
                       "people": [{"id": p.id, "where": p.where, "squats": p.squats} for p in people.people]}
            if people is not None and len(people.people) > 1 else None}


def worker_main(conn, options: dict, work, warm_up) -> None:
    """A worker's life: prepare once, then analyse what the dispatcher sends until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it stops us
    state: dict = {}
    unusable = ""
    if warm_up:
        try:
            warm_up(options, state)
        except FormcheckError as exc:  # e.g. a model file that cannot load: every job says so
            unusable = str(exc)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        job_id = task["id"]
        inside = str(Path(task["folder"]) / task["video"])

        def progress(**kw) -> None:
            try:
                conn.send(("progress", job_id, kw))
            except OSError:  # the server closed its end: it is stopping
                raise _ServerGone from None

        try:
            if unusable:
                raise FormcheckError(unusable)
            reply = ("done", job_id, work(task, options, state, progress))
        except _ServerGone:
            return
        except Exception as exc:  # one upload's problem never ends the worker
            text = str(exc) if isinstance(exc, FormcheckError) else f"internal error: {type(exc).__name__}: {exc}"
            # The lifter knows the file by the name they sent, not by our folder.
            reply = ("failed", job_id, {"error": text.replace(inside, task["file"])})
        try:
            conn.send(reply)
        except OSError:
            return


class _ServerGone(Exception):
    """The dispatcher's end of the pipe is closed: the worker just stops."""
