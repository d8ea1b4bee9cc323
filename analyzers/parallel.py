"""Process-pool fan-out of the stateless half of :class:`~analyzers.pipeline.Analyzer` (uses every core).

Where ``fork`` exists the analyzer is loaded once in this process and the workers inherit it (dictionaries and model
tables shared copy-on-write, no per-worker loading); elsewhere each worker builds its own from the config.
Input that fits in one chunk is analysed in this process: a pool would only add its start-up cost. The first chunk
is cut into smaller ones so that this process starts on its (serial) share while the workers fill the pipeline.
Garbage collection is paused while a chunk is analysed or finished: the records hold no cycles, and a collection
pass over tens of thousands of fresh containers per chunk costs more than the analysis it interrupts.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing as mp
import os
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
    """Yield the stateless partial records chunk by chunk, in input order."""
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
    try:
        with ctx.Pool(workers, initializer=init, initargs=initargs) as pool:
            yield from pool.imap(_work, itertools.chain(_ramp(head), chunks), chunksize=1)
    finally:
        if fork:
            _WORKER = None
