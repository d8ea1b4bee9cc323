"""Process-pool fan-out of the stateless half of :class:`~analyzers.pipeline.Analyzer` (uses every core).

Where ``fork`` exists the analyzer is loaded once in this process and the workers inherit it (dictionaries and model
tables shared copy-on-write, no per-worker loading); elsewhere each worker builds its own from the config.
Input that fits in one chunk is analysed in this process: a pool would only add its start-up cost. This process
counts as one of the workers: it finishes every chunk in order (keywords, topics) and, rather than wait for a
result, analyses the next chunk itself, in slices, handing the rest to the pool once that result is ready. The
first chunk is cut into smaller ones so that the first results come sooner.
Garbage collection is paused while a chunk is analysed or finished: the records hold no cycles, and a collection
pass over tens of thousands of fresh containers per chunk costs more than the analysis it interrupts.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing as mp
import os
from collections import deque
from multiprocessing.pool import AsyncResult
from typing import Any, Iterable, Iterator

CHUNK = 2048  # posts per task: one vectorised batch (pipeline.BATCH)
_WORKER = None


def _init(config: dict[str, Any]) -> None:
    global _WORKER
    from .pipeline import Analyzer

    _WORKER = Analyzer(**config).load()


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything acyclic)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _work(args: tuple[int, list[Any]]) -> list[dict[str, Any]]:
    offset, chunk = args
    with no_gc():
        return _WORKER.analyze_stateless(chunk, offset)  # type: ignore[union-attr]


def _ramp(chunks: list[tuple[int, list[Any]]]) -> list[tuple[int, list[Any]]]:
    """Cut the first chunk into 1/8, 1/8, 1/4 and 1/2 of it: the first result arrives sooner."""
    offset, chunk = chunks[0]
    n = len(chunk)
    if n < 64:
        return chunks
    cuts = [0, n // 8, n // 4, n // 2, n]
    return [(offset + a, chunk[a:b]) for a, b in zip(cuts, cuts[1:])] + chunks[1:]


def _chunks(posts: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    it = iter(posts)
    offset = 0
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield offset, chunk
        offset += len(chunk)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parallel_stateless(analyzer: Any, posts: Iterable[Any], workers: int = 0, chunk_size: int = CHUNK
                       ) -> Iterator[list[dict[str, Any]]]:
    """Yield the stateless partial records chunk by chunk, in input order.

    ``workers`` counts this process, which also finishes each chunk (keywords, topics) between yields: it runs
    ``workers - 1`` pool processes and, whenever the next result in order is not ready yet, analyses the next chunk
    no one has taken itself instead of waiting. On a machine with few cores this process is a worker too; on many,
    the pool keeps ahead and it only finishes.
    """
    global _WORKER
    workers = workers or cpu_count()
    chunks = _chunks(posts, chunk_size)
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for offset, chunk in itertools.chain(head, chunks):
            yield analyzer.analyze_stateless(chunk, offset)
        return
    fork = "fork" in mp.get_all_start_methods()
    if fork:
        _WORKER = analyzer.load()  # inherited by the forked workers
        ctx, init, initargs = mp.get_context("fork"), None, ()
    else:  # pragma: no cover - not Linux
        ctx, init, initargs = mp.get_context("spawn"), _init, (analyzer.config,)
    todo = itertools.chain(_ramp(head), chunks)
    queued = 2 * (workers - 1)  # tasks kept in the pool's queue
    window: deque[Any] = deque()  # in input order: AsyncResult (pool) or list (done here)
    try:
        with ctx.Pool(workers - 1, initializer=init, initargs=initargs) as pool:

            def feed() -> None:
                while sum(isinstance(x, AsyncResult) for x in window) < queued:
                    task = next(todo, None)
                    if task is None:
                        return
                    window.append(pool.apply_async(_work, (task,)))

            feed()
            while window:
                first = window[0]
                if isinstance(first, AsyncResult) and not first.ready():
                    task = next(todo, None)
                    if task is not None:  # work on it here in slices while the pool is busy; hand it the rest
                        offset, chunk = task
                        step = max(64, chunk_size // 8)
                        done = 0
                        while done < len(chunk) and not first.ready():
                            with no_gc():
                                window.append(analyzer.analyze_stateless(chunk[done:done + step], offset + done))
                            done += step
                        if done < len(chunk):
                            window.append(pool.apply_async(_work, ((offset + done, chunk[done:]),)))
                out = window.popleft()
                feed()
                yield out.get() if isinstance(out, AsyncResult) else out
    finally:
        if fork:
            _WORKER = None
