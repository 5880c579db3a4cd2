"""Regenerate the synthetic samples in this folder with `formcheck simulate`.

Run from anywhere: python sample_videos/make_samples.py
Each sample is the exact `formcheck simulate` command listed in SAMPLES, so
README.md and this script cannot drift apart. Small frames and two reps keep
the whole set well under 2 MB.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from formcheck.cli.main import main

HERE = Path(__file__).resolve().parent
SMALL = "--reps 2 --set width=270 --set height=480"

SAMPLES = [
    f"--preset clean {SMALL} -o clean_side.npz --preview clean_side_preview.mp4",
    f"--preset forward_lean {SMALL} -o forward_lean_side.npz --preview forward_lean_side_preview.mp4",
    f"--preset butt_wink {SMALL} -o butt_wink_side.npz",
]


def make(folder: Path = HERE) -> list[Path]:
    written = []
    for cmd in SAMPLES:
        argv = ["simulate"] + shlex.split(cmd)
        # Output paths in the commands are relative to this folder.
        for flag in ("-o", "--preview"):
            if flag in argv:
                i = argv.index(flag) + 1
                argv[i] = str(folder / argv[i])
                written.append(Path(argv[i]))
        if main(argv) != 0:
            raise SystemExit(f"failed: formcheck {' '.join(argv)}")
    return written


if __name__ == "__main__":
    paths = make(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {total / 1e6:.2f} MB")
