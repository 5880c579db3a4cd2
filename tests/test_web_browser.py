"""The whole web flow in a real browser: a lifter opens the page, ticks a
red flag, uploads a real clip, watches the progress, reads the report,
plays the video and finds the analysis in the history; on a desktop and
on a 400 px wide phone screen."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from browser import DESKTOP, IMAGES_CHECK, PHONE, VIDEO_CHECK, chromium, open_page  # noqa: F401 (fixtures)

pytest.importorskip("starlette", reason="needs the web extra (pip install '.[web]')")
pytestmark = [pytest.mark.real, pytest.mark.browser]

REPO = Path(__file__).resolve().parent.parent
CLIP = "dnly09_gf_1_goodform.mp4"  # 1.7 s, 108x192, one rep: inferred afresh in seconds


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`formcheck serve` as a user starts it; --no-cache so the page has real frames to count."""
    data = tmp_path_factory.mktemp("web")
    proc = subprocess.Popen([sys.executable, "-m", "formcheck", "serve", "--port", "0", "--data", str(data),
                             "--workers", "1", "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    line = proc.stdout.readline()
    m = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
    if not m:
        proc.kill()
        pytest.fail(f"server did not start: {line}{proc.stderr.read()}")
    yield m.group(1)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)


def test_upload_watch_read_and_find_it_in_the_history(server, open_page, videos, labels, tmp_path):
    from formcheck.coach.safety import assess

    page = open_page(DESKTOP)
    p = page.page
    page.open(server + "/")
    assert page.js("() => document.getElementById('safety').hidden") is True
    # A red flag shows the CLI's referral at the top of the page, before anything else.
    p.check("input[value=numbness_tingling]")
    p.wait_for_selector("#safety:not([hidden])")
    referral = assess(["numbness_tingling"]).message
    shown = page.js("() => [...document.querySelectorAll('#safety-text p')].map(p => p.textContent)")
    assert shown == [x for x in referral.split("\n") if x]
    assert page.js("() => document.querySelector('main').firstElementChild.id") == "safety"

    statuses = []

    def polled(response):
        if re.search(r"/api/analyses/[0-9a-f]{16}$", response.url) and response.ok:
            try:
                statuses.append(response.json())
            except Exception:  # the last answer's body is gone once the page reloads into the report
                pass

    p.on("response", polled)
    p.set_input_files("input[data-video]:not([capture])", str(videos / CLIP))
    p.fill("#lifter", "Sam")
    p.click("#go")
    p.wait_for_url(re.compile(r"/analyses/[0-9a-f]{16}$"))
    job_id = p.url.rsplit("/", 1)[1]
    # The progress page updates itself, then becomes the report.
    p.wait_for_selector("#reps", timeout=180_000)
    seen = [s for s in statuses if s.get("id") == job_id]
    running = [s for s in seen if s["status"] == "running" and s["frames_total"]]
    assert running, seen  # the page polled while it ran and got frame counts
    assert all(0 <= s["progress"] <= 1 for s in seen)
    assert [s["progress"] for s in running] == sorted(s["progress"] for s in running)

    reps = labels[CLIP]["reps"]
    assert p.inner_text("header .facts").endswith(f"{reps} rep" + ("" if reps == 1 else "s"))
    assert page.js("() => document.querySelectorAll('#reps tbody tr:not(.partial)').length") == reps
    assert page.js("() => document.querySelector('main').querySelector('section').id") == "safety"  # first
    assert page.js(IMAGES_CHECK) == []
    v = page.js(VIDEO_CHECK)
    assert v["error"] is None and v["played"] is True, v
    for link in ("report.json", "report_reps.csv", "report_pose.npz"):
        assert p.locator(f"a[href$='/files/{link}']").count() == 1
    page.screenshot(tmp_path / "web_report_desktop.png")

    p.click("nav >> text=History")
    p.wait_for_url(re.compile(r"/history$"))
    row = p.locator(f"#history tr[data-id='{job_id}']")
    assert row.locator("td.file").inner_text() == CLIP
    assert row.locator("td.reps").inner_text() == str(reps)
    assert "Sam" in row.inner_text()
    assert p.locator("section.lifter svg.trend").count() >= 1
    assert page.problems == [] and page.dialogs == []


def test_pages_fit_a_phone(server, open_page, tmp_path):
    page = open_page(PHONE, mobile=True)
    page.open(server + "/history")
    done = page.js("() => [...document.querySelectorAll('#history tr[data-status=done] a')].map(a => a.href)")
    assert done, "the flow test leaves an analysis to look at"
    for url in (server + "/", done[0], server + "/history"):
        page.open(url)
        assert page.scroll_width() <= PHONE[0], url
    page.open(done[0])
    shot = page.screenshot(tmp_path / "web_report_phone.png")
    assert shot.shape[1] == PHONE[0]
    assert page.problems == []


# Stands in for the browser's speech (headless Chromium has no voices): keeps what the page asks it to say.
SPEECH_STUB = """
window.__said = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.listeners = {}; };
window.SpeechSynthesisUtterance.prototype.addEventListener = function (kind, fn) { this.listeners[kind] = fn; };
Object.defineProperty(window, "speechSynthesis", {value: {
  speaking: false,
  speak(u) { window.__said.push(u.text); this.speaking = true; },
  cancel() { this.speaking = false; },
}});
"""


def test_the_plan_is_read_aloud_by_the_browser(server, open_page, tmp_path):
    page = open_page(DESKTOP)
    page.open(server + "/history")
    done = page.js("() => [...document.querySelectorAll('#history tr[data-status=done] a')].map(a => a.href)")
    assert done, "the flow test leaves an analysis to look at"
    page.page.add_init_script(SPEECH_STUB)
    page.open(done[0])
    button = page.page.locator("#verdict #read-aloud")
    assert button.inner_text() == "Read the plan aloud"
    button.click()
    said = page.js("() => window.__said")
    verdict = page.js("() => document.querySelector('#verdict h2').textContent.trim()")
    assert len(said) == 1 and said[0].startswith(verdict), said
    assert "Read the plan aloud" not in said[0] and "Stop reading" not in said[0]
    assert button.inner_text() == "Stop reading"
    button.click()  # a second press stops it
    assert button.inner_text() == "Read the plan aloud" and page.js("() => window.__said.length") == 1
    page.screenshot(tmp_path / "web_read_aloud.png")
    assert page.problems == []
