"""The live coach's voice: what it says and when (the rules, on made-up reps),
and a real session's speech, timed from the WAV it writes, against the reps
that session counted."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from formcheck.cli.main import main
from formcheck.coach.config import load_config
from formcheck.coach.faults import Finding, specs_from_config
from formcheck.live.cues import VoiceCalls
from formcheck.live.counter import RepSummary

SPECS = specs_from_config(load_config())
CALLS = {s.code: s.cue for s in SPECS}


def rep(index: int, *codes: str) -> RepSummary:
    faults = [Finding(c, "fault", "moderate", 0.6, "") for c in codes]
    return RepSummary(index, 0.0, 0.0, 0.0, 0.5, "parallel", "side", faults)


def said_over(reps: list[RepSummary]) -> list[list[str]]:
    """What the voice says after each rep, the lifter standing between reps."""
    voice, out = VoiceCalls(SPECS), []
    for r in reps:
        lines, hush = voice.step(r.index, "standing", [r])
        assert not hush
        out.append(lines)
    return out


def test_each_rep_gets_its_count_and_at_most_one_cue():
    said = said_over([rep(1, "forward_lean", "heel_lift"), rep(2), rep(3, "heel_lift")])
    assert said == [["1", CALLS["forward_lean"]], ["2"], ["3", CALLS["heel_lift"]]]


def test_a_persisting_fault_is_called_again_only_every_third_rep():
    said = said_over([rep(i, "forward_lean") for i in range(1, 8)])
    cues = [i + 1 for i, lines in enumerate(said) if CALLS["forward_lean"] in lines]
    assert cues == [1, 4, 7]
    # A fault that went away and came back is new again.
    said = said_over([rep(1, "forward_lean"), rep(2), rep(3, "forward_lean")])
    assert [CALLS["forward_lean"] in lines for lines in said] == [True, False, True]


def test_nothing_is_said_while_moving_and_a_descent_drops_what_waited():
    voice = VoiceCalls(SPECS)
    assert voice.step(1, "ascent", []) == ([], False)  # counted on the way up: wait for the top
    assert voice.step(1, "descent", [rep(1, "forward_lean")]) == ([], True)  # next rep began: too late
    assert voice.step(1, "standing", []) == ([], False)
    assert voice.step(2, "standing", [rep(2, "forward_lean")]) == (["2", CALLS["forward_lean"]], False)


def _loud_segments(path: Path, merge_s: float = 0.06) -> list[tuple[float, float]]:
    """(start, end) seconds of the sound in a WAV: 10 ms windows louder than
    1% of full scale, gaps shorter than `merge_s` (inside a line) closed."""
    with wave.open(str(path), "rb") as w:
        rate, width = w.getframerate(), w.getsampwidth()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float) / 32767
    assert width == 2
    win = int(0.01 * rate)
    n = len(x) // win
    loud = np.sqrt((x[:n * win].reshape(n, win) ** 2).mean(axis=1)) > 0.01
    edges = np.flatnonzero(np.diff(np.r_[0, loud.astype(int), 0])).reshape(-1, 2) * 0.01
    segments: list[list[float]] = []
    for a, b in edges:
        if segments and a - segments[-1][1] < merge_s:
            segments[-1][1] = b
        else:
            segments.append([a, b])
    return [(a, b) for a, b in segments]


@pytest.mark.real
def test_a_voiced_session_speaks_only_between_reps(videos, tmp_path, capsys):
    pytest.importorskip("pyttsx3", reason="the voice extra is not installed")
    if not (shutil.which("espeak-ng") or shutil.which("espeak")):
        pytest.skip("no espeak-ng here (Debian: apt install espeak-ng)")
    # Three slow reps with a short stand between; the lifter leans about 40-45
    # degrees, a fault by this test's own forward-lean bands, so there is a cue to say.
    bands = tmp_path / "lean.toml"
    bands.write_text("[forward_lean]\nabove = [20.0, 25.0, 30.0]\n")
    wav, log = tmp_path / "cues.wav", tmp_path / "session.json"
    code = main(["live", "--source", str(videos / "physiback_squat_3.mp4"), "--no-window", "--config", str(bands),
                 "--voice-out", str(wav), "--session-log", str(log), "--symptom", "numbness_tingling", "-q"])
    assert code == 0
    s = json.loads(log.read_text())
    reps, spoken = s["reps"], s["spoken"]
    assert len(reps) == 3 and spoken, s.get("voice_note")
    # Only counts and the fault calls the window shows: a red flag is never spoken as coaching.
    assert all(x["text"].isdigit() or x["text"] in CALLS.values() for x in spoken), spoken
    assert CALLS["forward_lean"] in [x["text"] for x in spoken]
    assert {int(x["text"]) for x in spoken if x["text"].isdigit()} <= {r["index"] for r in reps}
    segments = _loud_segments(wav)
    assert len(segments) == len(spoken), (segments, spoken)
    for (a, b), line in zip(segments, spoken):
        assert abs(a - line["t"]) < 0.05, (a, line)  # the WAV is timed against the session
        done = [r for r in reps if r["end_s"] <= a + 0.05]
        assert done, f"speech at {a:.2f} s before any rep ended"
        last = done[-1]
        nxt = next((r for r in reps if r["start_s"] > last["end_s"]), None)
        assert a - last["end_s"] <= 0.5 + 0.05, f"{line['text']!r} at {a:.2f} s, rep ended {last['end_s']:.2f} s"
        assert nxt is None or b <= nxt["start_s"] + 0.05, f"{line['text']!r} runs into the descent at {nxt['start_s']}"
    assert "said: " in capsys.readouterr().out, "the end-of-set report lists what was said"


def test_without_an_engine_the_session_runs_silent_with_one_note(videos, tmp_path, monkeypatch, capsys):
    import formcheck.live.voice as voice

    real = voice.importlib.util.find_spec
    monkeypatch.setattr(voice.importlib.util, "find_spec", lambda name, *a: None if name == "pyttsx3" else real(name, *a))
    log = tmp_path / "session.json"
    assert main(["live", "--source", str(videos / "dnly09_gf_1_goodform.mp4"), "--no-window", "--voice",
                 "--session-log", str(log), "-q"]) == 0
    s = json.loads(log.read_text())
    assert "formcheck[voice]" in s["voice_note"] and "spoken" not in s
    assert s["live_rep_count"] == 1, "the session itself went on"
    assert capsys.readouterr().err.count("no speech engine") == 1


def test_voice_is_a_setting_and_its_file_is_checked_up_front(videos, tmp_path, capsys):
    cfg = tmp_path / "formcheck.toml"
    cfg.write_text("[live]\nvoice = 'loud'\n")
    assert main(["live", "--source", str(videos / "dnly09_gf_1_goodform.mp4"), "--no-window",
                 "--config", str(cfg)]) == 2
    assert "voice must be true or false" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["live", "--no-window", "--voice-out", str(tmp_path / "cues.mp3")])
    assert "must end in .wav" in capsys.readouterr().err
