"""The HTML report and the annotated video in a real browser.

Headless Chromium (Debian's package; CI installs it) is driven over the
DevTools protocol through the small stdlib websocket client below, so no
browser download and no extra package are needed. Skips when Chromium is
missing. Set FORMCHECK_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest

from formcheck.analyze import analyze_track

pytestmark = [pytest.mark.real, pytest.mark.browser]

CLIP = "evk_lean_side01.mp4"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and os.access(p, os.X_OK)), None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0")
DESKTOP, PHONE = (1280, 900), (400, 800)


class WebSocket:
    """Just enough of RFC 6455 for DevTools: text frames, client masking, fragments, ping."""

    def __init__(self, url: str, timeout: float = 60.0):
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.buf = bytearray(rest)

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        self.buf += chunk

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _frame(self, opcode: int, data: bytes) -> None:
        n = len(data)
        head = bytearray([0x80 | opcode])
        if n < 126:
            head.append(0x80 | n)
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        body = (np.frombuffer(data, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
        self.sock.sendall(bytes(head) + mask + body)

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n >= 126:
                n = int.from_bytes(self._read(2 if n == 126 else 8), "big")
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = (np.frombuffer(data, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the connection")
            if opcode == 0x9:
                self._frame(0xA, data)
            if opcode in (0x9, 0xA):
                continue
            parts.append(data)
            if b0 & 0x80:
                return b"".join(parts).decode()


class Browser:
    """Headless Chromium with one page; collects console errors and dialogs."""

    def __init__(self, profile: Path):
        self.log = open(profile.parent / "chromium.log", "wb")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=self.log, stderr=self.log)
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"Chromium did not start; see {profile.parent / 'chromium.log'}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=30) as r:
            self.ws = WebSocket(json.load(r)["webSocketDebuggerUrl"])
        self.next_id, self.events = 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", page=True)

    def call(self, method: str, page: bool = False, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.time() + timeout
        while True:
            for k, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(k)
            if time.time() > deadline:
                raise TimeoutError(method)
            self.events.append(json.loads(self.ws.recv()))

    def open(self, url: str, size: tuple[int, int], mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", page=True, width=size[0], height=size[1],
                  deviceScaleFactor=1, mobile=mobile)
        self.call("Emulation.setScrollbarsHidden", page=True, hidden=True)  # full width in screenshots
        self.events.clear()
        self.call("Page.navigate", page=True, url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", page=True, expression=expression, awaitPromise=True,
                      returnByValue=True, timeout=60000)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, path: Path) -> np.ndarray:
        width, height = self.js("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        shot = self.call("Page.captureScreenshot", page=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        data = base64.b64decode(shot["data"])
        path.write_bytes(data)
        keep = os.environ.get("FORMCHECK_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads of the page so far."""
        out = []
        for m in self.events:
            p = m.get("params", {})
            if m.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(p["exceptionDetails"])[:300])
            elif m.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args"))[:300])
            elif m.get("method") == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", "")[:300])
        return out

    def dialogs(self) -> list[dict]:
        return [m for m in self.events if m.get("method") == "Page.javascriptDialogOpening"]

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Chromium not installed (apt-get install chromium); browser checks skipped")
    b = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory, real_track):
    """A report with its annotated video next to it, as `--out DIR --video-out DIR/x.mp4` writes them."""
    from formcheck.render.html import write_html
    from formcheck.render.overlay import write_video

    out = tmp_path_factory.mktemp("report")
    track = real_track(CLIP)
    analysis = analyze_track(track)
    write_video(analysis, out / "annotated.mp4")
    write_html(analysis, out / "report.html", video=out / "annotated.mp4")
    return out, analysis


VIDEO_CHECK = """(async () => {
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
})()"""

IMAGES_CHECK = "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.className)"


def test_report_and_video_in_browser(browser, report, tmp_path):
    out, analysis = report
    track = analysis.track
    browser.open((out / "report.html").as_uri(), DESKTOP)
    assert browser.js(IMAGES_CHECK) == [], "images that did not load"
    assert browser.js("document.querySelectorAll('img.keyframe').length") == len(analysis.faults)
    assert browser.js("document.querySelectorAll('#reps tbody tr').length") == len(analysis.reps)

    v = browser.js(VIDEO_CHECK)
    assert v["error"] is None, v
    assert isinstance(v["duration"], (int, float)) and v["duration"] > 0, v  # NaN/Infinity come as text
    assert abs(v["duration"] - track.duration) < 2.0 / track.fps, v
    assert (v["width"], v["height"]) == (track.width, track.height), v
    assert v["played"] is True, v

    shot = browser.screenshot(tmp_path / "report_desktop.png")
    assert shot is not None and shot.shape[1] == DESKTOP[0] and shot.shape[0] > DESKTOP[1]
    assert shot.std() > 20, "the screenshot is blank"
    assert browser.errors() == []
    assert browser.dialogs() == []


def test_report_fits_a_phone(browser, report, tmp_path):
    out, _ = report
    browser.open((out / "report.html").as_uri(), PHONE, mobile=True)
    # Nothing scrolls sideways: not the page, not the rep table, and every
    # rep's faults are on screen.
    assert browser.js("document.documentElement.scrollWidth") <= PHONE[0]
    assert browser.js("(t => t.scrollWidth <= t.clientWidth)(document.querySelector('#reps'))")
    assert browser.js("Math.max(...[...document.querySelectorAll('#reps td.faults')]"
                      ".map(td => td.getBoundingClientRect().right))") <= PHONE[0]
    # Plots are drawn with 13-point (18-pixel) text: shown at 0.55 of their
    # size or more, it stays 10 pixels or taller.
    assert browser.js("Math.min(...[...document.querySelectorAll('img.plot')]"
                      ".map(i => i.clientWidth / i.naturalWidth))") >= 0.55
    # The verdict comes before the pictures.
    assert browser.js("document.querySelector('#verdict').getBoundingClientRect().top < "
                      "document.querySelector('img.keyframe').getBoundingClientRect().top")
    assert browser.js("getComputedStyle(document.querySelector('.pair')).gridTemplateColumns.split(' ').length") == 1
    shot = browser.screenshot(tmp_path / "report_phone.png")
    assert shot.shape[1] == PHONE[0]
    assert browser.errors() == []


def test_hostile_file_name_is_inert(browser, real_track, tmp_path):
    from formcheck.pose import extract_track
    from formcheck.render.html import write_html

    # "/" cannot be part of a file name, so `</script>` also makes a folder: the path shows it whole.
    clip = tmp_path / "<img src=x onerror=alert(1)>" / "<script>alert(2)</script>.mp4"
    clip.parent.mkdir(parents=True)
    shutil.copy(real_track(CLIP).source, clip)
    analysis = analyze_track(extract_track(clip, quiet=True))  # same content: the cached track
    write_html(analysis, tmp_path / "report.html")
    browser.open((tmp_path / "report.html").as_uri(), DESKTOP)
    assert browser.dialogs() == []
    assert browser.js("document.querySelectorAll('script, [onerror]').length") == 0
    assert browser.js("document.querySelector('.path').textContent") == str(clip)
    assert browser.errors() == []
