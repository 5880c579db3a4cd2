"""Small H.264 test videos made from frames in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30, codec: str = "libx264",
               options: dict | None = None) -> Path:
    """BGR frames (all one size) as a video at `fps` (H.264 unless `codec` says otherwise)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=round(fps))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if options:
            stream.options = options
        for bgr in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(bgr, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
