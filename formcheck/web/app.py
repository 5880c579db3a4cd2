"""The web server: pages and the JSON API they use, over the job queue.

Every page is a Jinja2 template with autoescape on; the report page shows
the HTML report the analysis wrote (outputs/render/html.py, the same file
`analyze --html` writes), so the two never drift apart.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

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
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from formcheck import __version__
from formcheck.errors import FormcheckError
from formcheck.web import work
from formcheck.web.jobs import ID_PATTERN, Job, JobQueue, QueueFull
from formcheck.web.upload import UploadError, receive

TOKEN_HEADER = "x-formcheck-token"
COOKIE = "formcheck_token"
# The files of an analysis a browser may fetch, with their download names.
FILES = {work.REPORT_JSON: "application/json", work.REPORT_CSV: "text/csv", work.POSE: "application/octet-stream",
         work.REPORT_HTML: "text/html", work.ANNOTATED: "video/mp4"}
LIFTER_MAX = 60


@dataclass(frozen=True)
class Settings:
    data: Path
    max_upload: int  # bytes
    token: str | None = None  # required on every request when set


class _ReportStyle:
    """The HTML report's stylesheet, for every page: one look, one place. Read
    on first use, so the idle server has not loaded the rendering code."""

    def __html__(self) -> str:
        from formcheck.outputs.render.html import CSS

        return CSS


# ---------------------------------------------------------------- token

class TokenGate:
    """Refuse (403) any request without the access token. A page opened with
    ?token= gets it as a cookie, so its links, video and API calls carry it."""

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive_, send):
        if scope["type"] != "http" or self.token is None:
            return await self.app(scope, receive_, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
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
        return page("history.html", jobs=[job_listing(j) for j in jobs], trends=trends)

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
                    downloads=present)

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
        tmp.mkdir()
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
        return JSONResponse({"analyses": [job_listing(j) for j in queue.all()]})

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
        Route("/api/analyses/{id}", status),
        Route("/api/safety", safety),
        Mount("/static", StaticFiles(packages=[("formcheck.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.queue = queue
    return TokenGate(app, settings.token)


def _check_video(path: Path, name: str) -> None:
    """The CLI's check, with the CLI's message, naming the file as the lifter knows it."""
    from formcheck.media.video import VideoSource

    try:
        VideoSource(path).close()
    except FormcheckError as exc:
        raise FormcheckError(str(exc).replace(str(path), name)) from None
