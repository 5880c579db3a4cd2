"""One clip of a batch: discovery, the plan (what is done already, what to
redo), the analysis every engine runs, and the files written for it.

Whom to analyse when several people are in view: the batch's --person,
or for one clip a small file beside it, CLIP.person (e.g. set1.mp4.person),
holding a --person value such as `left` or a number from an earlier report.

Each clip gets its own folder OUT/clips/<name>/ with the JSON, CSV and pose
track of `analyze --out` (HTML with --html), then a done.json written last:
it records the video, model and settings hashes, so a re-run skips finished
clips and redoes changed ones, and a batch killed half-way resumes without
redoing or truncating anything. A folder without done.json holds nothing
to trust.

Workers only analyse: each hands back the clip's files as bytes and the
parent writes them (commit), so the local process pool (pool.py) and a Dask
cluster (cluster.py) share one path for everything written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from formcheck import __version__
from formcheck.errors import FormcheckError
from formcheck.media.atomic import write_text
from formcheck.media.video import VIDEO_EXTENSIONS

DONE = "done.json"
DONE_SCHEMA = "formcheck.batch.done/1"
SUMMARY_SCHEMA = "formcheck.batch/1"
CRASHED = "the analysis process crashed (out of memory, or a fault in a native library)"
SUMMARY_FIELDS = ("clip", "status", "run", "reps", "faults", "top_fault", "error", "folder")


@dataclass
class Clip:
    rel: str  # path relative to the input folder, with forward slashes
    video: str
    folder: str  # absolute output folder, always inside OUT/clips
    sha256: str | None = None
    error: str | None = None  # known before any analysis (unreadable file)
    prior: dict | None = None  # the result of an earlier run that still holds
    person: str = "auto"  # whom to analyse among the people in view (a --person value)


PERSON_SIDECAR = ".person"  # CLIP.person beside a clip: whom to analyse in it


def person_for(video: Path, default: str) -> str:
    """The clip's sidecar's --person value, else the batch's."""
    from formcheck.pose.people import person_rule

    sidecar = video.with_name(video.name + PERSON_SIDECAR)
    if not sidecar.is_file():
        return default
    try:
        text = sidecar.read_text(encoding="utf-8")[:100].strip()
        rule = person_rule(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FormcheckError(f"{sidecar.name}: {exc}") from None
    if rule == "all":
        raise FormcheckError(f"{sidecar.name}: a batch writes one report per clip: name one person, not all")
    return rule


# ---------------------------------------------------------------- discover / plan

def discover(src: Path, skip: Path | None = None, skipped: list[str] | None = None) -> list[Path]:
    """Videos under src, sorted; hidden files and folders (e.g. macOS ._clip.mp4
    resource forks) and the output folder, when it lies inside src, are left out.
    What else is left out is added to `skipped`, for the user to hear of: links
    to folders (never followed: they may loop) and files that are not videos."""
    found = []
    skip = skip.resolve() if skip else None
    for root, dirs, files in os.walk(src):
        for d in dirs:
            if not d.startswith(".") and Path(root, d).is_symlink() and skipped is not None:
                skipped.append(f"{Path(root, d)}/ (a link to a folder: not followed)")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not Path(root, d).is_symlink()
                         and (skip is None or Path(root, d).resolve() != skip))
        for f in files:
            if f.startswith("."):
                continue
            if Path(f).suffix.lower() in VIDEO_EXTENSIONS:
                found.append(Path(root, f))
            elif f.endswith(PERSON_SIDECAR) and Path(f[:-len(PERSON_SIDECAR)]).suffix.lower() in VIDEO_EXTENSIONS:
                continue  # a clip's choice of person, read with the clip
            elif skipped is not None:
                skipped.append(f"{Path(root, f)} (not a video file name)")
    return sorted(found)


def _safe_part(part: str) -> str:
    # No separators, no leading dots: a name can never climb out of OUT or hide.
    return re.sub(r"[^\w.-]+", "_", part).strip("._ ")[:80] or "clip"


def folder_names(rels: list[str]) -> dict[str, str]:
    """Output folder name per relative path: sub1/a.mp4 -> sub1__a; names that
    would clash (also ignoring case, for case-insensitive disks) get a short
    hash of the relative path, so two clips never share a folder."""
    base = {}
    for rel in rels:
        parts = rel.split("/")
        parts[-1] = parts[-1].rsplit(".", 1)[0]
        base[rel] = "__".join(_safe_part(p) for p in parts)
    counts = Counter(name.lower() for name in base.values())
    return {rel: name if counts[name.lower()] == 1
            else f"{name}-{hashlib.sha256(rel.encode()).hexdigest()[:8]}"
            for rel, name in base.items()}


def settings_stamp(model: Path, config: dict, symptoms, html: bool) -> dict:
    """What a finished clip must match to be skipped."""
    from formcheck.media.model import file_sha256
    from formcheck.pose import PoseSettings

    settings = {"config": config, "symptoms": sorted(symptoms), "pose": asdict(PoseSettings()),
                "formcheck": __version__}
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return {"model_sha256": file_sha256(str(model)), "config_sha256": hashlib.sha256(blob).hexdigest(),
            "html": html}


