"""The web server: pages and the JSON API they use, over the job queue.

Every page is a Jinja2 template with autoescape on; the report page shows
the HTML report the analysis wrote (outputs/render/html.py, the same file
`analyze --html` writes), so the two never drift apart.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from formcheck import __version__
from formcheck.errors import FormcheckError
from formcheck.web import work
from formcheck.web.jobs import ID_PATTERN, Job, JobQueue, QueueFull
from formcheck.web.upload import DISK_FULL, UploadError, disk_full, receive

TOKEN_HEADER = "x-formcheck-token"
COOKIE = "formcheck_token"
# The files of an analysis a browser may fetch, with their download names.
FILES = {work.REPORT_JSON: "application/json", work.REPORT_CSV: "text/csv", work.POSE: "application/octet-stream",
         work.REPORT_HTML: "text/html", work.ANNOTATED: "video/mp4"}
LIFTER_MAX = 60


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    data: Path
    max_upload: int  # bytes
    token: str | None = None  # required on every request when set
    # The names this server answers to in the Host header. Any other name is a
    # page that tricked the browser into reaching it (DNS rebinding): refused.
    hosts: frozenset[str] = LOOPBACK_HOSTS


class _ReportStyle:
    """The HTML report's stylesheet, for every page: one look, one place. Read
    on first use, so the idle server has not loaded the rendering code."""

    def __html__(self) -> str:
        from formcheck.outputs.render.html import CSS

        return CSS


# ---------------------------------------------------------------- who may ask

def host_name(netloc: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1', lower case."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class SameSiteGate:
    """Refuse (403) what a foreign web page can send through the user's browser.

    A Host header naming anything but this server means the request came by
    a name an attacker controls (DNS rebinding): every route refuses it. A
    request that changes something (POST, DELETE) must come from this
    server's own pages: an Origin naming another site, or none but a
    browser's word that it is cross-site, is refused. Scripts without an
    Origin (curl, the API's own clients) are not browsers and pass."""

    SAFE = ("GET", "HEAD", "OPTIONS")

    def __init__(self, app, hosts: frozenset[str]):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive_, send):
        if scope["type"] != "http":
            return await self.app(scope, receive_, send)
        headers = _headers(scope)
        host = headers.get("host", "")
        why = None
        if host_name(host) not in self.hosts:
            why = f"this server does not answer to the name {host_name(host) or '(none)'}"
        elif scope["method"] not in self.SAFE:
            origin = headers.get("origin")
            if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
                why = f"a request from another site ({origin}) cannot change anything here"
            elif origin is None and headers.get("sec-fetch-site") == "cross-site":
                why = "a request from another site cannot change anything here"
        if why:
            return await PlainTextResponse(f"forbidden: {why}", status_code=403)(scope, receive_, send)
        return await self.app(scope, receive_, send)



