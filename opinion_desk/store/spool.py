"""The disk spool: where posts wait while the store is unreachable.

When :meth:`PostStore.index` raises :class:`~opinion_desk.errors.StoreUnavailable`, the batch is written to the
spool directory (``[store] spool_dir``) as one JSONL file (``Post.to_dict()`` per line), written to a temporary
name, fsynced and renamed into place, so a file is either complete or absent. :meth:`Spool.drain` re-sends the
files oldest first and deletes each only after the store accepted all of it. Nothing is lost (a file stays until
indexed) and nothing is duplicated (indexing is an idempotent upsert by post id, so a re-send after a crash
mid-drain only rewrites the same documents).

Posts the store rejects for good (``IndexResult.errors``: a mapping error, say) are not retried forever: their
file moves to ``rejected/`` beside a ``.errors.txt`` naming each post id and the reason (the file's other posts are
indexed). Lines that cannot be parsed are reported the same way, naming file and line.

Typical use (the pipeline)::

    spool = Spool(cfg.data_path(cfg["store"]["spool_dir"]))
    delivery = spool.index_or_spool(store, posts)   # drains older spooled posts first, keeps order
    if delivery.spooled: log("store down, %d posts spooled", delivery.spooled)
    ...
    spool.drain(store)    # e.g. every tick; returns how many posts went in
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, StoreError, StoreUnavailable
from ..models import Post
from . import post_from_doc
from .base import PostStore

_counter = itertools.count()


@dataclass
class Delivery:
    """What :meth:`Spool.index_or_spool` did with a batch."""

    indexed: int = 0  # posts the store accepted (this batch and drained older ones)
    spooled: int = 0  # posts of this batch now waiting in the spool
    errors: list[str] = field(default_factory=list)  # posts rejected for good, each naming its id


class Spool:
    """A directory of batch files waiting for the store. Safe across threads and processes."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.rejected_dir = self.dir / "rejected"
        self._lock = threading.Lock()

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
        self._ensure()
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"
        tmp, final = self.dir / f".{name}.tmp", self.dir / name
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for p in posts:
                    fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write spool file {final} ([store] spool_dir): {e}") from None
        return final

    # reading ---------------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """Complete batch files, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.glob("*.jsonl") if p.is_file())

    def pending(self) -> int:
        """How many posts wait in the spool."""
        n = 0
        for f in self.files():
            try:
                with open(f, "rb") as fh:
                    n += sum(1 for line in fh if line.strip())
            except FileNotFoundError:  # drained meanwhile
                pass
        return n

    def read(self, path: Path) -> tuple[list[Post], list[str]]:
        """The posts of one batch file, and one problem per unreadable line (naming the file and line)."""
        posts: list[Post] = []
        bad: list[str] = []
        with open(path, encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    posts.append(post_from_doc(json.loads(line)))
                except (ValueError, InputError) as e:
                    bad.append(f"{path}:{no}: bad spooled post: {e}")
        return posts, bad

    @contextmanager
    def _drain_lock(self) -> Iterator[None]:
        self._ensure()
        with self._lock, open(self.dir / ".drain.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _reject(self, path: Path, errors: list[str]) -> None:
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        target = self.rejected_dir / path.name
        (self.rejected_dir / (path.name + ".errors.txt")).write_text("\n".join(errors) + "\n", encoding="utf-8")
        shutil.move(str(path), target)

    def drain(self, store: PostStore, batch_size: int = 500, errors: list[str] | None = None) -> int:
        """Re-send every spooled batch, oldest first; returns how many posts the store accepted.

        Stops quietly at the first :class:`StoreUnavailable` (what is left stays for the next drain).
        Posts rejected for good are appended to ``errors`` (if given) and their file moves to ``rejected/``.
        """
        sent = 0
        with self._drain_lock():
            for path in self.files():
                try:
                    posts, bad = self.read(path)
                except FileNotFoundError:
                    continue
                except (OSError, UnicodeDecodeError) as e:
                    bad = [f"{path}: unreadable spool file: {e}"]
                    self._reject(path, bad)
                    if errors is not None:
                        errors.extend(bad)
                    continue
                try:
                    for i in range(0, len(posts), batch_size):
                        res = store.index(posts[i:i + batch_size])
                        sent += res.indexed
                        bad.extend(res.errors)
                except StoreUnavailable:
                    return sent
                if bad:
                    self._reject(path, bad)
                    if errors is not None:
                        errors.extend(bad)
                else:
                    path.unlink(missing_ok=True)
        return sent

    def index_or_spool(self, store: PostStore, posts: Sequence[Post]) -> Delivery:
        """Index ``posts``, or spool them when the store is unreachable.

        Older spooled posts are drained first so posts reach the store in the order they came; while anything
        is still spooled, new batches are spooled behind it.
        """
        out = Delivery()
        if self.files():
            out.indexed += self.drain(store, errors=out.errors)
            if self.files():
                self.put(posts)
                out.spooled = len(posts)
                return out
        try:
            res = store.index(posts)
        except StoreUnavailable:
            self.put(posts)
            out.spooled = len(posts)
            return out
        out.indexed += res.indexed
        out.errors.extend(res.errors)
        return out


def spool(posts: Sequence[Post], spool_dir: str | os.PathLike[str]) -> Path | None:
    """Write ``posts`` to the spool in ``spool_dir``; see :meth:`Spool.put`."""
    return Spool(spool_dir).put(posts)


def drain(store: PostStore, spool_dir: str | os.PathLike[str], batch_size: int = 500) -> int:
    """Re-send the spool in ``spool_dir`` to ``store``; see :meth:`Spool.drain`."""
    return Spool(spool_dir).drain(store, batch_size=batch_size)
