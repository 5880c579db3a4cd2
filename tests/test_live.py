"""Live mode: the online core on synthetic and recorded tracks, real clips
through the whole live path at real-time pace, Ctrl-C mid-session, a missing
camera, and the window under Xvfb.

The recorded-track test replays every labeled clip's cached pose track
through the online coach (no model, fast) and prints the live vs offline
table with `pytest -s`.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.analyze import analyze_track
from formcheck.cli.main import main
from formcheck.coach.config import load_config
from formcheck.coach.faults import specs_from_config
from formcheck.live.capture import FrameGrabber, open_source
from formcheck.live.online import CueBoard, OnlineCoach
from formcheck.pose.track import PoseTrack
from formcheck.pose.simulate import PRESETS, simulate

AGREEMENT_FLOOR = 0.9  # live and offline agree on at least 90% of the labeled clips; measured 0.91 (32 of 35)
REALTIME_CLIPS = ["evk_good_side01.mp4", "evk_lean_side01.mp4", "dnly09_gf_1_goodform.mp4",
                  "hackdartmouth_squat.mp4", "ogata_good_0922_000003.mp4", "kham_perfect_demo.mp4"]
REPO = Path(__file__).resolve().parent.parent
BONE_BGR = (90, 230, 120)  # the skeleton's green (formcheck.outputs.render.skeleton.BONE)


def replay(track: PoseTrack, coach: OnlineCoach | None = None) -> OnlineCoach:
    coach = coach or OnlineCoach(specs_from_config(load_config()))
    for i in range(track.frames):
        coach.update(track.t[i], track.image[i], track.visibility[i], track.presence[i], track.world[i])
    coach.finish()
    return coach


def offline_reps(track: PoseTrack) -> int:
    return len(analyze_track(track).complete_reps)


# -- the online core, no model --------------------------------------------------

@pytest.mark.parametrize("preset", ["clean", "front_view", "forward_lean", "limited_ankle", "shallow"])
def test_synthetic_reps_counted_with_all_phases(preset):
    track, truth = simulate(reps=4, **PRESETS[preset])
    coach = OnlineCoach(specs_from_config(load_config()))
    phases = []
    for i in range(track.frames):
        phases.append(coach.update(track.t[i], track.image[i], track.visibility[i]).phase)
    coach.finish()
    assert len(coach.reps) == len(truth.rep_bottom_s) == 4
    for r, bottom in zip(coach.reps, truth.rep_bottom_s):
        assert abs(r.bottom_s - bottom) < 0.25
    # standing -> descent -> bottom -> ascent, in that order, in every rep
    order = [p for k, p in enumerate(phases) if k == 0 or p != phases[k - 1]]
    assert "".join(p[0] for p in order).count("sdba") >= 4


@pytest.mark.parametrize("preset, cue", [("forward_lean", "chest up"), ("limited_ankle", "knees forward"),
                                         ("shallow", "sit deeper"), ("heel_lift", "heels down"),
                                         ("clean", None)])
def test_synthetic_faults_give_their_cue(preset, cue):
    coach = replay(simulate(reps=3, **PRESETS[preset])[0])
    said = {c["cue"] for c in coach.cues.log}
    assert cue in said if cue else not said


def test_hinge_setup_and_cut_off_rep_are_not_counted():
    assert len(replay(simulate(reps=3, hinge_pickup=True)[0]).reps) == 3
    assert len(replay(simulate(reps=3, walk_in_s=2.0)[0]).reps) == 3
    track, truth = simulate(reps=3, partial_last=True)
    assert len(replay(track).reps) == len(truth.rep_bottom_s)


def test_causal_a_prefix_sees_what_the_whole_run_saw():
    track, _ = simulate(reps=4, noise_px=2.0, dropout_frac=0.03, seed=3)
    full, counts = OnlineCoach(), []
    for i in range(track.frames):
        counts.append(full.update(track.t[i], track.image[i], track.visibility[i]).reps)
    for cut in (track.frames // 3, track.frames // 2, 4 * track.frames // 5):
        part = OnlineCoach()
        for i in range(cut):
            status = part.update(track.t[i], track.image[i], track.visibility[i])
        assert status.reps == counts[cut - 1]


@pytest.mark.parametrize("lost", [(45, 63), (0, 20), (150, 400)])
def test_frames_without_a_person_count_as_offline(lost):
    """A dropout mid-descent (bridged), at the start, and to the end of the session."""
    track, _ = simulate(reps=3)
    a, b = lost
    for arr in (track.image, track.visibility, track.presence, track.world):
        arr[a:b] = np.nan
    assert len(replay(track).reps) == offline_reps(track)


def test_cue_board_one_cue_at_a_time_with_cool_down():
    board = CueBoard(cooldown_s=3.0, hold_s=2.0, specs=specs_from_config(load_config()))
    assert board.offer(10.0, "forward_lean") == "chest up"
    assert board.offer(11.0, "heel_lift") is None  # cooling down
    assert board.current(11.5) == "chest up" and board.current(12.5) is None
    assert board.offer(13.0, "heel_lift") == "heels down"
    assert [c["cue"] for c in board.log] == ["chest up", "heels down"]


def test_every_fault_rule_has_a_short_cue():
    specs = specs_from_config(load_config())
    assert all(s.cue.strip() and len(s.cue.split()) <= 4 for s in specs)


def _grey_clip(path: Path, frames: int = 20, fps: float = 20.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for k in range(frames):
        writer.write(np.full((48, 64, 3), k * 10, np.uint8))
    writer.release()
    return path


def _not_early(grabs, start: float, fps: float = 20.0) -> bool:
    """Every frame was handed out no sooner than its moment in the stream
    (frame k at k / fps after `start`). A slow machine only makes frames
    later, so this holds whatever the machine's speed; 10 ms for clock slack."""
    return all(g.captured >= start + g.index / fps - 0.01 for g in grabs)


