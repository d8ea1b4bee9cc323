"""One pass of the desk: collected posts -> checks -> analyzers -> store -> detection -> dashboard.

Posts arrive from collectors, the ingest API and file imports. :meth:`Pipeline.submit` writes them to the inbox
(a write-ahead log on disk, fsynced) and queues them for the one pipeline worker thread (so CPU-heavy analysis
never runs on a web worker); when it returns the posts are durable, and the ingest API answers 202 only then.
A restart replays the inbox (:meth:`Pipeline.recover`); post ids (source + source id) make the replay idempotent.
:meth:`Pipeline.process` does the whole pass synchronously (file import, collectors, tests, benchmarks).

Nothing is lost: when the store is unreachable the analysed posts go to the disk spool and are sent again by
:meth:`drain_spool` (the scheduler calls it); a post that fails the checks, that the store refuses, or that makes
analysis or indexing fail is kept in the dead letters (``rejected/``) with the reason, and only that post: a
failing batch is halved until the bad post is found. ``opinion-desk rejected retry`` sends dead letters again.
Detection hooks (the rule engine) are called with every batch that reached the store or the spool.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collectors.validate import PostChecks
from .errors import InputError, StoreError
from .models import Post
from .memtrace import release_freed_memory
from .store.base import PostStore
from .store.durable import (DeadLetters, Inbox, older_than, pid_alive, post_record, remove_durably, remove_stale_tmp,
                            writer_pid)

log = logging.getLogger(__name__)

PostHook = Callable[[list[Post]], None]


@dataclass
class ProcessResult:
    indexed: int = 0
    spooled: int = 0
    rejected: int = 0  # posts kept in the dead letters (failed checks, refused by the store, broke analysis)
    errors: list[str] = field(default_factory=list)  # one line per rejected post, naming it and the reason
    refused: dict[str, str] = field(default_factory=dict)  # post id -> reason, for each rejected post

    def add(self, other: "ProcessResult") -> None:
        self.indexed += other.indexed
        self.spooled += other.spooled
        self.rejected += other.rejected
        self.errors.extend(other.errors)
        self.refused.update(other.refused)


MAX_TERM_CHARS = 200  # longer "words" (an unbroken run of letters) are useless for search and too big for a keyword
GATHER = 500  # the worker joins waiting inbox files into one analysis/index batch up to this many posts
MEMORY_BACKLOG = 200  # queued inbox files kept in memory too; beyond this the worker reads them from disk
OTHERS_GRACE = 600.0  # seconds after which an inbox file of a still-running pid is taken over (a reused pid)


@dataclass
class _Queued:
    path: Path | None  # its inbox file, deleted once every post is delivered
    posts: list[Post] | None  # None: read from the file by the worker (a replay)


def annotate(posts: Sequence[Post], analyzer: Any) -> list[Post]:
    """Copy the analyzer's annotations onto the posts (in place); returns the posts."""
    anns = analyzer.analyze([{"id": p.id, "text": p.text, "title": p.title, "mid": p.mid, "repost_of": p.repost_of,
                              "reply_to": p.reply_to, "ts": int(p.created_at.timestamp())} for p in posts])
    for p, a in zip(posts, anns):
        d = a.to_dict() if hasattr(a, "to_dict") else dict(a)
        p.tokens = _terms(d.get("tokens"))
        p.keywords = _terms(d.get("keywords"))
        p.sentiment = d.get("sentiment")
        p.sentiment_label = d.get("sentiment_label") or ""
        p.simhash = d.get("simhash") or ""
        p.topic_id = d.get("topic_id") or ""
        p.topic_label = d.get("topic_label") or ""
        p.rumour_score = d.get("rumour_score")
        p.rumour_cues = list(d.get("rumour_cues") or [])
        p.rumour_reasons = list(d.get("rumour_reasons") or [])
        p.complaint_score = float(d.get("complaint_score") or 0.0)
        p.event_id = d.get("event_id") or ""
        p.event_label = d.get("event_label") or ""
        p.hashtags = _terms(d.get("hashtags"))
        p.mentions = _terms(d.get("mentions"))
    return list(posts)


def _terms(values: Any) -> list[str]:
    return [t for t in (values or []) if len(t) <= MAX_TERM_CHARS]


