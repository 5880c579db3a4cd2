"""Speech for the live coach, offline: the rep count and a short cue, said
between reps.

The text-to-speech engine (pyttsx3: espeak-ng on Linux, the system's own
voices on macOS and Windows; nothing is downloaded) runs in a process of its
own and only turns a line of text into sound. This process plays the sound
(or, with an output file, lays it on a timeline written as one WAV at the
end), so the camera loop never waits for speech: asking to say something
only puts the line on a short queue. A line the lifter has started moving
again before it could be said is dropped, and a line still sounding when the
lifter starts down is cut there: the voice never talks over a descent.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from formcheck.log import log
from formcheck.media.atomic import atomic_path

RATE_WPM = 230  # words a minute: a coach's quick call, still clear with espeak-ng
QUEUE_LINES = 4  # lines waiting for sound at most; older ones are dropped first
GAP_S = 0.12  # silence between two lines: more than any pause inside a line
STARTUP_S = 20.0  # the engine's process must be ready by then
FINISH_S = 10.0  # at the end, lines still being turned into sound get this long
HOW_TO_GET = "pip install 'formcheck[voice]', and on Linux the espeak-ng package (apt install espeak-ng)"


@dataclass
class Line:
    t: float  # session time it was asked for
    text: str
    asked: float = field(default_factory=time.monotonic)  # the same moment on this process's clock
    sound: tuple[int, int, int, bytes] | None = None  # (rate, channels, sample width, frames)
    start: float | None = None  # when it began sounding, session time
    duration: float = 0.0
    cut: bool = False

    def to_dict(self) -> dict:
        return {"t": round(self.start if self.start is not None else self.t, 3), "text": self.text,
                "duration_s": round(self.duration, 3), **({"cut": True} if self.cut else {})}


def _synthesizer(requests, results) -> None:
    """The engine's process: text in, WAV frames out. The engine talks on its
    own standard output (pyttsx3 prints every file it saves), so both of this
    process's output streams go nowhere."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    try:
        import pyttsx3

        engine = pyttsx3.init()
        engine.setProperty("rate", RATE_WPM)
    except Exception as exc:  # no engine library, no espeak-ng: the session runs silent
        results.put(("error", None, f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ready", None, ""))
    with tempfile.TemporaryDirectory(prefix="formcheck-voice-") as tmp:
        path = os.path.join(tmp, "line.wav")
        for key, text in iter(requests.get, None):
            try:
                engine.save_to_file(text, path)
                engine.runAndWait()
                with wave.open(path, "rb") as w:
                    sound = (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes()))
                results.put(("sound", key, sound))
            except Exception as exc:
                results.put(("failed", key, f"{type(exc).__name__}: {exc}"))


def _player() -> list[str] | None:
    """The command that plays a WAV file here, or None (Windows plays in-process)."""
    if sys.platform == "darwin":
        return ["afplay"] if shutil.which("afplay") else None
    if sys.platform.startswith("win"):
        return []
    return ["aplay", "-q"] if shutil.which("aplay") else None


class Speaker:
    """Says lines as the session asks (`say`), hushes when the lifter moves
    (`hush`), and with `out` writes every line at its time into one WAV."""

    def __init__(self, out: Path | None = None):
        self.out = out
        self.lines: list[Line] = []  # every line asked for, in order
        self.hushes: list[float] = []  # session times the lifter started moving
        self.note = ""  # why the session runs silent, when it does
        self.thread: threading.Thread | None = None
        self.sounding: subprocess.Popen | None = None
        self.waiting: queue.Queue[Line] = queue.Queue(maxsize=QUEUE_LINES)
        self.done = threading.Event()

    def start(self) -> bool:
        """Start the engine; False (with `note` set) when there is none to be had."""
        if importlib.util.find_spec("pyttsx3") is None:
            self.note = f"no speech engine installed: {HOW_TO_GET}; this session runs silent"
            return False
        self.play = None if self.out else _player()
        if self.out is None and self.play is None:
            self.note = "no audio player found (aplay, from alsa-utils, on Linux); this session runs silent"
            return False
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
        self.requests, self.results = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=_synthesizer, args=(self.requests, self.results), daemon=True,
                                name="formcheck-voice")
        self.proc.start()
        try:
            kind, _, message = self.results.get(timeout=STARTUP_S)
        except queue.Empty:
            kind, message = "error", "it did not start in time"
        if kind != "ready":
            self.proc.join(1.0)
            self.note = f"the speech engine could not start ({message}): {HOW_TO_GET}; this session runs silent"
            return False
        self.thread = threading.Thread(target=self._run, name="formcheck-voice", daemon=True)
        self.thread.start()
        return True

    @property
    def running(self) -> bool:
        return self.thread is not None

    def say(self, t: float, text: str) -> None:
        """Queue a line; never blocks: a full queue drops its oldest line."""
        if not self.running:
            return
        line = Line(t, text)
        self.lines.append(line)
        while True:
            try:
                self.waiting.put_nowait(line)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.waiting.get_nowait()

    def hush(self, t: float) -> None:
        """The lifter started down at `t`: what is sounding stops, what waits is dropped."""
        if not self.running:
            return
        self.hushes.append(t)
        if self.sounding is not None and self.sounding.poll() is None:
            self.sounding.kill()
        if self.play == []:  # Windows: the sound plays in this process
            import winsound

            winsound.PlaySound(None, winsound.SND_PURGE)

    def _run(self) -> None:
        key = 0
        while not (self.done.is_set() and self.waiting.empty()):
            try:
                line = self.waiting.get(timeout=0.1)
            except queue.Empty:
                continue
            key += 1
            self.requests.put((key, line.text))
            while True:
                try:
                    kind, got, payload = self.results.get(timeout=FINISH_S)
                except queue.Empty:
                    kind, got, payload = "failed", key, "no sound in time"
                if got == key:
                    break
            if kind != "sound":
                log.warning("could not say %r: %s", line.text, payload)
                continue
            line.sound = _trimmed(payload)
            rate, channels, width, frames = line.sound
            line.duration = len(frames) / (rate * channels * width)
            if self.out is None:
                self._play(line)

    def _play(self, line: Line) -> None:
        if self.note or (self.hushes and self.hushes[-1] > line.t):
            return  # no working player, or the lifter moved on before it could be said
        start = line.t + time.monotonic() - line.asked  # session time it begins sounding
        with tempfile.NamedTemporaryFile(suffix=".wav", delete=False) as f:
            path = f.name
        try:
            _write_wav(Path(path), *line.sound)
            began, hushes = time.monotonic(), len(self.hushes)
            if self.play == []:
                import winsound

                winsound.PlaySound(path, winsound.SND_FILENAME)
            else:
                self.sounding = subprocess.Popen([*self.play, path], stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if self.sounding.wait() != 0 and len(self.hushes) == hushes:  # failed, not hushed
                    self.note = f"the audio player failed ({self.play[0]} exited {self.sounding.returncode}): " \
                                "no sound device? The session runs silent"
                    log.warning("%s", self.note)
                    return
            line.start = start
            line.cut = time.monotonic() - began < line.duration - 0.05
        finally:
            os.unlink(path)

    def close(self) -> list[Path]:
        """Finish the lines asked for, stop the engine; the WAV written, if one was asked for."""
        if not self.running:
            return []
        self.done.set()
        self.thread.join(FINISH_S * (1 + self.waiting.qsize()))
        self.requests.put(None)
        self.proc.join(2.0)
        if self.proc.is_alive():
            self.proc.kill()
        if self.out is None:
            return []
        self._lay_out()
        with atomic_path(self.out, suffix=".wav") as tmp:
            _write_wav(tmp, *self._timeline())
        return [self.out]

    def _lay_out(self) -> None:
        """Each line's place on the session's timeline: when it was asked for,
        after the line before; dropped when the lifter moved first, cut where
        the lifter started down while it sounded."""
        free = -float("inf")
        for line in (x for x in self.lines if x.sound is not None):
            start = max(line.t, free)
            if any(line.t < h <= start for h in self.hushes):
                continue
            end = start + line.duration
            cut = next((h for h in self.hushes if start < h < end), None)
            line.start, line.cut = start, cut is not None
            line.duration = (cut if cut is not None else end) - start
            free = start + line.duration + GAP_S

    def _timeline(self) -> tuple[int, int, int, bytes]:
        placed = [x for x in self.lines if x.start is not None]
        rate, channels, width = placed[0].sound[:3] if placed else (22050, 1, 2)
        frame = channels * width
        end = max((x.start + x.duration for x in placed), default=0.0)
        buf = bytearray(int(round(end * rate)) * frame + frame)
        for x in placed:
            at = int(round(x.start * rate)) * frame
            chunk = x.sound[3][:int(round(x.duration * rate)) * frame]
            buf[at:at + len(chunk)] = chunk
        return rate, channels, width, bytes(buf)

    @property
    def spoken(self) -> list[dict]:
        """What was said, when, for the session's report."""
        return [x.to_dict() for x in self.lines if x.start is not None]


def _trimmed(sound: tuple[int, int, int, bytes], floor: float = 0.01) -> tuple[int, int, int, bytes]:
    """The sound without the engine's silence before and after the words:
    between two reps every tenth of a second counts."""
    rate, channels, width, frames = sound
    if width != 2 or not frames:
        return sound
    import numpy as np

    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    loud = np.flatnonzero(np.abs(samples).max(axis=1) > floor * 32767)
    if len(loud) == 0:
        return sound
    return rate, channels, width, samples[loud[0]:loud[-1] + 1].tobytes()


def _write_wav(path: Path, rate: int, channels: int, width: int, frames: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)
