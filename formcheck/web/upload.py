"""Reading an upload as it streams in: the video goes straight to one file
of ours, every byte is counted, and the upload stops at the limit, so an
oversized request never fills the disk.

The browser's file name is kept only as text to show; the file on disk is
always named by us.
"""

from __future__ import annotations

import asyncio
import errno
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from formcheck.media.video import VIDEO_EXTENSIONS

STALL_S = 60.0  # seconds without a byte before an upload is given up
FIELD_LIMIT = 2048  # bytes for a text field (lifter name, a symptom code)
MAX_FIELDS = 64


class UploadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    path: Path | None = None  # where the video was written; None when the form had none
    size: int = 0
    file: str = ""  # the browser's name for it, cleaned for display
    fields: dict[str, list[str]] = field(default_factory=dict)


def display_name(raw: str) -> str:
    """The last part of a client's file name, without control characters, for showing only."""
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:120] or "video"


def stored_name(file: str) -> str:
    """The name the upload gets on disk: ours, keeping a known video extension
    (some decoders pick their demuxer by it), never any other part of the client's name."""
    suffix = Path(file).suffix.lower()
    return "video" + (suffix if suffix in VIDEO_EXTENSIONS else ".mp4")


def disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


DISK_FULL = "the server's disk is full: free some room (or delete old analyses on the history page) and try again"


def too_big(limit: int) -> UploadError:
    return UploadError(413, f"the upload is larger than this server's limit of {limit // (1 << 20)} MB "
                            "(formcheck serve --max-upload-mb raises it)")


async def receive(request, target_dir: Path, limit: int) -> Upload:
    """Parse the multipart body of `request`, writing the `video` part to target_dir."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError(400, "send the video as multipart/form-data in a field named 'video'")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # the form's own headers
        raise too_big(limit)

    upload = Upload()
    part: dict = {}
    out = None
    headers: list[list[bytes]] = []

    def on_part_begin():
        part.clear()
        headers.clear()

    def on_header_field(data, start, end):
        headers.append([data[start:end], b""])

    def on_header_value(data, start, end):
        headers[-1][1] += data[start:end]

    def on_headers_finished():
        nonlocal out
        disposition = {k.lower(): v for k, v in headers}.get(b"content-disposition", b"")
        _, opts = parse_options_header(disposition)
        part["name"] = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts and part["name"] == "video":
            if upload.path is not None:
                raise UploadError(400, "one video per upload")
            upload.file = display_name(opts[b"filename"].decode("utf-8", "replace"))
            upload.path = target_dir / stored_name(upload.file)
            out = open(upload.path, "wb")
            part["file"] = True
        else:
            part["value"] = bytearray()
            part["opts"] = opts

    def on_part_data(data, start, end):
        if part.get("file"):
            upload.size += end - start
            if upload.size > limit:
                raise too_big(limit)
            out.write(data[start:end])
        elif "value" in part:
            part["value"] += data[start:end]
            if len(part["value"]) > FIELD_LIMIT:
                hint = " (send the video in the field 'video')" if b"filename" in part.get("opts", {}) else ""
                raise UploadError(400, f"the form field {part['name']!r} is too long{hint}")

    def on_part_end():
        nonlocal out
        if part.get("file"):
            out.close()
            out = None
        elif "value" in part:
            if sum(map(len, upload.fields.values())) >= MAX_FIELDS:
                raise UploadError(400, "too many form fields")
            upload.fields.setdefault(part["name"], []).append(part["value"].decode("utf-8", "replace"))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data, "on_part_end": on_part_end})
    received = 0
    chunks = request.stream().__aiter__()
    try:
        while True:
            try:  # a client that stops sending must not hold the upload (and its worker slot) for ever
                chunk = await asyncio.wait_for(chunks.__anext__(), STALL_S)
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                raise UploadError(408, f"the upload stalled: nothing arrived for {STALL_S:g} s; "
                                       "try again on a steadier connection") from None
            received += len(chunk)
            if received > limit + 64 * 1024:
                raise too_big(limit)
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        raise
    except OSError as exc:  # writing the video: the disk, not the form
        if disk_full(exc):
            raise UploadError(507, DISK_FULL) from None
        raise UploadError(500, f"cannot store the upload: {exc.strerror or exc}") from None
    except Exception as exc:  # the parser's complaint about a malformed body
        raise UploadError(400, f"the upload is not a valid form ({exc})") from None
    finally:
        if out is not None:
            out.close()
    return upload
