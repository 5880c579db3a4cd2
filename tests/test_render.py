"""Annotated video, plots and HTML report, rendered from a real clip."""

from __future__ import annotations

import base64
import dataclasses
import html
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import av
import cv2
import numpy as np
import pytest

from formcheck.analyze import analyze_track

pytestmark = pytest.mark.real

CLIP = "evk_lean_side01.mp4"  # 100 frames, 10 fps, 298x520, forward lean in every rep


@pytest.fixture(scope="module")
def analysis(real_track):
    return analyze_track(real_track(CLIP))


@pytest.fixture(scope="module")
def video(analysis, tmp_path_factory):
    from formcheck.outputs.render.overlay import write_video

    path = tmp_path_factory.mktemp("video") / "annotated.mp4"
    note = write_video(analysis, path)
    assert note == ""
    return path


def decode(path):
    """(stream facts, frames as BGR arrays)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        facts = {"codec": s.codec_context.name, "pix_fmt": s.codec_context.pix_fmt,
                 "size": (s.codec_context.width, s.codec_context.height),
                 "rate": float(s.average_rate), "duration": c.duration / av.time_base}
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(s)]
    return facts, frames


class Page(HTMLParser):
    """Tags with their attributes, and the text of the page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


def test_video_is_browser_h264_with_the_tracks_frames(video, analysis):
    track = analysis.track
    facts, frames = decode(video)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["size"] == (track.width, track.height) and track.width % 2 == 0 == track.height % 2
    assert len(frames) == track.frames
    assert frames[0].shape == (track.height, track.width, 3)
    assert facts["rate"] == pytest.approx(track.fps, rel=0.01)
    assert facts["duration"] == pytest.approx(track.duration, abs=1.5 / track.fps)


def test_trunk_turns_red_while_leaning_in_forward_lean_reps(video, analysis):
    from formcheck.outputs.render import fault_frames

    leaning = fault_frames(analysis)["forward_lean"]
    assert leaning.any() and not leaning.all()
    _, frames = decode(video)
    pts = analysis.signals.points

    def trunk_colour(i):
        mid = (pts["shoulder"][i] + pts["hip"][i]) / 2
        x, y = np.round(mid).astype(int)
        return frames[i][y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).mean(axis=0)  # BGR, after compression

    for i in np.flatnonzero(leaning)[::5]:
        b, g, r = trunk_colour(i)
        assert r > 150 and g < 110 and b < 110, (i, b, g, r)
    upright = [i for i in range(analysis.track.frames) if not leaning[i] and analysis.signals.trunk[i] < 20]
    for i in upright[::5]:
        b, g, r = trunk_colour(i)
        assert g > 150 and r < 170, (i, b, g, r)


def test_video_from_a_track_whose_video_is_gone(analysis, tmp_path):
    from formcheck.outputs.render.html import write_html
    from formcheck.outputs.render.overlay import write_video

    track = dataclasses.replace(analysis.track, source=str(tmp_path / "deleted.mp4"))
    orphan = dataclasses.replace(analysis, track=track)
    note = write_video(orphan, tmp_path / "blank.mp4")
    assert "not available" in note
    facts, frames = decode(tmp_path / "blank.mp4")
    assert len(frames) == track.frames and facts["size"] == (track.width, track.height)
    assert np.median(frames[0]) < 60  # a dark stand-in frame, with the drawing on it
    write_html(orphan, tmp_path / "report.html")
    assert "not available" in (tmp_path / "report.html").read_text()


def test_odd_frame_size_is_padded_to_even(analysis, tmp_path):
    from formcheck.outputs.render.overlay import write_video

    track = dataclasses.replace(analysis.track, source="", width=analysis.track.width - 1,
                                height=analysis.track.height - 1)
    write_video(dataclasses.replace(analysis, track=track), tmp_path / "odd.mp4")
    facts, frames = decode(tmp_path / "odd.mp4")
    assert facts["size"] == (track.width + 1, track.height + 1) and len(frames) == track.frames


