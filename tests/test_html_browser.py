"""The HTML report and the annotated video in a real browser (headless
Chromium through Playwright, see tests/browser.py)."""

from __future__ import annotations

import shutil

import pytest

from browser import DESKTOP, IMAGES_CHECK, PHONE, VIDEO_CHECK, chromium, open_page  # noqa: F401 (fixtures)
from formcheck.analyze import analyze_track

pytestmark = [pytest.mark.real, pytest.mark.browser]

CLIP = "evk_lean_side01.mp4"


@pytest.fixture(scope="module")
def report(tmp_path_factory, real_track):
    """A report with its annotated video next to it, as `--out DIR --video-out DIR/x.mp4` writes them."""
    from formcheck.outputs.render.html import write_html
    from formcheck.outputs.render.overlay import write_video

    out = tmp_path_factory.mktemp("report")
    track = real_track(CLIP)
    analysis = analyze_track(track)
    write_video(analysis, out / "annotated.mp4")
    write_html(analysis, out / "report.html", video=out / "annotated.mp4")
    return out, analysis


def test_report_and_video_in_browser(open_page, report, tmp_path):
    out, analysis = report
    track = analysis.track
    page = open_page(DESKTOP)
    page.open((out / "report.html").as_uri())
    assert page.js(IMAGES_CHECK) == [], "images that did not load"
    assert page.js("() => document.querySelectorAll('img.keyframe').length") == len(analysis.faults)
    assert page.js("() => document.querySelectorAll('#reps tbody tr').length") == len(analysis.reps)

    v = page.js(VIDEO_CHECK)
    assert v["error"] is None, v
    assert isinstance(v["duration"], (int, float)) and v["duration"] > 0, v  # NaN/Infinity come as text
    assert abs(v["duration"] - track.duration) < 2.0 / track.fps, v
    assert (v["width"], v["height"]) == (track.width, track.height), v
    assert v["played"] is True, v

    shot = page.screenshot(tmp_path / "report_desktop.png")
    assert shot is not None and shot.shape[1] == DESKTOP[0] and shot.shape[0] > DESKTOP[1]
    assert shot.std() > 20, "the screenshot is blank"
    assert page.problems == []
    assert page.dialogs == []


def test_report_fits_a_phone(open_page, report, tmp_path):
    out, _ = report
    page = open_page(PHONE, mobile=True)
    page.open((out / "report.html").as_uri())
    # Nothing scrolls sideways: not the page, not the rep table, and every
    # rep's faults are on screen.
    assert page.scroll_width() <= PHONE[0]
    assert page.js("() => (t => t.scrollWidth <= t.clientWidth)(document.querySelector('#reps'))")
    assert page.js("() => Math.max(...[...document.querySelectorAll('#reps td.faults')]"
                   ".map(td => td.getBoundingClientRect().right))") <= PHONE[0]
    # Plots are drawn with 13-point (18-pixel) text: shown at 0.55 of their
    # size or more, it stays 10 pixels or taller.
    assert page.js("() => Math.min(...[...document.querySelectorAll('img.plot')]"
                   ".map(i => i.clientWidth / i.naturalWidth))") >= 0.55
    # The verdict comes before the pictures.
    assert page.js("() => document.querySelector('#verdict').getBoundingClientRect().top < "
                   "document.querySelector('img.keyframe').getBoundingClientRect().top")
    assert page.js("() => getComputedStyle(document.querySelector('.pair')).gridTemplateColumns.split(' ').length") == 1
    shot = page.screenshot(tmp_path / "report_phone.png")
    assert shot.shape[1] == PHONE[0]
    assert page.problems == []


def test_hostile_file_name_is_inert(open_page, real_track, tmp_path):
    from formcheck.pose import extract_track
    from formcheck.outputs.render.html import write_html

    # "/" cannot be part of a file name, so `</script>` also makes a folder: the path shows it whole.
    clip = tmp_path / "<img src=x onerror=alert(1)>" / "<script>alert(2)</script>.mp4"
    clip.parent.mkdir(parents=True)
    shutil.copy(real_track(CLIP).source, clip)
    analysis = analyze_track(extract_track(clip, quiet=True))  # same content: the cached track
    write_html(analysis, tmp_path / "report.html")
    page = open_page(DESKTOP)
    page.open((tmp_path / "report.html").as_uri())
    assert page.dialogs == []
    assert page.js("() => document.querySelectorAll('script, [onerror]').length") == 0
    assert page.js("() => document.querySelector('.path').textContent") == str(clip)
    assert page.problems == []
