"""The annotated video: every original frame with the skeleton, angles, rep
counter, phase and the faults of that moment drawn on it.

Written as H.264 (yuv420p) in MP4, the one combination every web browser
plays. Frames stream from decoder to encoder one at a time, so memory does
not grow with the clip; the track's timestamps become the output's, so
variable-frame-rate phone clips keep their timing and the frame count
matches the track.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from formcheck.errors import FormcheckError
from formcheck.log import show_progress
from formcheck.media.atomic import atomic_path
from formcheck.outputs.render import (
    BLANK_NOTE,
    SourceFrames,
    fault_frames,
    frame_status,
    status_text,
)
from formcheck.outputs.render.skeleton import body_boxes, draw_frame

TIME_BASE = Fraction(1, 90000)  # the MPEG clock: fine enough for any container timestamp
CRF = "23"  # x264's default quality; the overlay lines stay crisp
PRESET = "veryfast"  # encoding should not take longer than the analysis


def _pts(t: np.ndarray) -> np.ndarray:
    """Strictly increasing ticks from 0; repeated container timestamps nudged by one tick."""
    t = np.asarray(t, float)
    ticks = np.round((t - t[0]) / float(TIME_BASE)).astype(np.int64) if len(t) else np.zeros(0, np.int64)
    for j in range(1, len(ticks)):
        ticks[j] = max(ticks[j], ticks[j - 1] + 1)
    return ticks


def write_video(analysis, path: str | Path, quiet: bool = True) -> str:
    """Render the annotated video to `path` (atomically). Returns a note when
    the original frames were not available and blank ones were used."""
    import av
    from tqdm import tqdm

    track = analysis.track
    if track.frames == 0:
        raise FormcheckError("nothing to render: the pose track has no frames")
    path = Path(path)
    frames = SourceFrames(track)
    marks = fault_frames(analysis)
    status = frame_status(analysis)
    pts = _pts(track.t)
    # One corner for the read-out over the whole video (a panel that jumped
    # between corners would distract): the one that hides the lifter least
    # over a frame every few tenths of a second.
    avoid = body_boxes(analysis, range(0, track.frames, max(1, int(track.fps * 0.3))))
    # yuv420p halves the chroma resolution: both sides must be even, so pad by a pixel.
    w, h = track.width + track.width % 2, track.height + track.height % 2
    rate = Fraction(track.fps).limit_denominator(1001) if track.fps > 0 else Fraction(30)

    try:
        with atomic_path(path, suffix=".mp4") as tmp:
            # faststart puts the index first, so a browser can play while downloading.
            with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                stream = out.add_stream("libx264", rate=rate)
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.time_base = TIME_BASE
                stream.options = {"crf": CRF, "preset": PRESET}
                bar = tqdm(total=track.frames, unit="frame", desc=f"rendering {path.name}", disable=not show_progress(quiet),
                           delay=2.0, mininterval=0.5, file=sys.stderr, leave=False)
                with bar:
                    for i, bgr in frames:
                        img = np.ascontiguousarray(bgr)
                        if img.shape[1] != w or img.shape[0] != h:
                            img = np.pad(img, ((0, h - img.shape[0]), (0, w - img.shape[1]), (0, 0)), mode="edge")
                        k, phase = status[i]
                        codes = [c for c, m in marks.items() if m[i]]
                        draw_frame(img, analysis, i, codes, status_text(analysis, k, i), phase,
                                   note=BLANK_NOTE if frames.note else "", avoid=avoid, trail=True)
                        # OpenCV's BGR->I420 is about twice as fast as letting FFmpeg convert.
                        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420),
                                                           format="yuv420p")
                        frame.pts, frame.time_base = int(pts[i]), TIME_BASE
                        out.mux(stream.encode(frame))
                        bar.update(1)
                out.mux(stream.encode(None))  # flush the frames the encoder still holds
    except av.error.FFmpegError as exc:
        raise FormcheckError(f"cannot write video {path}: {exc}") from None
    return frames.note