def _still_valid(folder: Path, sha256: str, stamp: dict) -> dict | None:
    try:
        done = json.loads((folder / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (done.get("schema") == DONE_SCHEMA and done.get("video_sha256") == sha256
            and all(done.get(k) == stamp[k] for k in ("model_sha256", "config_sha256"))
            and done.get("person", "auto") == stamp["person"]
            and (done.get("html") or not stamp["html"]))
    complete = "result" in done and all((folder / f).is_file() for f in done.get("files", []))
    return {**done["result"], "run": "skipped"} if same and complete else None


def plan(src: Path, out: Path, videos: list[Path], stamp: dict, force: bool = False,
         person: str = "auto") -> list[Clip]:
    from formcheck.media.model import file_sha256

    rels = [v.relative_to(src).as_posix() for v in videos]
    names = folder_names(rels)
    clips_root = (out / "clips").resolve()
    clips = []
    for video, rel in zip(videos, rels):
        folder = (clips_root / names[rel]).resolve()
        clip = Clip(rel, str(video), str(folder))
        if not folder.is_relative_to(clips_root):  # a planted symlink pointing elsewhere
            clip.error = f"output folder {folder} is outside {out}"
        else:
            try:
                clip.sha256 = file_sha256(str(video.resolve()))
                clip.person = person_for(video, person)
            except OSError as exc:
                clip.error = f"cannot read {rel}: {exc.strerror or exc}"
            except FormcheckError as exc:
                clip.error = str(exc)
        if clip.sha256 and not clip.error and not force:
            clip.prior = _still_valid(folder, clip.sha256, {**stamp, "person": clip.person})
        clips.append(clip)
    return clips


# ---------------------------------------------------------------- worker

@dataclass
class ClipResult:
    """What analysing one clip hands back to the parent: its summary record
    and, when it succeeded, the bytes of each per-clip file. Workers never
    write into OUT; the parent does (commit), whichever engine ran the clip."""
    clip: Clip
    record: dict
    files: dict[str, bytes] = field(default_factory=dict)


def analyse(clip: Clip, options: dict, config: dict, backend) -> ClipResult:
    """Analyse one clip and render its files in memory. The one analysis every
    engine runs; never raises for a bad clip: the error goes into the record."""
    from formcheck.analyze import analyze_track
    from formcheck.outputs.report import csv_rows
    from formcheck.pose import PoseSettings
    from formcheck.pose.extract import extract_track, require_person
    from formcheck.pose.people import follow

    started = time.monotonic()
    record = {"clip": clip.rel, "run": "analysed"}
    try:
        backend.next_clip()
        # warn=False: the worker's stderr is the progress bar's; the notes go to the record.
        track = extract_track(clip.video, model=options["model"], settings=PoseSettings(),
                              use_cache=not options["no_cache"], quiet=True, backend=backend, warn=False)
        require_person(track, clip.rel)
        track = follow(track, clip.person)
        analysis = analyze_track(track, config, symptoms=options["symptom"] or ())
        files = _render(analysis, options["html"])
    except Exception as exc:  # one clip's problem must not end the batch; the summary says which
        if isinstance(exc, FormcheckError):
            error = str(exc)
        elif isinstance(exc, OSError):
            error = f"cannot write a report file: {exc.strerror or exc}"
        else:
            error = f"internal error: {type(exc).__name__}: {exc}"
        return ClipResult(clip, {**record, "status": "failed", "error": error})
    faults = analysis.faults
    record.update(
        status="ok", reps=len(analysis.complete_reps), faults=[f.code for f in faults],
        top_fault=max(faults, key=lambda f: len(f.reps)).code if faults else "",
        frames=track.frames, seconds=round(time.monotonic() - started, 3),
        **({"person": analysis.people.analysed, "people": len(analysis.people.people)}
           if analysis.people is not None and len(analysis.people.people) > 1 else {}),
        warnings=analysis.warnings, rows=csv_rows(analysis, clip=clip.rel))
    return ClipResult(clip, record, files)


def _render(analysis, html: bool) -> dict[str, bytes]:
    """The files of `analyze --out` (HTML only when asked: plots and key
    frames are slow), written by the same code as `analyze`, into a private
    temp folder and read back, so a worker on another machine needs no
    access to OUT."""
    from formcheck.outputs.writers import OutputOptions, write_outputs

    with tempfile.TemporaryDirectory(prefix="formcheck-clip-") as tmp:
        tmp = Path(tmp)
        files = OutputOptions(json=tmp / "report.json", csv=tmp / "report_reps.csv",
                              html=tmp / "report.html" if html else None)
        written = write_outputs(analysis, files)
        analysis.track.save(tmp / "report_pose.npz")  # re-analysis without inference, as after `analyze --out`
        written.append(tmp / "report_pose.npz")
        return {p.name: p.read_bytes() for p in written}


def _sweep_partials(folder: Path) -> None:
    # Temp files of atomic writes interrupted by a kill; nothing else uses the pattern.
    for leftover in folder.glob(".*.part"):
        leftover.unlink(missing_ok=True)


def _clear(folder: Path) -> None:
    """Drop an earlier run's outputs, marker first: a clip that is redone and
    then fails must not leave the old video's report looking current."""
    (folder / DONE).unlink(missing_ok=True)
    for old in folder.glob("report*"):
        old.unlink(missing_ok=True)
    _sweep_partials(folder)


def commit(result: ClipResult, stamp: dict) -> dict:
    """Write one clip's files into its folder, each atomically, done.json last;
    a failed clip leaves no outputs (an earlier run's are removed). Returns
    the clip's summary record."""
    from formcheck.media.atomic import atomic_write

    clip, record = result.clip, result.record
    folder = Path(clip.folder)
    if record["status"] == "ok":
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _clear(folder)
            for name, data in result.files.items():
                with atomic_write(folder / name, "wb") as fh:
                    fh.write(data)
            record = {"clip": clip.rel, "folder": f"clips/{folder.name}", **record}
            done = {"schema": DONE_SCHEMA, "video_sha256": clip.sha256, **stamp, "person": clip.person,
                    "files": sorted(result.files), "result": record}
            write_text(folder / DONE, json.dumps(done, indent=2, ensure_ascii=False) + "\n")
            return record
        except (OSError, FormcheckError) as exc:
            error = str(exc) if isinstance(exc, FormcheckError) else f"cannot write {folder}: {exc.strerror or exc}"
            record = {k: record[k] for k in ("clip", "run")} | {"status": "failed", "error": error}
    with contextlib.suppress(OSError):
        _clear(folder)
        folder.rmdir()  # only when empty
    # No folder was left: the summary must not point at one.
    return {"clip": clip.rel, "folder": _existing(folder), **record}


def _existing(folder: Path) -> str:
    """The clip's folder relative to OUT when it exists, else empty."""
    return f"clips/{folder.name}" if folder.is_dir() else ""


def failed_record(clip: Clip, error: str) -> dict:
    """The record of a clip that failed before any analysis (nothing to clear)."""
    return {"clip": clip.rel, "folder": _existing(Path(clip.folder)),
            "run": "analysed", "status": "failed", "error": error}


def failure(clip: Clip, error: str) -> ClipResult:
    """A clip whose analysis ended without a result (its worker died)."""
    return ClipResult(clip, {"clip": clip.rel, "run": "analysed", "status": "failed", "error": error})


# ---------------------------------------------------------------- summary

def summarise(records: list[dict], src: Path, out: Path) -> dict:
    from formcheck.outputs.report import REP_FIELDS, rows_to_csv

    records = sorted(records, key=lambda r: r["clip"])
    clips = [{k: v for k, v in r.items() if k != "rows"} for r in records]
    summary = {
        "schema": SUMMARY_SCHEMA, "formcheck_version": __version__, "source": str(src), "out": str(out),
        "totals": {
            "clips": len(records),
            "ok": sum(r["status"] == "ok" for r in records),
            "failed": sum(r["status"] == "failed" for r in records),
            "analysed": sum(r["run"] == "analysed" for r in records),
            "skipped": sum(r["run"] == "skipped" for r in records),
            "reps": sum(r.get("reps", 0) for r in records),
        },
        "clips": clips,
    }
    table = [{k: (";".join(c.get(k) or []) if k == "faults" else c.get(k, "")) for k in SUMMARY_FIELDS}
             for c in clips]
    _sweep_partials(out)
    write_text(out / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    write_text(out / "summary.csv", rows_to_csv(table))
    write_text(out / "summary_reps.csv", rows_to_csv([row for r in records for row in r.get("rows", [])], REP_FIELDS))
    return summary


def format_summary(summary: dict) -> str:
    clips = summary["clips"]
    width = max([len(c["clip"]) for c in clips] + [4])
    lines = [f"{'clip':<{width}}  {'status':<6} {'reps':>4} {'faults':>6}  {'most frequent':<20} note"]
    for c in clips:
        ok = c["status"] == "ok"
        note = c.get("error", "") if not ok else ("done before, skipped" if c["run"] == "skipped" else "")
        lines.append(f"{c['clip']:<{width}}  {c['status']:<6} {c.get('reps', '-'):>4} "
                     f"{len(c['faults']) if ok else '-':>6}  {(c.get('top_fault') or '-'):<20} {note}".rstrip())
    t = summary["totals"]
    lines.append(f"{t['clips']} clips: {t['ok']} ok ({t['skipped']} already done), {t['failed']} failed; "
                 f"{t['reps']} reps. Summary in {summary['out']}/summary.csv")
    return "\n".join(lines) + "\n"
