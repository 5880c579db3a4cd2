"""`formcheck serve`: a local web page to upload a squat video, watch the
analysis, read the report and see the history.

The web framework is an optional extra (`pip install "formcheck[web]"`);
this module registers the command without importing it.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import secrets
import socket
import sys
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


def cmd_serve(args: argparse.Namespace) -> int:
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise FormcheckError(f"{EXTRA} ({', '.join(missing)} not installed)")
    import uvicorn

    from formcheck.config import load_config
    from formcheck.model import resolve_model
    from formcheck.web.app import Settings, create_app
    from formcheck.web.jobs import JobQueue, Store

    for name, value, low in (("--port", args.port, 0), ("--workers", args.workers, 1),
                             ("--max-upload-mb", args.max_upload_mb, 1), ("--queue", args.queue, 1)):
        if value < low:
            raise FormcheckError(f"{name} must be at least {low}, got {value}")
    if args.port > 65535:
        raise FormcheckError(f"--port must be at most 65535, got {args.port}")
    model = resolve_model(args.model)
    load_config(args.config)  # a bad file fails now, not in every worker
    data = Path(args.data) if args.data else default_data_dir()
    try:
        store = Store(data)
    except OSError as exc:
        raise FormcheckError(f"cannot use {data} as the data folder: {exc.strerror or exc}") from None
    token = None if is_loopback(args.host) else secrets.token_urlsafe(16)
    sock = listen(args.host, args.port)
    port = sock.getsockname()[1]
    options = {"model": str(model.resolve()), "no_cache": args.no_cache, "config": args.config}
    queue = JobQueue(store, args.workers, args.queue, options)
    settings = Settings(data=store.root, max_upload=args.max_upload_mb << 20, token=token)
    app = create_app(settings, queue)

    shown = lan_address() if args.host in ("0.0.0.0", "::") else args.host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"formcheck: serving on {url}  (data in {store.root}; Ctrl-C stops)", flush=True)
    if token:
        print("formcheck: open that address on a phone on the same network; without the token "
              "every request is refused", flush=True)
        if not args.quiet:
            draw_qr(url, sys.stdout)
    queue.start()
    try:
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn hands Ctrl-C back after its clean shutdown: the normal way to stop
        pass
    finally:
        queue.stop()
        sock.close()
    return 0


def register(sub) -> None:
    from formcheck.batch import default_jobs
    from formcheck.cli_options import add_config_option, add_pose_options, examples

    p = sub.add_parser("serve", help="a local web page: upload a video (also from a phone), watch it, "
                                     "read the report, see the history",
                       description="Start a web server that analyses uploaded squat videos on this machine. "
                                   "It listens on 127.0.0.1 unless told otherwise; with --host 0.0.0.0 it "
                                   "prints an address with an access token (and a QR code) for a phone on "
                                   "the same network, and refuses requests without the token.",
                       epilog=examples("formcheck serve                      # then open http://127.0.0.1:8000/",
                                       "formcheck serve --host 0.0.0.0      # a phone on the same network: scan the QR code"))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--data", metavar="DIR", help=f"where uploads, reports and the history are kept "
                                                 f"(default: {default_data_dir()})")
    p.add_argument("--max-upload-mb", type=int, default=500, metavar="MB", help="largest upload accepted (default: 500)")
    p.add_argument("--workers", type=int, default=max(1, default_jobs() // 2), metavar="N",
                   help="videos analysed at once (default: half the cores, at least 1)")
    p.add_argument("--queue", type=int, default=8, metavar="N",
                   help="uploads that may wait for a worker; beyond that the server answers 429 (default: 8)")
    add_config_option(p)
    add_pose_options(p)
    p.set_defaults(func=cmd_serve)
