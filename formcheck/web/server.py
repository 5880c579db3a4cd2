"""Where the web page listens: the data folder, loopback or a LAN address,
the listening socket, and the QR code a phone scans."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from formcheck.errors import FormcheckError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
EXTRA = 'formcheck serve needs the web extra: pip install "formcheck[web]"'
EXTRA_MODULES = ("starlette", "uvicorn", "jinja2", "python_multipart", "qrcode")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "formcheck" / "web"


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str:
    """This machine's address on the local network, for the phone. Connecting
    a UDP socket only picks the route; no packet is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened before any worker starts so a busy port fails at once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise FormcheckError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise FormcheckError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def draw_qr(text: str, out) -> None:
    import qrcode

    qr = qrcode.QRCode(border=1)
    qr.add_data(text)
    qr.make(fit=True)
    qr.print_ascii(out=out, invert=True)
