"""Stand-ins for the web worker's job, for tests of the queue itself (full
queue, crashed worker). They run in the server's worker processes, so they
live in a module those processes can import."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def finish(task, options, state, progress) -> dict:
    progress(stage="pose", frames_done=1, frames_total=2, progress=0.35)
    Path(task["folder"], "report.json").write_text(json.dumps({"rep_count": 0, "reps": []}))
    return {"reps": 0, "faults": []}


def wait_for_release(task, options, state, progress) -> dict:
    """Holds its worker until the test creates the file options['release']."""
    progress(stage="pose", frames_done=0, frames_total=10, progress=0.1)
    deadline = time.monotonic() + 120
    while not Path(options["release"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return finish(task, options, state, progress)


def crash(task, options, state, progress) -> dict:
    """Dies the way a native library fault or the OOM killer ends a process."""
    if task["file"].startswith("crash"):
        os._exit(3)
    return finish(task, options, state, progress)


def two_people(task, options, state, progress) -> dict:
    """A clip with two people in view; the person the task asks for is the one analysed."""
    summary = finish(task, options, state, progress)
    Path(task["folder"], "report.html").write_text("<html><head><style></style></head><body><main><p>a report"
                                                   "</p></main></body></html>")
    Path(task["folder"], "asked.txt").write_text(task.get("person", "auto"))
    analysed = 1 if task.get("person", "auto") == "auto" else int(task["person"])
    return {**summary, "people": {"analysed": analysed, "sentence": "",
                                  "people": [{"id": 1, "where": "on the left", "squats": True},
                                             {"id": 2, "where": "on the right", "squats": False}]}}