def test_file_source_paces_at_real_time_and_keeps_only_the_newest(tmp_path):
    start = time.perf_counter()
    grabber = FrameGrabber(open_source(str(_grey_clip(tmp_path / "clip.avi")))).start()
    got = []
    while not grabber.done:
        grab = grabber.next(timeout=0.5)
        if grab is None:
            continue
        got.append(grab)
        # A consumer slower than the source, by construction rather than by a
        # sleep: it comes back only once two newer frames have arrived.
        while grabber.delivered < grab.index + 3 and not grabber.finished:
            time.sleep(0.005)
    grabber.stop()
    index = [g.index for g in got]
    assert grabber.delivered == 20 and index[-1] == 19  # the newest frame is never lost
    # The frames in between were dropped, not queued (the last may follow at once: the source ended).
    assert all(b - a >= 2 for a, b in zip(index, index[1:-1]))
    assert grabber.dropped == 20 - len(got) > 0
    assert all(abs(g.t - g.index / 20) < 1e-6 for g in got)  # the file's own timestamps
    assert _not_early(got, start)  # played at real-time pace, not as fast as it decodes


def test_stream_url_plays_at_real_time(tmp_path):
    import functools
    import http.server

    _grey_clip(tmp_path / "clip.avi")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no request log on the test's stderr
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.perf_counter()
        grabber = FrameGrabber(open_source(f"http://127.0.0.1:{server.server_port}/clip.avi")).start()
        got = []
        while not grabber.done:
            grab = grabber.next(timeout=0.5)
            if grab is not None:
                got.append(grab)
        grabber.stop()
    finally:
        server.shutdown()
    assert grabber.delivered == 20 and len(got) + grabber.dropped == 20
    assert all(abs(g.t - g.index / 20) < 1e-3 for g in got)  # timed by the stream, not by the wall clock
    assert _not_early(got, start)


