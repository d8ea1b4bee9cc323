"""The disk spool: where posts wait while the store is unreachable.

When :meth:`PostStore.index` raises :class:`~opinion_desk.errors.StoreUnavailable`, the batch is written to the
spool directory (``[store] spool_dir``) as one JSONL file (``Post.to_dict()`` per line), written to a temporary
name, fsynced and renamed into place, so a file is either complete or absent. :meth:`Spool.drain` re-sends the
files oldest first and deletes each only after the store accepted all of it. Nothing is lost (a file stays until
indexed) and nothing is duplicated (indexing is an idempotent upsert by post id, so a re-send after a crash
mid-drain only rewrites the same documents).

Posts the store refuses for good (``IndexResult.refused``: a mapping error, say) are not retried forever: each
goes to the dead letters (:class:`DeadLetters`, ``rejected/*.jsonl`` in the spool directory), one line per post
with the store's reason, and the rest of its file is indexed; ``opinion-desk rejected retry`` sends them again
after a fix. Lines that cannot be parsed are kept there too, naming file and line.

The inbox (:class:`Inbox`, ``inbox/`` in the spool directory) is the pipeline's write-ahead log: the ingest API
writes each accepted batch there (fsynced, directory fsynced) before it answers 202, and the pipeline deletes the
file once every post of it is in the store, the spool or the dead letters. A restart replays what is left.

Back-off: after the store was found unreachable, new batches go straight to the spool for a pause (5 s, doubling
to 60 s while it stays down) instead of each waiting out the store's timeouts again (a cluster without a master
answers only after ``request_timeout``, twice); :meth:`Spool.drain` (the scheduler's drain job) still tries the
store every time and ends the pause when it answers.

Every file is written to a temporary name, fsynced, renamed into place and the directory fsynced: a file is
complete or absent, and a failed write leaves no ``.tmp`` behind (:mod:`.durable`).

Typical use (the pipeline)::

    spool = Spool(cfg.data_path(cfg["store"]["spool_dir"]))
    delivery = spool.index_or_spool(store, posts)   # drains older spooled posts first, keeps order
    if delivery.spooled: log("store down, %d posts spooled", delivery.spooled)
    ...
    spool.drain(store)    # e.g. every tick; returns how many posts went in
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StoreError, StoreUnavailable
from ..models import Post
from .base import PostStore
from .durable import (DeadLetters, Inbox, LineCounts, batch_files, read_batch,  # noqa: F401 - Inbox re-exported
                      remove_durably, write_durably)

__all__ = ["Spool", "Delivery", "DeadLetters", "Inbox", "spool", "drain"]


@dataclass
class Delivery:
    """What :meth:`Spool.index_or_spool` did with a batch."""

    indexed: int = 0  # posts the store accepted (this batch and drained older ones)
    spooled: int = 0  # posts of this batch now waiting in the spool
    errors: list[str] = field(default_factory=list)  # posts rejected for good, each naming its id
    refused: dict[str, str] = field(default_factory=dict)  # posts of this batch the store refused: id -> reason


class Spool:
    """A directory of batch files waiting for the store. Safe across threads and processes."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.rejected_dir = self.dir / "rejected"
        self.dead = DeadLetters(self.rejected_dir)
        self._lock = threading.Lock()
        self._count = LineCounts()
        self._pause = 0.0  # seconds of the current back-off (0: the store answered last time)
        self._paused_until = 0.0  # time.monotonic() before which new batches are spooled without trying

    PAUSE_FIRST, PAUSE_MAX = 5.0, 60.0

    def paused(self) -> bool:
        """Whether new batches are spooled without trying the store (it was unreachable a moment ago)."""
        return time.monotonic() < self._paused_until

    def _unreachable(self) -> None:
        self._pause = min(max(self._pause * 2, self.PAUSE_FIRST), self.PAUSE_MAX)
        self._paused_until = time.monotonic() + self._pause

    def _reachable(self) -> None:
        self._pause = self._paused_until = 0.0

    def _ensure(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create spool directory {self.dir} ([store] spool_dir): {e}") from None

    # writing ---------------------------------------------------------------------------------------------
    def put(self, posts: Sequence[Post]) -> Path | None:
        """Append a batch durably (fsynced) and return its file; None for an empty batch."""
        if not posts:
            return None
        return write_durably(self.dir, (p.to_dict() for p in posts), "spool")

    # reading ---------------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """Complete batch files, oldest first."""
        return batch_files(self.dir)

    def pending(self) -> int:
        """How many posts wait in the spool."""
        return self._count(self.files())

    def read(self, path: Path) -> tuple[list[Post], list[tuple[str, str, str]]]:
        """The posts of one batch file, and ``(line, reason, where)`` per unreadable line (naming file and line)."""
        return read_batch(path, "bad spooled post")

    @contextmanager
    def _drain_lock(self) -> Iterator[None]:
        self._ensure()
        with self._lock, open(self.dir / ".drain.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def drain(self, store: PostStore, batch_size: int = 500, errors: list[str] | None = None) -> int:
        """Re-send every spooled batch, oldest first; returns how many posts the store accepted.

        Stops quietly at the first :class:`StoreUnavailable` (what is left stays for the next drain).
        Posts refused for good go to the dead letters with the store's reason (and to ``errors``, if given); the
        file is deleted once every post of it is in the store or the dead letters.
        """
        sent = 0
        with self._drain_lock():
            for path in self.files():
                try:
                    posts, bad = self.read(path)
                except FileNotFoundError:
                    continue
                except OSError as e:
                    bad, posts = [("", f"unreadable spool file: {e}", str(path))], []
                dead: list[tuple[Post | str, str, str]] = list(bad)
                try:
                    for i in range(0, len(posts), batch_size):
                        chunk = posts[i:i + batch_size]
                        res = store.index(chunk)
                        sent += res.indexed
                        dead.extend((p, res.refused[p.id], str(path)) for p in chunk if p.id in res.refused)
                except StoreUnavailable:
                    self._unreachable()
                    return sent
                self._reachable()
                if dead:
                    self.dead.add(dead)
                    if errors is not None:
                        errors.extend(f"{w}: {r}" for _, r, w in dead)
                remove_durably(path)
        return sent

    def index_or_spool(self, store: PostStore, posts: Sequence[Post]) -> Delivery:
        """Index ``posts``, or spool them when the store is unreachable.

        Older spooled posts are drained first so posts reach the store in the order they came; while anything
        is still spooled, new batches are spooled behind it.
        """
        out = Delivery()
        if self.paused():  # the store was unreachable a moment ago: do not wait out its timeouts again
            self.put(posts)
            out.spooled = len(posts)
            return out
        if self.files():
            out.indexed += self.drain(store, errors=out.errors)
            if self.files():
                self.put(posts)
                out.spooled = len(posts)
                return out
        try:
            res = store.index(posts)
        except StoreUnavailable:
            self._unreachable()
            self.put(posts)
            out.spooled = len(posts)
            return out
        self._reachable()
        out.indexed += res.indexed
        out.errors.extend(res.errors)
        out.refused.update(res.refused)
        return out


def spool(posts: Sequence[Post], spool_dir: str | os.PathLike[str]) -> Path | None:
    """Write ``posts`` to the spool in ``spool_dir``; see :meth:`Spool.put`."""
    return Spool(spool_dir).put(posts)


def drain(store: PostStore, spool_dir: str | os.PathLike[str], batch_size: int = 500) -> int:
    """Re-send the spool in ``spool_dir`` to ``store``; see :meth:`Spool.drain`."""
    return Spool(spool_dir).drain(store, batch_size=batch_size)
