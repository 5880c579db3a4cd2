"""The local engine: clips analysed in a pool of worker processes, one core
each, a crashed worker costing only its own clip."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from formcheck.batch.clips import CRASHED, Clip, ClipResult, analyse, failure

_worker: dict = {}


def init_worker(options: dict, config: dict) -> None:
    """Pool initializer: state shared by every clip this process analyses."""
    from formcheck.pose import PoseSettings
    from formcheck.pose.backend import ReusedBackend

    _worker.update(options=options, config=config, backend=ReusedBackend(options["model"], PoseSettings()))


def analyse_clip(clip: Clip) -> ClipResult:
    """The local pool's task: one clip with this process's model."""
    return analyse(clip, _worker["options"], _worker["config"], _worker["backend"])


# ---------------------------------------------------------------- pool

def run_pool(clips: list[Clip], jobs: int, initargs: tuple, on_result, work=analyse_clip) -> None:
    """Run `work` over clips in worker processes, calling on_result(ClipResult)
    as each finishes. At most `jobs` clips are in flight, so when a worker dies
    (BrokenProcessPool) only those are suspect: each is retried alone in a
    fresh pool, and one that kills its worker even alone is reported failed."""
    import multiprocessing

    todo, suspects = deque(clips), deque()
    # spawn: workers must not inherit the parent's threads (progress bar, pool manager).
    context = multiprocessing.get_context("spawn")
    while todo or suspects:
        pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo) + len(suspects))),
                                   mp_context=context, initializer=init_worker, initargs=initargs)
        running: dict = {}
        try:
            while todo or suspects or running:
                # A clip leaves its queue only once submitted: submit() fails on a broken pool.
                while suspects and not running:
                    future = pool.submit(work, suspects[0])
                    running[future] = (suspects.popleft(), True)
                while not suspects and todo and len(running) < jobs:
                    future = pool.submit(work, todo[0])
                    running[future] = (todo.popleft(), False)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    clip, alone = running.pop(future)
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        broken = True
                        running[future] = (clip, alone)
                        continue
                    except Exception as exc:  # e.g. a result that cannot be pickled: still one clip
                        record = failure(clip, f"internal error: {type(exc).__name__}: {exc}")
                    on_result(record)
                if broken:
                    break
        except BrokenProcessPool:  # submit() on a pool that has just broken
            pass
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for future, (clip, alone) in running.items():  # in flight when the pool broke
            if future.done() and not future.cancelled() and future.exception() is None:
                on_result(future.result())  # finished just before the break
            elif alone:
                on_result(failure(clip, CRASHED))
            else:
                suspects.append(clip)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
