"""Small H.264 test videos made from frames in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30) -> Path:
    """BGR frames (all one size) as an H.264 MP4 at `fps`."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=round(fps))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for bgr in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(bgr, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
