"""Process-pool fan-out of the stateless half of :class:`~analyzers.pipeline.Analyzer` (uses every core).

Where ``fork`` exists the analyzer is loaded once in this process and the workers inherit it (dictionaries and model
tables shared copy-on-write, no per-worker loading); elsewhere each worker builds its own from the config.
Input that fits in one chunk is analysed in this process: a pool would only add its start-up cost.
"""

from __future__ import annotations

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


def _work(args: tuple[int, list[Any]]) -> list[dict[str, Any]]:
    offset, chunk = args
    return _WORKER.analyze_stateless(chunk, offset)  # type: ignore[union-attr]


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
            yield from pool.imap(_work, itertools.chain(head, chunks), chunksize=1)
    finally:
        if fork:
            _WORKER = None
