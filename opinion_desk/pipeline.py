"""One pass of the desk: collected posts -> analyzers -> store -> detection -> dashboard.

Posts arrive from collectors, the ingest API and file imports. :meth:`Pipeline.submit` queues them for the one
pipeline worker thread (so CPU-heavy analysis never runs on a web worker) and returns at once;
:meth:`Pipeline.process` does the whole pass synchronously (file import, tests, benchmarks).

When the store is unreachable the analysed posts go to the disk spool and are sent again by :meth:`drain_spool`
(the scheduler calls it); nothing is lost. Detection hooks (the rule engine) are called with every batch that
reached the store or the spool.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import Post
from .store.base import PostStore

log = logging.getLogger(__name__)

PostHook = Callable[[list[Post]], None]


@dataclass
class ProcessResult:
    indexed: int = 0
    spooled: int = 0
    errors: list[str] = field(default_factory=list)


def annotate(posts: Sequence[Post], analyzer: Any) -> list[Post]:
    """Copy the analyzer's annotations onto the posts (in place); returns the posts."""
    anns = analyzer.analyze([{"id": p.id, "text": p.text, "title": p.title} for p in posts])
    for p, a in zip(posts, anns):
        d = a.to_dict() if hasattr(a, "to_dict") else dict(a)
        p.tokens = list(d.get("tokens") or [])
        p.keywords = list(d.get("keywords") or [])
        p.sentiment = d.get("sentiment")
        p.sentiment_label = d.get("sentiment_label") or ""
        p.simhash = d.get("simhash") or ""
        p.topic_id = d.get("topic_id") or ""
        p.topic_label = d.get("topic_label") or ""
        p.rumour_score = d.get("rumour_score")
        p.rumour_cues = list(d.get("rumour_cues") or [])
        p.hashtags = list(d.get("hashtags") or [])
        p.mentions = list(d.get("mentions") or [])
    return list(posts)


class Pipeline:
    """Analyse, store, detect and broadcast posts. Thread-safe; one worker thread serves :meth:`submit`."""

    def __init__(self, store: PostStore, analyzer_factory: Callable[[], Any], spool_dir: str | Path,
                 on_stored: Iterable[PostHook] = ()) -> None:
        from .store.spool import Spool

        self.store = store
        self._analyzer_factory = analyzer_factory
        self._analyzer: Any = None
        self._analyzer_lock = threading.Lock()  # guards building the analyzer
        self._analyze_lock = threading.Lock()  # one analyze() at a time (it learns IDF and topics)
        self.spool = Spool(spool_dir)
        self.hooks: list[PostHook] = list(on_stored)
        self._queue: queue.Queue[list[Post] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    # -- analysis --------------------------------------------------------------------------------
    @property
    def analyzer(self) -> Any:
        """The analyzer, built on first use. Its segmenter may be used from any thread (query segmentation);
        :meth:`analyze` itself is not thread-safe, so only :meth:`process` calls it, one batch at a time."""
        if self._analyzer is None:
            with self._analyzer_lock:
                if self._analyzer is None:
                    self._analyzer = self._analyzer_factory()
        return self._analyzer

    def save_analyzer_state(self) -> None:
        """Persist what the analyzer learned (IDF counts, topics) where it was built to keep it, if anywhere."""
        with self._analyze_lock:
            a = self._analyzer
            if a is not None and getattr(a, "state_path", None):
                a.save_state()

    def add_hook(self, hook: PostHook) -> None:
        self.hooks.append(hook)

    # -- synchronous pass ------------------------------------------------------------------------
    def process(self, posts: Sequence[Post]) -> ProcessResult:
        """Analyse, index (or spool), then run the hooks. Never raises for one bad post."""
        result = ProcessResult()
        if not posts:
            return result
        analyzer = self.analyzer
        with self._analyze_lock:
            annotate(posts, analyzer)
        delivery = self.spool.index_or_spool(self.store, posts)  # older spooled posts go first
        result.indexed, result.spooled = delivery.indexed, delivery.spooled
        result.errors.extend(delivery.errors)
        if delivery.spooled:
            log.warning("store unavailable: %d posts wait in the spool %s", delivery.spooled, self.spool.dir)
        stored = list(posts)
        for hook in list(self.hooks):
            try:
                hook(stored)
            except Exception:  # a failing hook (rules, broadcast) never loses posts or stops the others
                log.exception("post hook %r failed", hook)
        return result

    def drain_spool(self) -> int:
        """Send spooled posts to the store; returns how many went. Stops at the first failure."""
        return self.spool.drain(self.store)

    # -- background worker -----------------------------------------------------------------------
    def submit(self, posts: Sequence[Post]) -> None:
        """Queue posts for the worker thread and return at once."""
        if not posts:
            return
        self._ensure_worker()
        self._idle.clear()
        self._queue.put(list(posts))

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="opinion-desk-pipeline", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                self._queue.task_done()
                break
            # gather what is already waiting into one batch: cheaper analysis and one bulk request
            while len(batch) < 500:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._queue.task_done()
                if more is None:
                    self._queue.put(None)
                    break
                batch.extend(more)
            try:
                self.process(batch)
            except Exception:
                log.exception("pipeline batch of %d posts failed; spooling them", len(batch))
                try:
                    self.spool.put(batch)
                except Exception:
                    log.exception("spool failed too")
            finally:
                self._queue.task_done()
                if self._queue.unfinished_tasks == 0:
                    self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted post has been processed (tests, shutdown)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)
            self._worker.join(timeout)
        self._worker = None