class TokenGate:
    """Refuse (403) any request without the access token. A page opened with
    ?token= gets it as a cookie, so its links, video and API calls carry it."""

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive_, send):
        if scope["type"] != "http" or self.token is None:
            return await self.app(scope, receive_, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        headers = _headers(scope)
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header counts as none
            pass
        offered = [query, headers.get(TOKEN_HEADER, ""), cookie[COOKIE].value if COOKIE in cookie else ""]
        if not any(o and secrets.compare_digest(o.encode(), self.token.encode()) for o in offered):
            response = PlainTextResponse("forbidden: this server needs its access token (open the address "
                                         "`formcheck serve` printed, with ?token=...)", status_code=403)
            return await response(scope, receive_, send)
        if not query:
            return await self.app(scope, receive_, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                value = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", value.encode("latin-1"))]}
            await send(message)

        return await self.app(scope, receive_, send_with_cookie)


# ---------------------------------------------------------------- views of a job

def status_url(job_id: str) -> str:
    return f"/api/analyses/{job_id}"


def report_url(job_id: str) -> str:
    return f"/analyses/{job_id}"


def job_status(job: Job, folder: Path, now: float) -> dict:
    """GET /api/analyses/{id}: the fields the API promises, then what the progress page shows."""
    report = None
    if job.status == "done":
        try:
            report = json.loads((folder / work.REPORT_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = None
    eta = job.eta_s(now)
    return {"id": job.id, "status": job.status, "progress": round(job.progress, 4),
            "error": job.error or None, "report": report,
            "stage": job.stage, "frames_done": job.frames_done, "frames_total": job.frames_total,
            "eta_s": None if eta is None else round(eta, 1)}


def job_listing(job: Job) -> dict:
    return {"id": job.id, "status": job.status, "created": _iso(job.created), "lifter": job.lifter,
            "file": job.file, "reps": job.summary.get("reps"), "faults": job.summary.get("faults", []),
            "error": job.error or None, "status_url": status_url(job.id), "report_url": report_url(job.id)}


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_MAIN = re.compile(r"<main>(.*)</main>", re.S)


def report_parts(page: str, files_url: str) -> tuple[str, str]:
    """(CSS, body) of an HTML report written by outputs/render/html.py, with the
    annotated video's relative address pointed at the server's copy."""
    style, main = _STYLE.search(page), _MAIN.search(page)
    if not (style and main):
        raise ValueError("not a formcheck HTML report")
    body = main.group(1)
    # The report links the video by its relative name (it sits next to it on disk);
    # the name is ours, and user text in the report is escaped, so only that link matches.
    for attr in ("src", "href"):
        body = body.replace(f'{attr}="{work.ANNOTATED}"', f'{attr}="{files_url}{work.ANNOTATED}"')
    return style.group(1), body


# ---------------------------------------------------------------- app

def create_app(settings: Settings, queue: JobQueue) -> Starlette:
    from formcheck.coach.faults import label
    from formcheck.coach.safety import RED_FLAGS, SYMPTOMS, assess, normalize
    from formcheck.web.trends import lifter_trends

    store = queue.store
    env = Environment(loader=PackageLoader("formcheck.web", "templates"), autoescape=select_autoescape(["html"]))
    env.globals.update(version=__version__, label=label, report_css=_ReportStyle())

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def error(status: int, message: str, **extra) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, **extra)

    def find(request: Request) -> Job | None:
        job_id = request.path_params["id"]
        return queue.get(job_id) if ID_PATTERN.fullmatch(job_id) else None

    async def upload_page(request: Request):
        symptoms = [{"code": c, "label": text, "red_flag": c in RED_FLAGS} for c, text in SYMPTOMS.items()]
        return page("upload.html", symptoms=symptoms, max_mb=settings.max_upload // (1 << 20))

    async def history_page(request: Request):
        jobs = queue.all()
        trends = await run_in_threadpool(lifter_trends, [j for j in jobs if j.status == "done"], store)
        size = await run_in_threadpool(store.size)
        return page("history.html", jobs=[job_listing(j) for j in jobs], trends=trends, size=human_size(size))

    async def analysis_page(request: Request):
        job = find(request)
        if job is None:
            return page("missing.html", status=404)
        if job.status != "done":
            return page("progress.html", job=job_listing(job), status_url=status_url(job.id))
        files_url = f"/analyses/{job.id}/files/"
        try:
            text = (store.folder(job.id) / work.REPORT_HTML).read_text(encoding="utf-8")
            css, body = report_parts(text, files_url)
        except (OSError, ValueError):
            return page("missing.html", status=404)
        downloads = [(work.REPORT_JSON, "report (JSON)"), (work.REPORT_CSV, "reps (CSV)"),
                     (work.POSE, "pose track (.npz)"), (work.REPORT_HTML, "report (HTML, offline)"),
                     (work.ANNOTATED, "annotated video (MP4)")]
        present = [(files_url + f, text) for f, text in downloads if (store.folder(job.id) / f).is_file()]
        return page("report.html", job=job_listing(job), report_css=Markup(css), report_body=Markup(body),
                    downloads=present, people=job.summary.get("people"))

    async def analysis_file(request: Request):
        job, name = find(request), request.path_params["name"]
        if job is None or job.status != "done" or name not in FILES:
            return PlainTextResponse("not found", status_code=404)
        path = store.folder(job.id) / name
        if not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        stem = re.sub(r"[^\w.-]+", "_", Path(job.file).stem)[:60] or "squat"
        download = None if name in (work.ANNOTATED, work.REPORT_HTML) else f"{stem}_{name}"
        return FileResponse(path, media_type=FILES[name], filename=download)

    async def create(request: Request):
        try:
            queue.check_room()  # before reading a byte: a full queue refuses at once
        except QueueFull as exc:
            return error(429, str(exc), headers={"Retry-After": "30"})
        job_id = store.new_id()
        tmp = store.tmp / job_id
        try:
            tmp.mkdir()
        except OSError as exc:
            return error(507, DISK_FULL) if disk_full(exc) else error(500, f"cannot store the upload: {exc}")
        try:
            try:
                upload = await receive(request, tmp, settings.max_upload)
            except UploadError as exc:
                return error(exc.status, str(exc))
            if upload.path is None or upload.size == 0:
                return error(400, "no video in the upload (send it in the form field 'video')")
            try:
                symptoms = normalize(upload.fields.get("symptom", []))
            except FormcheckError as exc:
                return error(400, str(exc))
            lifter = " ".join(" ".join(upload.fields.get("lifter", [""])[:1]).split())[:LIFTER_MAX]
            try:
                await run_in_threadpool(_check_video, upload.path, upload.file)
            except FormcheckError as exc:
                return error(400, str(exc))
            job = Job(id=job_id, created=time.time(), file=upload.file, video=upload.path.name,
                      lifter=lifter, symptoms=symptoms)
            folder = store.folder(job_id)
            tmp.rename(folder)
            try:
                queue.submit(job)
            except QueueFull as exc:
                shutil.rmtree(folder, ignore_errors=True)
                return error(429, str(exc), headers={"Retry-After": "30"})
            except FormcheckError as exc:  # job.json could not be written
                shutil.rmtree(folder, ignore_errors=True)
                return error(507, DISK_FULL) if os.strerror(errno.ENOSPC) in str(exc) else error(500, str(exc))
            return JSONResponse({"id": job_id, "status_url": status_url(job_id), "report_url": report_url(job_id)},
                                status_code=202)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    async def status(request: Request):
        job = find(request)
        if job is None:
            return error(404, "no such analysis")
        return JSONResponse(await run_in_threadpool(job_status, job, store.folder(job.id), time.time()))

    async def listing(request: Request):
        return JSONResponse({"analyses": [job_listing(j) for j in queue.all()],
                             "bytes": await run_in_threadpool(store.size)})

    async def delete(request: Request):
        job = find(request)
        if job is None:
            return error(404, "no such analysis")
        if not queue.delete(job.id):
            return error(409, "this analysis is still waiting or running: delete it once it has finished")
        if request.method == "DELETE":
            return Response(status_code=204)
        return RedirectResponse("/history", status_code=303)  # the history page's own form

    async def choose_person(request: Request):
        """The report page's picker: analyse another of the people in view,
        on the saved pose track."""
        job = find(request)
        if job is None:
            return error(404, "no such analysis")
        body = await request.body()
        if len(body) > 1024:
            return error(413, "the form is too large")
        picked = parse_qs(body.decode("utf-8", "replace")).get("person", [""])[0]
        seen = (job.summary.get("people") or {}).get("people", [])
        if not picked.isdigit() or int(picked) not in {p["id"] for p in seen}:
            return error(400, "choose one of the people in view by their number")
        try:
            if not queue.rerun(job.id, picked):
                return error(409, "this analysis is still waiting or running: choose once it has finished")
        except QueueFull as exc:
            return error(429, str(exc), headers={"Retry-After": "30"})
        return RedirectResponse(report_url(job.id), status_code=303)

    async def safety(request: Request):
        try:
            result = assess(request.query_params.getlist("symptom"))
        except FormcheckError as exc:
            return error(400, str(exc))
        return JSONResponse(result.to_dict())

    routes = [
        Route("/", upload_page),
        Route("/history", history_page),
        Route("/analyses/{id}", analysis_page),
        Route("/analyses/{id}/files/{name}", analysis_file),
        Route("/api/analyses", create, methods=["POST"]),
        Route("/api/analyses", listing, methods=["GET"]),
        Route("/api/analyses/{id}", status, methods=["GET"]),
        Route("/api/analyses/{id}", delete, methods=["DELETE"]),
        Route("/analyses/{id}/delete", delete, methods=["POST"]),
        Route("/analyses/{id}/person", choose_person, methods=["POST"]),
        Route("/api/safety", safety),
        Mount("/static", StaticFiles(packages=[("formcheck.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.queue = queue
    return SameSiteGate(TokenGate(app, settings.token), settings.hosts)


def _check_video(path: Path, name: str) -> None:
    """The CLI's check, with the CLI's message, naming the file as the lifter knows it."""
    from formcheck.media.video import VideoSource

    try:
        VideoSource(path).close()
    except FormcheckError as exc:
        raise FormcheckError(str(exc).replace(str(path), name)) from None