class Pipeline:
    """Check, analyse, store, detect and broadcast posts. Thread-safe; one worker thread serves :meth:`submit`."""

    def __init__(self, store: PostStore, analyzer_factory: Callable[[], Any], spool_dir: str | Path,
                 on_stored: Iterable[PostHook] = (), checks: PostChecks | None = None) -> None:
        from .store.spool import Spool

        self.store = store
        self._analyzer_factory = analyzer_factory
        self._analyzer: Any = None
        self._analyzer_lock = threading.Lock()  # guards building the analyzer
        self._analyze_lock = threading.Lock()  # one analyze() at a time (it learns IDF and topics)
        self.spool = Spool(spool_dir)
        self.inbox = Inbox(Path(spool_dir) / "inbox")
        self.checks = checks or PostChecks()
        self.hooks: list[PostHook] = list(on_stored)
        self._queue: queue.Queue[_Queued | None] = queue.Queue()
        self._queued: set[Path] = set()  # inbox files queued in this process
        self._failed: set[Path] = set()  # inbox files whose delivery failed (dead letters unwritable): retried
        self._queued_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    @property
    def dead(self) -> DeadLetters:
        """The dead letters: posts refused for good, with the reason (``rejected/`` in the spool directory)."""
        return self.spool.dead

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

    def analyzer_loaded(self) -> bool:
        return self._analyzer is not None

    def reload_analyzer(self) -> None:
        """Forget the analyzer; the next use builds it again from its saved state (a worker that takes over the
        analysis continues the topics and events the last one saved)."""
        with self._analyze_lock, self._analyzer_lock:
            self._analyzer = None

    def save_analyzer_state(self) -> None:
        """Persist what the analyzer learned (IDF counts, topics) where it was built to keep it, if anywhere."""
        with self._analyze_lock:
            a = self._analyzer
            if a is not None and getattr(a, "state_path", None):
                a.save_state()

    def add_hook(self, hook: PostHook) -> None:
        self.hooks.append(hook)

    # -- synchronous pass ------------------------------------------------------------------------
    def check(self, posts: Sequence[Post], where: Callable[[int], str] = lambda i: f"posts[{i}]"
              ) -> tuple[list[Post], list[InputError]]:
        """The posts that pass the acceptance checks, and one error (naming item and field) per other post."""
        good: list[Post] = []
        bad: list[InputError] = []
        for i, p in enumerate(posts):
            try:
                good.append(self.checks.check(p, where(i)))
            except InputError as e:
                bad.append(e)
        return good, bad

    def process(self, posts: Sequence[Post]) -> ProcessResult:
        """Check, analyse, index (or spool), then run the hooks. One bad post never affects another: posts that
        fail the checks, that the store refuses or that make the batch fail go to the dead letters.
        Raises :class:`StoreError` only when even the dead letters cannot be written (disk full)."""
        result = ProcessResult()
        if not posts:
            return result
        good: list[Post] = []
        dead: list[tuple[Post | str, str, str]] = []
        for p in posts:
            try:
                good.append(self.checks.check(p, f"post {_name(p)}"))
            except InputError as e:
                dead.append((p, f"{e.field}: {e.reason}" if e.field else e.reason, e.where))
            except Exception as e:  # noqa: BLE001 - a post the checks cannot even read is refused, not a crash
                dead.append((p, f"无法检查：{type(e).__name__}: {e}", f"post {_name(p)}"))
        self._kill(dead, result)
        if good:
            self._process(good, result)
            release_freed_memory()  # the batch's temporaries, kept by malloc otherwise (see memtrace)
        return result

    def _process(self, posts: list[Post], result: ProcessResult) -> None:
        try:
            with self._analyze_lock:
                annotate(posts, self.analyzer)
            delivery = self.spool.index_or_spool(self.store, posts)  # older spooled posts go first
        except Exception as e:  # one bad post must not sink the batch: halve it until the post is found
            if len(posts) == 1:
                log.error("post %s could not be processed; kept in %s", _name(posts[0]), self.dead.dir,
                          exc_info=not isinstance(e, StoreError))
                self._kill([(posts[0], f"处理失败：{type(e).__name__}: {e}", "pipeline")], result)
                return
            log.warning("batch of %d posts failed (%s: %s); retrying it in halves", len(posts), type(e).__name__, e)
            mid = len(posts) // 2
            self._process(posts[:mid], result)
            self._process(posts[mid:], result)
            return
        result.indexed += delivery.indexed
        result.spooled += delivery.spooled
        result.errors.extend(e for e in delivery.errors if not any(e.startswith(f"post {i}:") for i in delivery.refused))
        if delivery.spooled:
            log.warning("store unavailable: %d posts wait in the spool %s", delivery.spooled, self.spool.dir)
        refused = delivery.refused
        if refused:
            self._kill([(p, refused[p.id], f"store {self.store.name}") for p in posts if p.id in refused], result)
        stored = [p for p in posts if p.id not in refused]
        for hook in list(self.hooks):
            try:
                hook(stored)
            except Exception:  # a failing hook (rules, broadcast) never loses posts or stops the others
                log.exception("post hook %r failed", hook)

    def _kill(self, dead: list[tuple[Post | str, str, str]], result: ProcessResult) -> None:
        """Keep ``(post, reason, where)`` in the dead letters and count them."""
        if not dead:
            return
        self.dead.add(dead)
        result.rejected += len(dead)
        for item, reason, where in dead:
            name = _name(item) if isinstance(item, Post) else where
            result.errors.append(f"post {name}: {reason}")
            if isinstance(item, Post):
                result.refused[post_record(item)[0] or name] = reason
            log.warning("post %s refused (%s): %s", name, where, reason)

    def drain_spool(self) -> int:
        """Send spooled posts to the store; returns how many went. Stops at the first failure. Also queues any
        inbox file this process has not queued (one left by a failed delivery)."""
        self.recover()
        return self.spool.drain(self.store)

    def retry_rejected(self, progress: Callable[[int], Any] | None = None) -> ProcessResult:
        """Send every dead letter through :meth:`process` again (after a fix: a mapping, a config window); those
        refused again are kept again with their new reason. Each file is deleted once its posts went through."""
        from .store import post_from_doc

        total = ProcessResult()
        for path in self.dead.files():
            posts: list[Post] = []
            keep: list[tuple[Post | str, str, str]] = []
            for rec in self.dead.read(path):
                doc = rec.get("post")
                try:
                    if not isinstance(doc, dict):
                        raise InputError(str(rec.get("where")), None, "not a post")
                    posts.append(post_from_doc(doc))
                except (InputError, ValueError, TypeError):
                    keep.append((str(rec.get("line", doc)), str(rec.get("reason")), str(rec.get("where"))))
            for i in range(0, len(posts), GATHER):
                total.add(self.process(posts[i:i + GATHER]))
                if progress is not None:
                    progress(len(posts[i:i + GATHER]))
            if keep:
                self.dead.add(keep)
            remove_durably(path)
        return total

    # -- background worker -----------------------------------------------------------------------
    def submit(self, posts: Sequence[Post]) -> None:
        """Write the posts to the inbox (durably: fsynced file and directory), then queue them for the worker.
        When this returns the posts survive a crash; raises :class:`StoreError` when they could not be written."""
        if not posts:
            return
        path = self.inbox.put(posts)
        # a long backlog waits on disk only (the worker reads each file when it gets to it): memory stays bounded
        self._enqueue(_Queued(path, list(posts) if self._queue.qsize() < MEMORY_BACKLOG else None))

    def _enqueue(self, item: _Queued) -> None:
        if item.path is not None:
            with self._queued_lock:
                self._queued.add(item.path)
        self._ensure_worker()
        self._idle.clear()
        self._queue.put(item)

    def recover(self, everything: bool = False) -> int:
        """Queue the inbox files no worker of this process has queued: with ``everything`` (at start, before any
        submit) every file there, i.e. what a killed desk had accepted but not yet delivered; otherwise (every
        spool drain) files of other processes and files whose delivery failed. The worker reads them (start-up
        does not wait). Returns how many files were queued."""
        n = 0
        me = os.getpid()
        if everything:
            for d in (self.inbox.dir, self.spool.dir, self.dead.dir):
                for f in remove_stale_tmp(d):
                    log.info("removed %s, left by a write that never finished", f)
        for path in self.inbox.files():
            writer = writer_pid(path)
            with self._queued_lock:
                if path in self._queued:
                    continue
                if writer == me and not everything and path not in self._failed:
                    continue  # ours, queued or being written
                if writer != me and pid_alive(writer) and not older_than(path, OTHERS_GRACE):
                    continue  # another running desk on this data dir delivers its own files
                self._failed.discard(path)
            self._enqueue(_Queued(path, None))
            n += 1
        if n:
            log.info("replaying %d inbox files of accepted posts from %s", n, self.inbox.dir)
        return n

    def _load(self, item: _Queued) -> list[Post]:
        """The posts of a queued item, read from its inbox file for a replay (unreadable lines dead-lettered)."""
        if item.posts is None:
            try:
                item.posts, bad = self.inbox.read(item.path)  # type: ignore[arg-type]
            except FileNotFoundError:  # delivered meanwhile
                item.posts, bad = [], []
            if bad:
                self.dead.add(bad)
        return item.posts

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="opinion-desk-pipeline", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                break
            # gather inbox files already waiting into one batch: cheaper analysis and one bulk request. A failure
            # is halved down to the bad post (see process), so one request's bad post never costs another's.
            group = [first]
            stop = False
            try:
                n = len(self._load(first))
                while n < GATHER:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        self._queue.task_done()
                        break
                    group.append(more)
                    n += len(self._load(more))
                self.process([p for item in group for p in item.posts or []])
                for item in group:
                    if item.path is not None:
                        remove_durably(item.path)
            except Exception:  # the dead letters could not be written: the inbox files stay for a later retry
                log.exception("pipeline batch of %d inbox files could not be delivered; they stay in %s",
                              len(group), self.inbox.dir)
                with self._queued_lock:
                    self._failed.update(item.path for item in group if item.path is not None)
            finally:
                with self._queued_lock:
                    for item in group:
                        self._queued.discard(item.path)  # type: ignore[arg-type]
                for _ in group:
                    self._queue.task_done()
                if self._queue.unfinished_tasks == 0:
                    self._idle.set()
            if stop:
                break

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted post has been processed (tests, shutdown)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)
            self._worker.join(timeout)
        self._worker = None


def _name(p: Any) -> str:
    try:
        return f"{p.source}/{p.source_id}"[:120]
    except Exception:  # noqa: BLE001 - a name for a log line, whatever the post holds
        return "?"
