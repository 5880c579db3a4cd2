"""`formcheck simulate` and `formcheck demo`: the squat simulator on the command line.

Both need no video and no files besides the package, so they work on a fresh
install: `simulate` writes a synthetic pose track (and optionally its
stick-figure preview), `demo` analyses a simulated set with known faults and
prints the report; like `analyze`, it writes files only when asked (`--out`
for the full set `analyze --out` writes).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.log import log

# Stiff ankles: the shins stop at 15 degrees, the trunk makes up for it and
# leans further as the lifter drives up. Two faults with distinct advice.
DEMO = dict(preset="limited_ankle", ascent_lean_extra_deg=12.0, noise_px=1.0, seed=7)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, kind: str, text: str):
    """A --set value as the SquatParams field's type (annotations are strings here)."""
    try:
        if "None" in kind and text.lower() in ("none", ""):
            return None
        if kind.startswith("bool"):
            if text.lower() not in _TRUE | _FALSE:
                raise ValueError
            return text.lower() in _TRUE
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
        return text
    except ValueError:
        raise FormcheckError(f"simulate: --set {name}={text}: expected {kind}") from None


def params_from_args(args: argparse.Namespace) -> dict:
    """Preset first, then the named flags, then --set key=value (the most specific wins)."""
    from formcheck.pose.simulate import PRESETS, SquatParams

    if args.preset not in PRESETS:
        raise FormcheckError(f"unknown preset {args.preset!r}; choose from {', '.join(PRESETS)}")
    params = dict(PRESETS[args.preset])
    for flag, key in (("reps", "reps"), ("view", "view"), ("facing", "facing"), ("noise", "noise_px"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            params[key] = getattr(args, flag)
    kinds = {f.name: str(f.type) for f in fields(SquatParams)}
    for item in args.set or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in kinds:
            raise FormcheckError(f"simulate: --set wants KEY=VALUE with KEY one of: {', '.join(kinds)}")
        params[key] = _convert(key, kinds[key], value.strip())
    return params


def cmd_simulate(args: argparse.Namespace) -> int:
    from formcheck.pose.simulate import render_preview, simulate

    params = params_from_args(args)
    track, truth = simulate(**params)
    track.meta["preset"] = args.preset
    out = Path(args.output or f"{args.preset}_{truth.view}.npz")
    track.save(out)
    print(f"wrote {out}: {len(truth.rep_end_s)} reps, {track.duration:.1f} s, {track.frames} frames, "
          f"{truth.view} view facing {truth.facing}")
    if args.preview:
        print(f"wrote {render_preview(track, args.preview, truth)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from formcheck.analyze import analyze_track
    from formcheck.cli.options import load_user_config, output_options
    from formcheck.outputs.report import format_text
    from formcheck.outputs.writers import write_outputs
    from formcheck.pose.simulate import PRESETS, simulate

    params = {**PRESETS[DEMO["preset"]], **{k: v for k, v in DEMO.items() if k != "preset"}}
    track, truth = simulate(**params)
    track.source = "simulated demo set"  # the report names the clip after its source; there is no video
    options = output_options(args)
    analysis = analyze_track(track, load_user_config(args), symptoms=args.symptom or ())
    written = write_outputs(analysis, options, stem="report")
    if not options.uses_stdout:  # a data file is on stdout: keep it parseable
        print(f"formcheck demo: {len(truth.rep_end_s)} simulated squats with stiff ankles (shins stop at "
              f"{params['shin_bottom_deg']:g} deg) and a trunk that leans further on the way up.\n")
        sys.stdout.write(format_text(analysis, details=args.details))
    for path in written:
        log.info("wrote %s", path)
    if not written:
        print("formcheck demo: add --out DIR for report.json, report_reps.csv and report.html", file=sys.stderr)
    return 0


def register(sub) -> None:
    from formcheck.cli.options import add_report_options, examples
    from formcheck.pose.simulate import PRESETS, VIEW_YAW

    p = sub.add_parser("simulate", help="write a synthetic squat pose track (.npz), optionally a stick-figure video",
                       epilog=examples("formcheck simulate --preset butt_wink -o bw.npz && formcheck analyze bw.npz",
                                       "formcheck simulate --view front --set fps=60 --preview front.mp4"))
    p.add_argument("-o", "--output", metavar="PATH", help="track to write (default: PRESET_VIEW.npz)")
    p.add_argument("--preset", default="clean", metavar="NAME", help=f"one of: {', '.join(PRESETS)} (default: clean)")
    p.add_argument("--reps", type=int, help="number of reps")
    p.add_argument("--view", choices=list(VIEW_YAW), help="camera view")
    p.add_argument("--facing", choices=["left", "right"], help="which way the lifter faces in the image")
    p.add_argument("--noise", type=float, metavar="PX", help="landmark noise, pixels (standard deviation)")
    p.add_argument("--seed", type=int, help="random seed for noise, dropouts and swaps")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any simulator parameter (repeatable), e.g. --set tuck_deg=15 --set fps=60; "
                        "the names are the fields of formcheck.pose.simulate.SquatParams")
    p.add_argument("--preview", metavar="MP4", help="also render a stick-figure preview video")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="analyse a simulated squat set with known faults and print the report",
                       description="Analyse a simulated set (no video needed) and print the report. "
                                   "Nothing is written unless asked: --out DIR writes the full set of "
                                   "report files, --json/--csv/--html single ones.",
                       epilog=examples("formcheck demo", "formcheck demo --out demo/ && open demo/report.html"))
    add_report_options(p)
    p.set_defaults(func=cmd_demo)
