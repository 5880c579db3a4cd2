"""`formcheck serve` as a user starts it: the address it prints, the token
and QR code for a phone, refusing requests without the token, a clean stop,
and one-line errors for bad options."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="needs the web extra (pip install '.[web]')")

REPO = Path(__file__).resolve().parent.parent


def formcheck(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "formcheck", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def status(url: str, headers=None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def decode_qr(lines: list[str]) -> str:
    """Read a QR code drawn with half blocks (each character is two modules, one above the other)."""
    import cv2
    import numpy as np

    top = np.array([[ch in "█▀" for ch in line] for line in lines])
    bottom = np.array([[ch in "█▄" for ch in line] for line in lines])
    cells = np.empty((2 * len(lines), len(lines[0])), bool)
    cells[0::2], cells[1::2] = top, bottom
    for dark in (cells, ~cells):  # the terminal may draw light modules as the filled ones
        img = np.where(dark, 0, 255).astype(np.uint8)
        img = cv2.resize(np.pad(img, 4, constant_values=255), None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
        text, _, _ = cv2.QRCodeDetector().detectAndDecode(img)
        if text:
            return text
    return ""


def test_serve_on_the_network_needs_the_token(tmp_path):
    proc = formcheck("serve", "--host", "0.0.0.0", "--port", "0", "--data", str(tmp_path / "data"), "--workers", "1")
    try:
        first = proc.stdout.readline()
        m = re.search(r"serving on (http://([\d.]+):(\d+)/\?token=([\w-]+))", first)
        assert m, first + proc.stderr.read() if proc.poll() is not None else first
        _, _, port, token = m.groups()
        assert len(token) >= 20
        note = proc.stdout.readline()
        assert "phone" in note
        qr = []
        while len(qr) < 200 and (line := proc.stdout.readline().rstrip("\n")):
            qr.append(line)
            if len(qr) > 5 and len(qr) * 2 >= len(qr[0]):  # as tall as wide: the code is complete
                break
        assert decode_qr(qr) == m.group(1)  # a phone's camera opens exactly the printed address
        base = f"http://127.0.0.1:{port}"
        assert status(base + "/") == 403
        assert status(base + "/api/analyses") == 403
        assert status(base + f"/?token={token}") == 200
        assert status(base + "/api/analyses", {"X-Formcheck-Token": token}) == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_serve_on_this_machine_needs_no_token(tmp_path):
    proc = formcheck("serve", "--port", "0", "--data", str(tmp_path / "data"), "--workers", "1")
    try:
        first = proc.stdout.readline()
        m = re.search(r"serving on http://127\.0\.0\.1:(\d+)/ ", first)
        assert m, first
        assert status(f"http://127.0.0.1:{m.group(1)}/history") == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "formcheck: error: --workers must be at least 1, got 0"),
    (["--max-upload-mb", "0"], "formcheck: error: --max-upload-mb must be at least 1, got 0"),
    (["--port", "70000"], "formcheck: error: --port must be at most 65535, got 70000"),
])
def test_bad_options_fail_in_one_line(tmp_path, args, message):
    proc = formcheck("serve", "--data", str(tmp_path), *args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err.strip() == message


def test_busy_port_fails_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = formcheck("serve", "--port", str(port), "--data", str(tmp_path))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == f"formcheck: error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_without_the_web_extra_says_how_to_get_it(monkeypatch, capsys, tmp_path):
    import importlib.util

    from formcheck.cli.main import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "starlette" else real(name, *a))
    assert main(["serve", "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == ('formcheck: error: formcheck serve needs the web extra: '
                                               'pip install "formcheck[web]" (starlette not installed)')


def test_a_second_server_on_the_same_data_folder_stops_at_once(tmp_path):
    data = tmp_path / "data"
    first = formcheck("serve", "--port", "0", "--data", str(data), "--workers", "1")
    try:
        assert "serving on" in first.stdout.readline()
        in_flight = data / "tmp" / "0123456789abcdef"
        in_flight.mkdir()
        (in_flight / "video.mp4").write_bytes(b"half an upload")
        second = formcheck("serve", "--port", "0", "--data", str(data), "--workers", "1")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err.strip().startswith(f"formcheck: error: the data folder {data} is in use by another formcheck "
                                      f"serve (process {first.pid})")
        assert (in_flight / "video.mp4").read_bytes() == b"half an upload"
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
