"""What people expect of a command-line tool: stdout for data, stderr for
messages, -q/-v everywhere, documented exit codes, a local config file,
published schemas, a per-frame export, help with examples, completion."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from formcheck.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "forward_lean_side.npz"  # a synthetic track: no inference needed


def formcheck(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "formcheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def commands():
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_has_quiet_verbose_examples_and_exit_codes(name):
    text = commands()[name].format_help()
    assert "--quiet" in text and "--verbose" in text
    assert "examples:" in text and "formcheck " in text.split("examples:")[1]
    assert "exit codes:" in text and "130" in text
    assert "formcheck/coach/data" not in text and "shared/" not in text  # no paths into the source tree


def test_json_to_stdout_is_the_only_thing_on_stdout():
    res = formcheck("analyze", SAMPLE, "--json", "-")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)  # nothing but the JSON
    assert report["rep_count"] == 2


def test_csv_to_stdout():
    res = formcheck("analyze", SAMPLE, "--csv", "-")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert res.returncode == 0 and len(rows) == 2 and rows[0]["rep"] == "1"


def test_two_outputs_on_stdout_is_a_usage_error():
    res = formcheck("analyze", SAMPLE, "--json", "-", "--csv", "-")
    assert res.returncode == 2 and "standard output" in res.stderr and "Traceback" not in res.stderr


def test_messages_go_to_stderr_and_quiet_keeps_only_warnings(tmp_path):
    res = formcheck("analyze", SAMPLE, "--json", tmp_path / "r.json")
    assert "formcheck: wrote" in res.stderr and "formcheck: wrote" not in res.stdout and "2 reps" in res.stdout
    quiet = formcheck("analyze", SAMPLE, "--json", tmp_path / "r.json", "-q")
    assert "wrote" not in quiet.stderr and quiet.returncode == 0


def test_local_formcheck_toml_is_picked_up_and_config_wins(tmp_path):
    def faults(*extra) -> set[str]:
        res = formcheck("analyze", SAMPLE, "--json", "-", *extra, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        return {f["code"] for f in json.loads(res.stdout)["faults"]}

    assert "forward_lean" in faults()
    (tmp_path / "formcheck.toml").write_text("[forward_lean]\nabove = [80.0, 82.0, 84.0]\n")
    assert "forward_lean" not in faults()
    (tmp_path / "lean.toml").write_text("[forward_lean]\nabove = [40.0, 57.0, 65.0]\n")
    assert "forward_lean" in faults("--config", "lean.toml")


def test_config_defaults_lists_every_threshold_with_its_reason_and_reads_back(tmp_path):
    from formcheck.coach.config import load_config, tomllib

    res = formcheck("config", "--defaults", cwd=tmp_path)
    assert res.returncode == 0
    printed = tomllib.loads(res.stdout)
    packaged = load_config()
    for code, table in packaged.items():
        for key in ("metric", "above", "below", "gate", "views", "min_share"):
            if key in table:
                assert printed[code][key] == table[key], (code, key)
        if "reason" in table:
            assert table["reason"].split()[0] in res.stdout
    (tmp_path / "mine.toml").write_text(res.stdout)
    assert load_config(tmp_path / "mine.toml") == packaged  # a user can start from it


def _validate(doc: dict, schema: str) -> None:
    import jsonschema

    from formcheck.schemas import load

    jsonschema.validate(doc, load(schema))


def test_report_matches_its_schema_and_the_schema_catches_a_bad_one(tmp_path):
    import jsonschema

    report = json.loads(formcheck("analyze", SAMPLE, "--json", "-").stdout)
    _validate(report, "report")
    report["reps"][0]["verdicts"]["forward_lean"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        _validate(report, "report")


@pytest.mark.real
def test_real_report_and_batch_summary_match_their_schemas(tmp_path, videos):
    clip = videos / "dnly09_gf_1_goodform.mp4"
    res = formcheck("analyze", clip, "--json", "-", "-q")
    assert res.returncode == 0, res.stderr
    _validate(json.loads(res.stdout), "report")
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.mp4").symlink_to(clip)
    (src / "broken.mp4").write_bytes(b"not a video")
    res = formcheck("batch", src, "--out", tmp_path / "out", "--jobs", "1", "-q")
    assert res.returncode == 1  # one clip failed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    _validate(summary, "batch-summary")
    assert {c["status"] for c in summary["clips"]} == {"ok", "failed"}


def test_frames_csv_has_a_row_per_frame_with_units_and_quality(tmp_path):
    from formcheck.pose.track import PoseTrack

    track = PoseTrack.load(SAMPLE)
    res = formcheck("analyze", SAMPLE, "--frames-csv", "-")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == track.frames
    header = rows[0].keys()
    assert {"t_s", "rep", "phase", "view", "trunk_deg", "hip_height_leg_lengths", "quality"} <= set(header)
    assert {r["phase"] for r in rows} == {"standing", "descent", "bottom", "ascent"}
    assert all(r["quality"] for r in rows) and rows[0]["quality"] == "ok"
    assert float(rows[-1]["t_s"]) == pytest.approx(track.t[-1], abs=1e-3)


def test_frames_quality_names_frames_without_a_person():
    from formcheck.analyze import analyze_track
    from formcheck.outputs.frames import frames_text
    from formcheck.pose.simulate import simulate

    track = simulate(reps=2, seed=1)[0]
    track.image[10:15] = float("nan")
    track.people[10:15] = 0
    rows = list(csv.DictReader(io.StringIO(frames_text(analyze_track(track)))))
    assert [r["quality"] for r in rows[10:15]] == ["no person"] * 5


def test_completion_script_knows_the_commands():
    res = formcheck("completion", "bash")
    assert res.returncode == 0
    for name in ("analyze", "batch", "--frames-csv"):
        assert name in res.stdout


def test_building_the_command_line_loads_no_analysis_library():
    # `formcheck --help` (and every command's start) builds all the parsers:
    # SciPy, MediaPipe or Matplotlib there would cost each invocation a second.
    code = ("import sys; from formcheck.cli.main import build_parser; p = build_parser(); p.format_help(); "
            "print(sorted(m for m in ('scipy', 'mediapipe', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"
