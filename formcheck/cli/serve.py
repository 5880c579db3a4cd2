"""`formcheck serve`: the local web page. The web framework is an optional
extra (`pip install "formcheck[web]"`): registering the command never imports it."""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import sys
from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.web.server import (
    EXTRA,
    EXTRA_MODULES,
    default_data_dir,
    draw_qr,
    is_loopback,
    lan_address,
    listen,
)


def cmd_serve(args: argparse.Namespace) -> int:
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise FormcheckError(f"{EXTRA} ({', '.join(missing)} not installed)")
    import uvicorn

    from formcheck.coach.config import load_config
    from formcheck.media.model import resolve_model
    from formcheck.web.app import LOOPBACK_HOSTS, Settings, create_app, host_name
    from formcheck.web.jobs import JobQueue, Store, lock_data_folder

    for name, value, low in (("--port", args.port, 0), ("--workers", args.workers, 1),
                             ("--max-upload-mb", args.max_upload_mb, 1), ("--queue", args.queue, 1)):
        if value < low:
            raise FormcheckError(f"{name} must be at least {low}, got {value}")
    if args.port > 65535:
        raise FormcheckError(f"--port must be at most 65535, got {args.port}")
    model = resolve_model(args.model)
    load_config(args.config)  # a bad file fails now, not in every worker
    data = Path(args.data) if args.data else default_data_dir()
    token = None if is_loopback(args.host) else secrets.token_urlsafe(16)
    sock = listen(args.host, args.port)  # a busy port fails before the data folder is touched
    held = None
    try:
        held = lock_data_folder(data)  # before Store clears tmp/: it may be another server's
        store = Store(data)
    except OSError as exc:
        sock.close()
        raise FormcheckError(f"cannot use {data} as the data folder: {exc.strerror or exc}") from None
    except FormcheckError:
        sock.close()
        raise
    port = sock.getsockname()[1]
    options = {"model": str(model.resolve()), "no_cache": args.no_cache, "config": args.config}
    queue = JobQueue(store, args.workers, args.queue, options)
    hosts = LOOPBACK_HOSTS | {host_name(args.host)} | {host_name(h) for h in args.allow_host or ()}
    if args.host in ("0.0.0.0", "::"):
        hosts |= {lan_address()}
    settings = Settings(data=store.root, max_upload=args.max_upload_mb << 20, token=token, hosts=frozenset(hosts))
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
        if held is not None:
            held.close()
    return 0


def register(sub) -> None:
    from formcheck.batch.pool import default_jobs
    from formcheck.cli.options import add_config_option, add_pose_options, examples

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
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="another name the server may be reached by (repeatable), e.g. this machine's host name; "
                        "requests naming any other host are refused")
    p.add_argument("--max-upload-mb", type=int, default=500, metavar="MB", help="largest upload accepted (default: 500)")
    p.add_argument("--workers", type=int, default=max(1, default_jobs() // 2), metavar="N",
                   help="videos analysed at once (default: half the cores, at least 1)")
    p.add_argument("--queue", type=int, default=8, metavar="N",
                   help="uploads that may wait for a worker; beyond that the server answers 429 (default: 8)")
    add_config_option(p)
    add_pose_options(p)
    p.set_defaults(func=cmd_serve)