class _StalledReader:
    """A stream whose read() hangs until let go, like a stalled URL."""

    def __init__(self) -> None:
        self.reading, self.release, self.closed = threading.Event(), threading.Event(), threading.Event()
        self.in_read = self.closed_during_read = False

    def read(self, stop):
        self.in_read = True
        self.reading.set()
        self.release.wait(30)
        self.in_read = False
        return 0, 0.0, np.zeros((4, 4, 3), np.uint8)

    def close(self) -> None:
        self.closed_during_read |= self.in_read
        self.closed.set()


def test_stalled_source_is_closed_by_its_own_thread_not_under_a_read():
    reader = _StalledReader()
    grabber = FrameGrabber(reader).start()
    assert reader.reading.wait(30)
    grabber.stop(timeout=0.01)  # gives up waiting while the thread is still inside read()
    assert not reader.closed.is_set()
    reader.release.set()
    assert reader.closed.wait(30) and not reader.closed_during_read
    assert grabber.delivered == 0  # a frame read after stop() is not handed out


def test_grabber_never_started_still_closes_its_source():
    reader = _StalledReader()
    FrameGrabber(reader).stop()
    assert reader.closed.is_set() and not reader.reading.is_set()


def test_file_source_resized_on_request(tmp_path):
    reader = open_source(str(_grey_clip(tmp_path / "clip.avi")), (32, 24))
    try:
        assert (reader.width, reader.height) == (32, 24)
        _, _, bgr = reader.read(threading.Event())
        assert bgr.shape == (24, 32, 3)
    finally:
        reader.close()


