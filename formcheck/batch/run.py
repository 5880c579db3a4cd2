"""A planned set run on an engine (the local pool or a Dask cluster), with
progress, each result committed as it comes, and the summary at the end."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from formcheck.batch.clips import (
    Clip,
    ClipResult,
    commit,
    failed_record,
    format_summary,
    summarise,
)
from formcheck.batch.pool import default_jobs, run_pool
from formcheck.errors import FormcheckError
from formcheck.log import show_progress

# ---------------------------------------------------------------- command

def prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FormcheckError(f"--out must be a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / ".formcheck-write-test", "w"):
            pass
        (out / ".formcheck-write-test").unlink()
    except OSError as exc:
        raise FormcheckError(f"cannot write to {out}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def open_engine(args):
    """The engine asked for, as run(todo, options, config, on_result): today's
    process pool on this machine, or a Dask cluster (--scheduler)."""
    if not args.scheduler:
        jobs = args.jobs or default_jobs()
        yield lambda todo, options, config, on_result: run_pool(todo, jobs, (options, config), on_result)
        return
    from formcheck.batch.cluster import dask_engine

    with dask_engine(args.scheduler, args.jobs) as run:
        yield run


def run_batch(clips: list[Clip], args, model: Path, config: dict, stamp: dict, src: Path, out: Path,
              engine) -> int:
    from tqdm import tqdm

    records = [c.prior for c in clips if c.prior] + [failed_record(c, c.error) for c in clips if c.error]
    # Largest files first: fewer idle workers at the end of the batch.
    todo = sorted((c for c in clips if not c.prior and not c.error),
                  key=lambda c: -Path(c.video).stat().st_size)
    options = {"model": str(model.resolve()), "model_sha256": stamp["model_sha256"], "no_cache": args.no_cache,
               "symptom": args.symptom, "html": args.html}
    bar = tqdm(total=len(clips), initial=len(clips) - len(todo), unit="clip", desc="batch",
               file=sys.stderr, disable=not show_progress(args.quiet), dynamic_ncols=True)

    def on_result(result: ClipResult) -> None:
        records.append(commit(result, stamp))
        bar.update(1)
        bar.set_postfix(reps=sum(r.get("reps", 0) for r in records),
                        failed=sum(r["status"] == "failed" for r in records))

    with bar:
        if todo:
            engine(todo, options, config, on_result)
    summary = summarise(records, src, out)
    sys.stdout.write(format_summary(summary))
    return 1 if summary["totals"]["failed"] else 0