def test_plots_are_png(analysis):
    from formcheck.outputs.render import plots

    images = [plots.timeline_png(analysis), plots.rep_overlay_png(analysis)]
    images += [plots.fault_png(analysis, f.code) for f in analysis.faults]
    for png in images:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape[1] >= 600 and img.std() > 10


def test_key_frame_shows_the_worst_moment(analysis):
    from formcheck.outputs.render import SourceFrames, worst_moment
    from formcheck.outputs.render.html import key_frames

    k, i = worst_moment(analysis, "forward_lean")
    trunk = analysis.signals.trunk
    rep = analysis.reps[k].rep
    assert trunk[i] == pytest.approx(np.nanmax(trunk[rep.ascent_start:rep.end + 1]))
    shots = key_frames(analysis, ["forward_lean"], SourceFrames(analysis.track))
    jpeg, caption = shots["forward_lean"]
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert max(img.shape[:2]) == 720 and f"rep {rep.index + 1}" in caption.lower()


def test_html_report_is_self_contained(analysis, video, tmp_path):
    from formcheck.outputs.render.html import write_html

    write_html(analysis, tmp_path / "report.html", video=video)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.find("meta", name="viewport")
    assert len(page.find("table", id="reps")) == 1
    rows = text.split('<table id="reps"')[1].split("</table>")[0].count("<tr")
    assert rows == 1 + len(analysis.reps)  # header + one per rep
    codes = [f.code for f in analysis.faults]
    assert "forward_lean" in codes
    keyframes = [a for a in page.find("img") if "keyframe" in a.get("class", "").split()]
    assert sorted(a["data-fault"] for a in keyframes) == sorted(codes)
    for a in page.find("img"):
        mime, _, data = a["src"].partition(";base64,")
        assert mime in ("data:image/png", "data:image/jpeg")
        img = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.size
    assert not page.find("script") and not page.find("link")
    assert "http://" not in text and "https://" not in text  # opens offline
    assert page.find("video", src="../" + video.parent.name + "/annotated.mp4")
    # The advice: the plan for the fault to fix first, under the verdict.
    assert page.find("section", id="verdict") and html.escape(analysis.advice[0].title) in text
    assert not page.find("section", id="safety")


def test_safety_message_comes_first(real_track, tmp_path):
    from formcheck.outputs.render.html import write_html

    flagged = analyze_track(real_track(CLIP), symptoms=["numbness_tingling"])
    write_html(flagged, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    body = text.index("<body>")
    assert body < text.index('id="safety"') < text.index("<header>") < text.index('id="reps"')
    assert "medical professional" in text


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>.mp4", '"><img src=x onerror=alert(1)>.mp4'])
def test_file_names_are_escaped(real_track, tmp_path, hostile):
    from formcheck.pose import extract_track
    from formcheck.outputs.render.html import write_html

    clip = tmp_path / hostile  # "</script>" holds a "/": the clip sits in a folder named "<script>alert(1)<"
    clip.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real_track(CLIP).source, clip)
    analysis = analyze_track(extract_track(clip, quiet=True))
    write_html(analysis, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<img src=x" not in text
    assert html.escape(str(clip)) in text
    page = Page(text)
    assert str(clip) in "".join(page.text)  # shown as text, literally


def test_cli_writes_pictures_on_request(videos, tmp_path):
    from formcheck.cli.main import main

    out = tmp_path / "out"
    assert main(["analyze", str(videos / CLIP), "--out", str(out), "--video-out", str(out / "annotated.mp4"),
                 "-q"]) == 0
    for name in ("report.json", "report_reps.csv", "report.html", "annotated.mp4"):
        assert (out / name).stat().st_size > 0
    assert 'src="annotated.mp4"' in (out / "report.html").read_text(encoding="utf-8")


def test_plain_analysis_loads_no_renderer(videos, tmp_path):
    # PyAV is the decoder now (a cache hit reads one frame to check the track fits the video), so only
    # the drawing code counts here.
    code = ("import sys; from formcheck.cli.main import main; "
            f"main(['analyze', {str(videos / CLIP)!r}, '--json', {str(tmp_path / 'r.json')!r}, '-q']); "
            "print(sorted(m for m in ('matplotlib', 'formcheck.outputs.render') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