def test_window_without_a_display_is_one_clear_line(tmp_path, capsys, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("the DISPLAY check is for Linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["live", "--source", str(_grey_clip(tmp_path / "clip.avi"))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--no-window" in err[0]


def test_unknown_symptom_fails_before_the_session(tmp_path):
    clip, out = _grey_clip(tmp_path / "clip.avi"), tmp_path / "out"
    proc = _start(["--source", str(clip), "--no-window", "--out", str(out), "--symptom", "headache"])
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    err = stderr.strip().splitlines()
    assert len(err) == 1 and "unknown symptom 'headache'" in err[0] and "Traceback" not in stderr
    assert stdout == "" and not out.exists()  # no frame was processed, nothing written


def test_snapshot_type_is_checked_with_the_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["live", "--source", str(tmp_path / "missing.avi"), "--no-window", "--snapshot", "last.gif"])
    assert exit_.value.code == 2
    assert "--snapshot" in capsys.readouterr().err


def test_snapshot_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from formcheck.errors import FormcheckError
    from formcheck.live import session

    img = np.full((24, 32, 3), 200, np.uint8)
    session.write_snapshot(tmp_path / "a" / "last.JPG", img)
    assert cv2.imread(str(tmp_path / "a" / "last.JPG")).shape == img.shape
    monkeypatch.setattr(session.cv2, "imwrite", lambda *a: False)
    with pytest.raises(FormcheckError, match="cannot write snapshot"):
        session.write_snapshot(tmp_path / "b" / "last.png", img)
    assert list((tmp_path / "b").iterdir()) == []  # no file, not even the temporary one


def test_bad_model_closes_the_window_and_the_source(tmp_path, capsys, monkeypatch):
    from formcheck.live import session

    opened = []

    class FakeWindow:
        def __init__(self):
            self.closed = False
            opened.append(self)

        def close(self):
            self.closed = True

    real_open = session.open_source

    def spy_open(*a):
        reader = real_open(*a)
        close = reader.close
        reader.closed = False

        def spy_close():
            reader.closed = True
            close()

        reader.close = spy_close
        opened.append(reader)
        return reader

    monkeypatch.setattr(session, "Window", FakeWindow)
    monkeypatch.setattr(session, "open_source", spy_open)
    clip = _grey_clip(tmp_path / "clip.avi")
    assert main(["live", "--source", str(clip), "--model", str(tmp_path / "none.task")]) == 2
    assert "pose model not found" in capsys.readouterr().err
    assert len(opened) == 2 and all(r.closed for r in opened)


def test_no_camera_is_one_clear_line(capsys):
    if Path("/dev/video7").exists():
        pytest.skip("a camera exists at index 7")
    assert main(["live", "--source", "7", "--no-window"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot open camera 7" in err[0]


# -- recorded tracks of every labeled clip, no model --------------------------------

@pytest.fixture(scope="module")
def counted(labels, real_track):
    """(clip, label, offline reps, live reps, live right, offline right) for every labeled clip."""
    rows = []
    for name in sorted(labels):
        track = real_track(name)
        live, offline = len(replay(track).reps), offline_reps(track)
        ok = labels[name].get("reps_ok", [labels[name]["reps"]])
        rows.append((name, labels[name]["reps"], offline, live, live in ok, offline in ok))
    print(f"\n{'clip':40s} {'label':>5s} {'offline':>7s} {'live':>4s}")
    for name, lab, off, live, *_ in rows:
        print(f"{name:40s} {lab:>5d} {off:>7d} {live:>4d}{'' if live == off else '   <- differs'}")
    return rows


@pytest.mark.real
def test_online_rep_count_matches_offline_on_labeled_clips(counted):
    agree = np.mean([r[3] == r[2] for r in counted])
    print(f"live = offline on {agree:.0%} of {len(counted)} clips")
    assert agree >= AGREEMENT_FLOOR


@pytest.mark.real
@pytest.mark.xfail(strict=True, reason="the offline count now follows the lifter through a crowded gym (kavya_squats "
                                       "3 of 3) and the live counter, given the same track, does not yet: 1 there, "
                                       "where the detector loses the lifter for over a second at a time; and as "
                                       "before 2 of 4 on gymbuddy_squat, 6 of 5 on joelo_landmine_squat")
def test_where_live_and_offline_differ_live_is_not_the_worse_counter(counted):
    live_right, offline_right = sum(r[4] for r in counted), sum(r[5] for r in counted)
    print(f"matches the label: live {live_right}, offline {offline_right}")
    assert live_right >= offline_right - 1


# -- the whole live path on real clips ----------------------------------------------

def _session(out: Path) -> dict:
    return json.loads((out / "live_session.json").read_text())


@pytest.mark.real
def test_live_path_at_real_time_matches_offline(videos, real_track, tmp_path):
    results = []
    for name in REALTIME_CLIPS:
        out = tmp_path / Path(name).stem
        assert main(["live", "--source", str(videos / name), "--no-window", "--out", str(out), "-q"]) == 0
        s = _session(out)
        report = json.loads((out / "report.json").read_text())
        results.append((name, s["live_rep_count"], offline_reps(real_track(name)), s))
        # Latency is logged per processed frame, capture to cue/output.
        assert len(s["latency_ms_per_frame"]) == s["frames_processed"] > 0
        assert s["frames_processed"] + s["frames_dropped"] == s["frames_delivered"]
        assert report["rep_count"] == s["offline_rep_count"]
        assert PoseTrack.load(out / "report_pose.npz").frames == s["frames_processed"]
        assert (out / "report_reps.csv").is_file()
    print(f"\n{'clip':32s} {'live':>4s} {'offline':>7s} {'fps':>5s} {'dropped':>7s} {'lat med':>7s} {'p95':>5s}")
    for name, live, off, s in results:
        lat = s["latency_ms"]
        print(f"{name:32s} {live:>4d} {off:>7d} {s['fps_processed']:>5.1f} {s['frames_dropped']:>7d} "
              f"{lat['median_ms']:>7.0f} {lat['p95_ms']:>5.0f}")
    assert all(live == off for _, live, off, _ in results)


def _start(args: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, **kw.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "formcheck", "live", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _printed(proc: subprocess.Popen, text: str, timeout: float = 60.0) -> bool:
    """Whether the session prints `text` on stderr within `timeout` seconds.
    A thread reads the pipe, so a session that prints nothing cannot hang the test."""
    import queue
    import threading

    lines: queue.Queue = queue.Queue()

    def pump() -> None:  # stops at the line looked for, leaving the rest to communicate()
        for line in iter(proc.stderr.readline, ""):
            lines.put(line)
            if text in line:
                return

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in lines.get(timeout=max(0.01, deadline - time.monotonic())):
                return True
        except queue.Empty:
            break
    proc.kill()
    proc.wait()
    return False


def _wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 60.0) -> None:
    if not _printed(proc, text, timeout):
        raise AssertionError(f"session never printed {text!r}")


@pytest.mark.real
def test_ctrl_c_mid_session_still_writes_the_full_report(videos, tmp_path):
    clip = videos / "joelo_landmine_squat.mp4"  # 22 s: long enough to interrupt in the middle
    out = tmp_path / "out"
    proc = _start(["--source", str(clip), "--no-window", "--out", str(out)])
    _wait_for_line(proc, "Ctrl-C to stop")
    time.sleep(9.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    s = _session(out)
    assert s["stopped_by"] == "interrupt"
    total = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert 0 < s["frames_delivered"] < total
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "formcheck.report/1" and report["rep_count"] >= 1
    assert PoseTrack.load(out / "report_pose.npz").frames == s["frames_processed"]
    assert (out / "report_reps.csv").read_text().count("\n") == len(report["reps"]) + 1
    assert (out / "report.html").is_file()
    assert re.search(r"\d+ reps?\b", stdout) and "Live session (interrupt)" in stdout


# -- the window, under a virtual display ----------------------------------------------

def _xvfb(fbdir: Path):
    """A private Xvfb whose screen is also a file (-fbdir): a screen shot
    without any X client tools."""
    if shutil.which("Xvfb") is None:
        pytest.skip("window test needs Xvfb (Debian: apt-get install xvfb)")
    proc = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-fbdir", str(fbdir),
                             "-nolisten", "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = proc.stdout.readline().strip()
    if not number:
        proc.kill()
        pytest.skip("Xvfb did not start")
    return proc, f":{number}"


def _screen(fbdir: Path) -> np.ndarray:
    """The Xvfb screen as BGR, from its XWD frame-buffer file."""
    data = (fbdir / "Xvfb_screen0").read_bytes()
    head = np.frombuffer(data[:80], ">u4")
    header_size, width, height, byte_order, bpp, bpl, ncolors = (int(head[k]) for k in (0, 4, 5, 7, 11, 12, 19))
    assert bpp == 32
    start = header_size + 12 * ncolors
    px = np.frombuffer(data[start:start + height * bpl], np.uint8).reshape(height, bpl)[:, :4 * width]
    px = px.reshape(height, width, 4)
    return np.ascontiguousarray(px[..., :3] if byte_order == 0 else px[..., 3:0:-1])


def _has_skeleton(img: np.ndarray) -> bool:
    bone = np.all(np.abs(img.astype(int) - BONE_BGR) <= 12, axis=2)
    return int(bone.sum()) > 50


def _session_on_screen(args: list[str], display: str, env: dict, fbdir: Path) -> tuple[np.ndarray, bool]:
    """Run a windowed live session on `display`: the screen seen with the
    skeleton on it (else the first one seen), and whether the window was
    found by its name (always False without the X tools)."""
    proc = _start(args, env={"DISPLAY": display})
    if not _printed(proc, "press q in the window"):
        # Opening a Qt window on a fresh virtual display has been seen to
        # stall once in a while; a second stall is a real failure.
        proc.kill()
        proc = _start(args, env={"DISPLAY": display})
        _wait_for_line(proc, "press q in the window")
    # Watched for as long as the session runs, so a slow run cannot end it
    # before a look: the window by name (when the X tools are there) and
    # the latest screen with the skeleton on it.
    xwininfo, named, screen = shutil.which("xwininfo"), False, None
    deadline = time.monotonic() + 120  # a guard against a hung session only
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
        current = _screen(fbdir)
        if screen is None or _has_skeleton(current):
            screen = current
        if xwininfo and not named:
            tree = subprocess.run([xwininfo, "-root", "-tree"], env=env, capture_output=True, text=True).stdout
            named = '"formcheck live"' in tree
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    return (screen if screen is not None else _screen(fbdir)), named


@pytest.mark.real
def test_window_opens_under_xvfb_and_shows_the_overlay(videos, tmp_path):
    fbdir = tmp_path / "fb"
    fbdir.mkdir()
    xvfb, display = _xvfb(fbdir)
    env = {**os.environ, "DISPLAY": display}
    try:
        assert not _has_skeleton(_screen(fbdir))  # an empty screen to start with
        # A window that drew every frame has once left a fresh virtual screen
        # black throughout (its snapshot had the skeleton): one more session
        # then, into files of its own; a second black screen is a real failure.
        for attempt in range(2):
            out, snap = tmp_path / f"out{attempt}", tmp_path / f"last_frame{attempt}.png"
            args = ["--source", str(videos / "evk_lean_side01.mp4"), "--out", str(out), "--snapshot", str(snap)]
            screen, named = _session_on_screen(args, display, env, fbdir)
            if _has_skeleton(screen):
                break
        assert named or not shutil.which("xwininfo")
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    shot = tmp_path / "screen.png"
    cv2.imwrite(str(shot), screen)
    assert _has_skeleton(screen), f"no skeleton on the virtual screen (see {shot})"
    assert _has_skeleton(cv2.imread(str(snap)))
    s = _session(out)
    assert s["window_frames_shown"] == s["frames_processed"] > 0
    keep = os.environ.get("FORMCHECK_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


# -- the file a live session ran on is its original video --------------------------

def _numbered_clip(path: Path, n: int = 12) -> Path:
    """Frame k is a flat grey of 20 * k: each frame tells which it is."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"crf": "0"}  # lossless: the grey levels survive
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * k, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_frames_dropped_and_resized_in_a_session_map_back_to_the_file(tmp_path):
    from formcheck.outputs.render import SourceFrames

    clip = _numbered_clip(tmp_path / "set.mp4")
    kept = [0, 1, 3, 4, 7, 11]  # the frames a slow machine processed
    track = PoseTrack.empty(len(kept), 10.0, 32, 24, str(clip))
    track.meta.update(live=True, source_frames=kept, source_size=[64, 48])
    frames = SourceFrames(track)
    assert frames.note == ""
    got = list(frames)
    assert [i for i, _ in got] == list(range(len(kept)))
    assert all(bgr.shape == (24, 32, 3) for _, bgr in got)  # resized to the track, as in the session
    assert [round(float(bgr.mean()) / 20) for _, bgr in got] == kept


@pytest.mark.real
def test_live_on_a_file_draws_on_the_file(videos, tmp_path, capsys):
    """--source FILE: the key frames and the annotated video use the file's
    own frames, even when frames were resized (and dropped) to keep up."""
    from formcheck.outputs.render import SourceFrames

    out = tmp_path / "out"
    clip = videos / "mlsac_no_depth.mp4"  # 240x426, a shallow-depth fault: the report has a key frame
    assert main(["live", "--source", str(clip), "--no-window", "--size", "120x213", "--out", str(out),
                 "--video-out", str(tmp_path / "a.mp4"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "not available" not in err and "blank frame" not in err, err
    track = PoseTrack.load(out / "report_pose.npz")
    assert track.source == str(clip) and (track.width, track.height) == (120, 213)
    frames = SourceFrames(track)
    assert frames.note == ""
    first = next(iter(frames))[1]
    assert first.std() > 10  # a real picture, not the flat stand-in
    assert "blank frame" not in (out / "report.html").read_text()
