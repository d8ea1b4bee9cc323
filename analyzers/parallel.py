"""Process-pool fan-out of the stateless half of :class:`~analyzers.pipeline.Analyzer` (uses every core)."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
from typing import Any, Iterable, Iterator

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


def parallel_stateless(analyzer: Any, posts: Iterable[Any], workers: int = 0, chunk_size: int = 1000
                       ) -> Iterator[list[dict[str, Any]]]:
    """Yield the stateless partial records chunk by chunk, in input order."""
    workers = workers or cpu_count()
    if workers <= 1:
        for offset, chunk in _chunks(posts, chunk_size):
            yield analyzer.analyze_stateless(chunk, offset)
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(analyzer.config,)) as pool:
        yield from pool.imap(_work, _chunks(posts, chunk_size), chunksize=1)
