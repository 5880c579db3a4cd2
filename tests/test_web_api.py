"""The web server's JSON API through Starlette's test client: uploads,
status, history, the limits (size, queue, token) and failures (not a video,
a crashed worker, a restart)."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("starlette", reason="needs the web extra (pip install '.[web]')")
from starlette.testclient import TestClient  # noqa: E402

import web_fakes  # noqa: E402
from formcheck.batch.clips import CRASHED  # noqa: E402
from formcheck.web.app import COOKIE, TOKEN_HEADER, Settings, create_app  # noqa: E402
from formcheck.web.jobs import INTERRUPTED, Job, JobQueue, Store  # noqa: E402

MB = 1 << 20
SMALL_CLIP = "dnly09_gf_1_goodform.mp4"  # 1.7 s, 108x192: one rep, cheap to analyse


@pytest.fixture
def serve(tmp_path):
    """serve(work=..., **settings) -> (TestClient, JobQueue); stopped after the test."""
    started = []

    def make(work=web_fakes.finish, workers=1, limit=4, token=None, max_upload=5 * MB, options=None, data=None):
        store = Store(data or tmp_path / "data")
        opts = {"model": "", "no_cache": False, "config": None, "release": str(tmp_path / "release"),
                **(options or {})}
        queue = JobQueue(store, workers, limit, opts, work=work, warm=False if work is not None else None)
        queue.start()
        # The address a browser on this machine uses: the server answers only to its own names.
        app = create_app(Settings(store.root, max_upload, token), queue)
        client = TestClient(app, base_url="http://127.0.0.1:8000")
        started.append(queue)
        return client, queue

    yield make
    for q in started:
        q.stop()


def wait_status(client, job_id, wanted, timeout=120.0, until=None) -> dict:
    """The status once it is one of `wanted` (and `until(status)` holds), or the last one seen."""
    deadline = time.monotonic() + timeout
    while True:
        s = client.get(f"/api/analyses/{job_id}").json()
        if (s["status"] in wanted and (until is None or until(s))) or time.monotonic() > deadline:
            return s
        time.sleep(0.1)


def post(client, data: bytes = b"\x00" * 1000, name="clip.mp4", **fields):
    return client.post("/api/analyses", files={"video": (name, data, "video/mp4")}, data=fields)


def fake_video(tmp_path) -> bytes:
    """A real (tiny) video file: the upload check opens it as the CLI would."""
    import cv2
    import numpy as np

    path = tmp_path / "tiny.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 64))
    for i in range(5):
        out.write(np.full((64, 64, 3), 40 * i, np.uint8))
    out.release()
    return path.read_bytes()


def test_real_clip_end_to_end(serve, videos, labels):
    client, queue = serve(work=None)  # the real worker: pose, analysis, reports, video
    r = post(client, (videos / SMALL_CLIP).read_bytes(), name=SMALL_CLIP, lifter="Sam")
    assert r.status_code == 202
    body = r.json()
    assert set(body) == {"id", "status_url", "report_url"}
    assert body["status_url"] == f"/api/analyses/{body['id']}" and body["report_url"] == f"/analyses/{body['id']}"
    s = wait_status(client, body["id"], {"done", "failed"})
    assert set(s) >= {"id", "status", "progress", "error", "report"}
    assert s["status"] == "done", s
    assert s["progress"] == 1 and s["error"] is None
    assert s["report"]["schema"] == "formcheck.report/1"
    assert s["report"]["rep_count"] == labels[SMALL_CLIP]["reps"]
    folder = queue.store.folder(body["id"])
    assert {"report.json", "report_reps.csv", "report_pose.npz", "report.html", "annotated.mp4"} <= {
        p.name for p in folder.iterdir()}

    page = client.get(body["report_url"])
    assert page.status_code == 200
    # The file report's content, with its video pointed at the server's copy.
    assert '<table id="reps"' in page.text and '<section id="verdict">' in page.text and "Squat report" in page.text
    assert f'src="/analyses/{body["id"]}/files/annotated.mp4"' in page.text
    video = client.get(f"/analyses/{body['id']}/files/annotated.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and len(video.content) > 1000
    part = client.get(f"/analyses/{body['id']}/files/annotated.mp4", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100  # the browser can seek
    csv = client.get(f"/analyses/{body['id']}/files/report_reps.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]

    history = client.get("/api/analyses").json()["analyses"]
    assert [(h["id"], h["lifter"], h["file"], h["reps"]) for h in history] == [
        (body["id"], "Sam", SMALL_CLIP, labels[SMALL_CLIP]["reps"])]
    page = client.get("/history")
    assert f'data-id="{body["id"]}"' in page.text and "<svg" in page.text  # Sam's trend chart


def test_not_a_video_gets_the_cli_message(serve, tmp_path):
    client, queue = serve()
    r = post(client, b"just some notes, not a video\n" * 50, name="notes.txt")
    assert r.status_code == 400
    assert r.json()["error"] == "cannot read video (not a video or unsupported format): notes.txt"
    assert client.get("/api/analyses").json()["analyses"] == []
    assert list(queue.store.tmp.iterdir()) == [] and list(queue.store.analyses.iterdir()) == []


def test_bad_requests(serve, tmp_path):
    client, _ = serve()
    assert client.post("/api/analyses", data={"lifter": "x"}).status_code == 400  # not multipart
    r = client.post("/api/analyses", files={"other": ("a.mp4", b"123")})
    assert r.status_code == 400 and "video" in r.json()["error"]
    r = post(client, fake_video(tmp_path), symptom="sore toe")
    assert r.status_code == 400 and r.json()["error"].startswith("unknown symptom 'sore toe'; valid codes:")
    assert client.get("/api/analyses/0123456789abcdef").status_code == 404
    assert client.get("/api/analyses/..%2F..%2Fetc").status_code == 404
    assert client.get("/analyses/0123456789abcdef").status_code == 404


def test_upload_over_the_limit_is_refused_without_filling_the_disk(serve, tmp_path):
    client, queue = serve(max_upload=1 * MB)
    # Declared too big: refused before a byte of the body is read.
    r = post(client, b"\x00" * (3 * MB))
    assert r.status_code == 413 and "1 MB" in r.json()["error"]
    assert list(queue.store.tmp.iterdir()) == [] and client.get("/api/analyses").json()["analyses"] == []


def test_upload_stream_stops_at_the_limit(tmp_path):
    """No length declared (chunked): the body is counted as it arrives and
    reading stops once it passes the limit; the disk never holds more."""
    import asyncio

    from formcheck.web.upload import UploadError, receive

    chunk, limit = 256 * 1024, 1 * MB
    seen = {"chunks": 0, "disk": []}

    class Request:
        headers = {"content-type": "multipart/form-data; boundary=B"}

        async def stream(self):
            yield (b"--B\r\nContent-Disposition: form-data; name=\"video\"; filename=\"big.mp4\"\r\n"
                   b"Content-Type: video/mp4\r\n\r\n")
            for _ in range(64):  # 16 MB offered
                seen["disk"].append(sum(p.stat().st_size for p in tmp_path.iterdir()))
                seen["chunks"] += 1
                yield b"\x00" * chunk
            yield b"\r\n--B--\r\n"

    with pytest.raises(UploadError) as err:
        asyncio.run(receive(Request(), tmp_path, limit))
    assert err.value.status == 413
    assert seen["chunks"] <= limit // chunk + 2  # stopped reading, not drained the 16 MB
    assert max(seen["disk"]) <= limit


def test_client_file_name_never_becomes_a_path(serve, tmp_path):
    client, queue = serve()
    r = post(client, fake_video(tmp_path), name="../../../../evil.mov")
    assert r.status_code == 202
    job_id = r.json()["id"]
    assert wait_status(client, job_id, {"done", "failed"})["status"] == "done"
    assert sorted(p.name for p in queue.store.folder(job_id).iterdir()) == ["job.json", "report.json", "video.mov"]
    assert not (tmp_path / "evil.mov").exists() and not list(tmp_path.rglob("evil*"))
    assert client.get("/api/analyses").json()["analyses"][0]["file"] == "evil.mov"


def test_user_text_is_escaped_on_every_page(serve, tmp_path):
    client, _ = serve(work=web_fakes.wait_for_release)
    hostile = "<img src=x onerror=alert(1)>"
    r = post(client, fake_video(tmp_path), name=f"{hostile}.mp4", lifter=hostile)
    job_id = r.json()["id"]
    for url in ("/history", f"/analyses/{job_id}"):  # the progress page while it runs
        text = client.get(url).text
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text, url
    (tmp_path / "release").touch()


def test_display_names_are_only_text():
    from formcheck.web.upload import display_name, stored_name

    assert display_name("C:\\Users\\me\\..\\squat.MOV") == "squat.MOV"
    assert display_name("a\x00b\nc\x1b.mp4") == "abc.mp4"
    assert display_name("../..") == ".." and display_name("") == "video"
    assert stored_name("../../x.MOV") == "video.mov" and stored_name("run.sh") == "video.mp4"


def test_full_queue_answers_429(serve, tmp_path):
    client, queue = serve(work=web_fakes.wait_for_release, workers=1, limit=1)
    video = fake_video(tmp_path)
    first = post(client, video).json()["id"]
    s = wait_status(client, first, {"running"}, until=lambda s: s["frames_total"])
    assert s["status"] == "running"
    assert s["frames_total"] == 10 and 0 < s["progress"] < 1  # progress as the worker reports it
    second = post(client, video)
    assert second.status_code == 202  # waits in the queue
    third = post(client, video)
    assert third.status_code == 429
    assert third.json()["error"] == "the queue is full (1 analyses waiting); try again when one has finished"
    assert "retry-after" in third.headers
    (tmp_path / "release").touch()
    assert wait_status(client, second.json()["id"], {"done", "failed"})["status"] == "done"
    assert post(client, video).status_code == 202  # room again


def test_crashed_worker_fails_its_job_and_the_server_goes_on(serve, tmp_path):
    client, queue = serve(work=web_fakes.crash)
    video = fake_video(tmp_path)
    doomed = post(client, video, name="crash.mp4").json()["id"]
    s = wait_status(client, doomed, {"done", "failed"})
    assert s["status"] == "failed" and s["error"] == CRASHED and s["report"] is None
    fine = post(client, video, name="fine.mp4").json()["id"]
    assert wait_status(client, fine, {"done", "failed"})["status"] == "done"
    statuses = {h["id"]: h["status"] for h in client.get("/api/analyses").json()["analyses"]}
    assert statuses == {doomed: "failed", fine: "done"}
    saved = json.loads((queue.store.folder(doomed) / "job.json").read_text())
    assert saved["status"] == "failed" and saved["error"] == CRASHED


def test_restart_keeps_history_and_fails_interrupted_jobs(tmp_path, serve):
    store = Store(tmp_path / "data")
    now = time.time()
    for job_id, status in (("a" * 16, "done"), ("b" * 16, "running"), ("c" * 16, "queued")):
        store.folder(job_id).mkdir()
        store.save(Job(id=job_id, created=now, file=f"{status}.mp4", video="video.mp4", status=status,
                       summary={"reps": 3, "faults": ["forward_lean"]} if status == "done" else {}))
    (store.tmp / "half-upload").mkdir()
    client, _ = serve(data=tmp_path / "data")
    history = {h["id"]: h for h in client.get("/api/analyses").json()["analyses"]}
    assert history["a" * 16]["status"] == "done" and history["a" * 16]["reps"] == 3
    for job_id in ("b" * 16, "c" * 16):
        assert history[job_id]["status"] == "failed" and history[job_id]["error"] == INTERRUPTED
        assert json.loads((store.folder(job_id) / "job.json").read_text())["status"] == "failed"
    assert not (store.tmp / "half-upload").exists()


def test_token_is_required_when_set(serve, tmp_path):
    client, _ = serve(token="s3cret-token")
    assert client.get("/").status_code == 403
    assert client.get("/api/analyses").status_code == 403
    assert client.get("/api/analyses", headers={TOKEN_HEADER: "wrong"}).status_code == 403
    assert post(client, fake_video(tmp_path)).status_code == 403
    assert client.get("/api/analyses", headers={TOKEN_HEADER: "s3cret-token"}).status_code == 200
    opened = client.get("/?token=s3cret-token")
    assert opened.status_code == 200 and COOKIE in opened.headers["set-cookie"]
    assert "HttpOnly" in opened.headers["set-cookie"]
    # The page's own requests carry it as the cookie from then on.
    assert client.get("/api/analyses").status_code == 200


def test_safety_screening_is_the_clis(serve):
    from formcheck.coach.safety import assess

    client, _ = serve()
    r = client.get("/api/safety?symptom=numbness_tingling&symptom=back_cramping").json()
    assert r == assess(["numbness_tingling", "back_cramping"]).to_dict() and r["message"]
    assert client.get("/api/safety?symptom=back_cramping").json()["message"] == ""
    page = client.get("/").text
    assert page.count('type="checkbox" name="symptom"') == 10 and page.count("data-red-flag") == 7


def test_history_trends_per_lifter(tmp_path):
    import re

    from formcheck.web.trends import lifter_trends

    store = Store(tmp_path / "data")

    def rep(faults, lean, speed=None, unit="m/s"):
        return {"partial": False, "faults": [{"code": c} for c in faults],
                "metrics": {"trunk_lean_max": {"value": lean, "measurable": True}},
                "speed": {"mean_velocity": speed, "velocity_unit": unit} if speed else None}

    sessions = [("Sam", [rep(["forward_lean"], 60.0, 0.5), rep([], 40.0, 0.4)]),  # half the reps lean
                ("Sam", [rep([], 30.0, 0.6), rep([], 30.0, 0.6)]),
                ("Kim", [rep(["heel_lift"], 35.0, 0.9, unit="leg lengths/s")])]
    jobs = []
    for k, (lifter, reps) in enumerate(sessions):
        job = Job(id=f"{k:016x}", created=1_700_000_000 + 86400 * k, file="x.mp4", video="video.mp4",
                  lifter=lifter, status="done")
        store.folder(job.id).mkdir()
        (store.folder(job.id) / "report.json").write_text(json.dumps({"reps": reps}))
        jobs.append(job)
    trends = {t["lifter"]: t for t in lifter_trends(jobs, store)}
    assert set(trends) == {"Sam", "Kim"} and trends["Sam"]["sessions"] == 2
    share, lean, speed = (str(c) for c in trends["Sam"]["charts"])
    assert "Share of reps with each fault" in share and "forward lean" in share.lower()
    # y of the two points: 50 % then 0 % on a 0-100 axis drawn from y=12 (100) to y=156 (0).
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', share)]
    assert ys == [84.0, 156.0]
    assert "Trunk lean" in lean and len(re.findall("<circle", lean)) == 2
    assert "Bar speed" in speed and len(re.findall("<circle", speed)) == 2
    first, second = (float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', speed))
    assert first > second  # 0.45 m/s drawn under 0.6 m/s
    kim = " ".join(str(c) for c in trends["Kim"]["charts"])
    assert "Bar speed" not in kim  # leg lengths a second: not on a chart in m/s


# ---------------------------------------------------------------- a stranger's page, a full disk

def test_a_foreign_host_name_is_refused_on_every_route(serve, tmp_path):
    """DNS rebinding: a page on attacker.example resolves its name to 127.0.0.1."""
    client, _ = serve()
    job_id = post(client, fake_video(tmp_path)).json()["id"]
    for path in ("/api/analyses", f"/api/analyses/{job_id}", "/history", "/"):
        r = client.get(path, headers={"Host": "attacker.example:8000"})
        assert r.status_code == 403 and "attacker.example" in r.text and job_id not in r.text
    assert client.get("/api/analyses", headers={"Host": "localhost:8000"}).status_code == 200


def test_a_cross_site_write_is_refused(serve, tmp_path):
    client, queue = serve()
    for headers in ({"Origin": "http://attacker.example"}, {"Origin": "null"},
                    {"Origin": "http://127.0.0.1:9999"}, {"Sec-Fetch-Site": "cross-site"}):
        r = client.post("/api/analyses", files={"video": ("a.mp4", b"\0" * 100, "video/mp4")}, headers=headers)
        assert r.status_code == 403, headers
    assert queue.all() == []
    own = client.post("/api/analyses", files={"video": ("a.mp4", fake_video(tmp_path), "video/mp4")},
                      headers={"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 202


def test_a_full_disk_during_a_job_does_not_stop_the_server(serve, monkeypatch, tmp_path):
    from formcheck.errors import FormcheckError

    client, queue = serve()
    real_save, failures = Store.save, []

    def save_on_a_full_disk(self, job):
        if job.status == "done" and not failures:
            failures.append(job.id)
            raise FormcheckError("cannot write job.json: No space left on device")
        return real_save(self, job)

    monkeypatch.setattr(Store, "save", save_on_a_full_disk)
    first = post(client, fake_video(tmp_path)).json()["id"]
    assert wait_status(client, first, ("done", "failed"))["status"] == "done"  # kept in memory
    monkeypatch.setattr(Store, "save", real_save)  # room again
    second = post(client, fake_video(tmp_path)).json()["id"]
    assert wait_status(client, second, ("done", "failed"))["status"] == "done", "the dispatcher died"


def test_a_full_disk_during_an_upload_says_so(serve, monkeypatch, tmp_path):
    import errno

    from formcheck.web import upload

    class FullDisk:
        def __init__(self, *a, **k):
            pass

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            pass

    client, queue = serve()
    monkeypatch.setattr(upload, "open", FullDisk, raising=False)
    r = post(client, fake_video(tmp_path))
    assert r.status_code == 507 and r.json()["error"].startswith("the server's disk is full")
    assert queue.all() == [] and not any(queue.store.tmp.iterdir())


def test_finished_analyses_can_be_deleted_from_the_history(serve, tmp_path):
    client, queue = serve(work=web_fakes.wait_for_release)
    held = post(client, fake_video(tmp_path)).json()["id"]
    assert client.delete(f"/api/analyses/{held}").status_code == 409  # still running: kept
    (tmp_path / "release").touch()
    assert wait_status(client, held, ("done",))["status"] == "done"
    listing = client.get("/api/analyses").json()
    assert listing["bytes"] > 0
    assert "on disk" in client.get("/history").text
    r = client.post(f"/analyses/{held}/delete", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/history"
    assert not queue.store.folder(held).exists()
    assert client.get(f"/api/analyses/{held}").status_code == 404
    assert client.delete(f"/api/analyses/{held}").status_code == 404


def test_a_stop_marks_what_it_cut_short(serve, tmp_path):
    client, queue = serve(work=web_fakes.wait_for_release)
    job_id = post(client, fake_video(tmp_path)).json()["id"]
    wait_status(client, job_id, ("running",))
    queue.stop()
    record = json.loads((queue.store.folder(job_id) / "job.json").read_text())
    assert record["status"] == "failed" and record["error"] == INTERRUPTED


def test_a_stalled_upload_is_given_up(tmp_path, monkeypatch):
    import asyncio

    from formcheck.web import upload

    monkeypatch.setattr(upload, "STALL_S", 0.2)

    class Stalling:
        headers = {"content-type": "multipart/form-data; boundary=xyz"}

        async def stream(self):
            yield b'--xyz\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\nabc'
            await asyncio.sleep(30)  # the phone lost its signal

    with pytest.raises(upload.UploadError) as err:
        asyncio.run(asyncio.wait_for(upload.receive(Stalling(), tmp_path, 1 << 20), 10))
    assert err.value.status == 408 and "stalled" in str(err.value)


def test_a_video_in_the_wrong_field_is_told_where_it_goes(serve, tmp_path):
    client, _ = serve()
    for size in (100, 100_000):  # a small file and one past the text fields' limit
        r = client.post("/api/analyses", files={"file": ("a.mp4", b"\0" * size, "video/mp4")})
        assert r.status_code == 400 and "field 'video'" in r.json()["error"], r.json()


def test_the_report_names_the_lifters_file_not_the_servers_folder(serve, videos, tmp_path):
    client, queue = serve(work=None)
    r = post(client, (videos / SMALL_CLIP).read_bytes(), name="my squat.mp4")
    job_id = r.json()["id"]
    status = wait_status(client, job_id, ("done", "failed"))
    assert status["status"] == "done", status
    assert status["report"]["video"]["path"] == "my squat.mp4"
    page = client.get(f"/analyses/{job_id}").text
    assert "my squat.mp4" in page and str(queue.store.root) not in page


def test_the_person_picker_runs_the_analysis_again_for_someone_in_view(serve, tmp_path):
    client, queue = serve(work=web_fakes.two_people)
    job = post(client, fake_video(tmp_path)).json()["id"]
    assert wait_status(client, job, ("done",))["status"] == "done"
    page = client.get(f"/analyses/{job}")
    assert page.status_code == 200
    assert '<button type="submit" name="person" value="2">Person 2, on the right</button>' in page.text
    assert 'value="1" disabled aria-current="true"' in page.text  # the one this report is about
    for bad in ("3", "left", "", "1; rm -rf /"):  # only the numbers of the people in view
        r = client.post(f"/analyses/{job}/person", data={"person": bad}, follow_redirects=False)
        assert r.status_code == 400 and r.json()["error"] == "choose one of the people in view by their number"
    foreign = client.post(f"/analyses/{job}/person", data={"person": "2"}, follow_redirects=False,
                          headers={"Origin": "http://attacker.example"})
    assert foreign.status_code == 403
    assert (queue.store.folder(job) / "asked.txt").read_text() == "auto"
    r = client.post(f"/analyses/{job}/person", data={"person": "2"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/analyses/{job}"
    assert wait_status(client, job, ("done",), until=lambda s: (queue.store.folder(job) / "asked.txt").read_text()
                       == "2")["status"] == "done"
    assert json.loads((queue.store.folder(job) / "job.json").read_text())["person"] == "2"
    assert 'value="2" disabled aria-current="true"' in client.get(f"/analyses/{job}").text
    assert client.post("/analyses/0123456789abcdef/person", data={"person": "1"}).status_code == 404


def test_the_person_picker_waits_for_a_running_analysis(serve, tmp_path):
    client, queue = serve(work=web_fakes.wait_for_release)
    held = post(client, fake_video(tmp_path)).json()["id"]
    queue.jobs[held].summary["people"] = {"analysed": 1, "people": [{"id": 1}, {"id": 2}]}
    r = client.post(f"/analyses/{held}/person", data={"person": "2"})
    assert r.status_code == 409
    (tmp_path / "release").touch()
