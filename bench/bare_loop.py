"""The bare MediaPipe loop as a command of its own, so it can be timed as a whole process:
    python bench/bare_loop.py CLIP"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bare_loop  # noqa: E402

if __name__ == "__main__":
    print(bare_loop(sys.argv[1]))
