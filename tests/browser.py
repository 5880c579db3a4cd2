"""Headless Chromium for the browser tests, through Playwright.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by CI);
it never downloads a browser of its own. Tests skip when either is missing.
Set FORMCHECK_SCREENSHOTS=DIR to keep the screenshots the tests take.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and os.access(p, os.X_OK)), None)
DESKTOP, PHONE = (1280, 900), (400, 800)

# Plays the page's <video> briefly; what a viewer would notice if it could not.
VIDEO_CHECK = """async () => {
  const v = document.querySelector('video');
  if (!v) return {missing: true};
  if (v.readyState < 2 && !v.error) await new Promise(done => {
    v.addEventListener('loadeddata', done, {once: true});
    v.addEventListener('error', done, {once: true});
    setTimeout(done, 20000);
  });
  let played = false;
  if (!v.error) {
    try { await v.play(); await new Promise(r => setTimeout(r, 500)); played = v.currentTime > 0; v.pause(); }
    catch (e) { played = String(e); }
  }
  return {duration: isFinite(v.duration) ? v.duration : String(v.duration), error: v.error && v.error.code,
          width: v.videoWidth, height: v.videoHeight, played: played};
}"""

IMAGES_CHECK = "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.className)"


class Page:
    """A Playwright page that keeps every console error, uncaught exception,
    failed request and dialog it sees."""

    def __init__(self, browser, size: tuple[int, int], mobile: bool = False):
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                           is_mobile=mobile, has_touch=mobile)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}")
                     if m.type in ("error", "assert") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        # Requests cut short by leaving the page (net::ERR_ABORTED, e.g. a video still loading) are no fault.
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}")
                     if "ERR_ABORTED" not in (r.failure or "") else None)

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def scroll_width(self) -> int:
        return self.js("() => document.documentElement.scrollWidth")

    def screenshot(self, path: Path) -> np.ndarray:
        data = self.page.screenshot(path=str(path), full_page=True)
        keep = os.environ.get("FORMCHECK_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        pytest.skip("Chromium not installed (apt-get install chromium); browser checks skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright not installed (pip install '.[test]')")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--mute-audio",
                                          "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium):
    """open_page(size, mobile=False) -> Page; closed after the test."""
    pages = []

    def make(size=DESKTOP, mobile=False) -> Page:
        pages.append(Page(chromium, size, mobile))
        return pages[-1]

    yield make
    for p in pages:
        p.close()
