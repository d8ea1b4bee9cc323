"""Durable files shared by the spool, the pipeline's inbox and the dead letters.

Every file is written to a temporary name, fsynced, renamed into place and its directory fsynced
(:func:`write_durably`): a file is complete or absent, and a failed write leaves no ``.tmp`` behind. File names are
``<time_ns>-<pid>-<n>.jsonl``, so they sort oldest first and name the process that wrote them.

- :class:`Inbox` (``inbox/`` in the spool directory): the pipeline's write-ahead log of accepted posts.
- :class:`DeadLetters` (``rejected/`` in the spool directory): posts refused for good, one JSON line each with the
  reason (``{"reason", "where", "at", "id", "post"}``, or ``"line"`` for text that was not a post).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, StoreError
from ..models import Post
from . import post_from_doc

_counter = itertools.count()


def _dumps(obj: Any) -> bytes:
    """One JSON line as UTF-8; text that UTF-8 cannot hold (a lone surrogate) is written \\u-escaped instead,
    and a value JSON cannot hold at all (nested too deep, say) as its ``repr``."""
    try:
        line = json.dumps(obj, ensure_ascii=False, default=str) + "\n"
    except (ValueError, RecursionError, TypeError):
        line = json.dumps({"unserialisable": repr(obj)[:100_000]}, ensure_ascii=False) + "\n"
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        return line.encode("utf-8", "backslashreplace")


def post_record(p: Post) -> tuple[str | None, dict[str, Any]]:
    """``(id, Post.to_dict())`` of any post, even one whose fields are not what they should be (id None then)."""
    try:
        return p.id, p.to_dict()
    except Exception:  # noqa: BLE001 - a dead letter must keep whatever it was given
        d = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(p).items()}
        return None, d


def write_durably(directory: Path, lines: Iterable[Any], what: str = "spool") -> Path:
    """Write JSON ``lines`` as a new file in ``directory``: temporary name, fsync, rename, directory fsync.
    The file is complete or absent; on any failure the temporary file is removed and a StoreError names it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create {what} directory {directory}: {e}") from None
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"
    tmp, final = directory / f".{name}.tmp", directory / name
    try:
        with open(tmp, "wb") as fh:
            for obj in lines:
                fh.write(_dumps(obj))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_dir(directory)
    except BaseException as e:  # noqa: BLE001 - whatever failed, no half file and no .tmp stays behind
        tmp.unlink(missing_ok=True)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise StoreError(f"cannot write {what} file {final}: {type(e).__name__}: {e}") from None
    return final


def fsync_dir(directory: Path) -> None:
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def writer_pid(path: Path) -> int | None:
    """The pid in an inbox file's name (``<time_ns>-<pid>-<n>.jsonl``)."""
    try:
        return int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def remove_stale_tmp(directory: Path, older: float = 60.0) -> list[Path]:
    """Remove the ``.tmp`` files a kill left mid-write in ``directory`` (never renamed, so never acknowledged)."""
    removed = []
    for f in directory.glob(".*.tmp") if directory.is_dir() else ():
        try:
            if older_than(f, older):
                f.unlink()
                removed.append(f)
        except OSError:
            pass
    return removed


class LineCounts:
    """Lines (posts) in a directory's ``*.jsonl`` files, each file counted again only when its size or mtime
    changed: health endpoints poll this, and the dead letters may grow large."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, files: list[Path]) -> int:
        total = 0
        seen: dict[Path, tuple[int, int, int]] = {}
        for f in files:
            try:
                st = f.stat()
                old = self._seen.get(f)
                if old is not None and old[:2] == (st.st_size, st.st_mtime_ns):
                    n = old[2]
                else:
                    with open(f, "rb") as fh:
                        n = sum(1 for line in fh if line.strip())
            except FileNotFoundError:  # drained meanwhile
                continue
            seen[f] = (st.st_size, st.st_mtime_ns, n)
            total += n
        with self._lock:
            self._seen = seen
        return total


def remove_durably(path: Path) -> None:
    """Delete ``path`` and make the deletion durable (directory fsync)."""
    path.unlink(missing_ok=True)
    try:
        fsync_dir(path.parent)
    except OSError:
        pass


def batch_files(directory: Path) -> list[Path]:
    """The complete batch files of a spool-like folder (``.tmp`` files are being written), oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.jsonl") if p.is_file())


def read_batch(path: Path, what: str) -> tuple[list[Post], list[tuple[str, str, str]]]:
    """The posts of one batch file, and ``(line, reason, where)`` per unreadable line, naming file and line."""
    posts: list[Post] = []
    bad: list[tuple[str, str, str]] = []
    with open(path, "rb") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                posts.append(post_from_doc(json.loads(line)))
            except (ValueError, InputError, RecursionError, TypeError) as e:
                bad.append((line.decode("utf-8", "replace"), f"{what}: {e}", f"{path}:{no}"))
    return posts, bad


class DeadLetters:
    """Posts refused for good, kept with the reason: ``rejected/*.jsonl``, one JSON line per post
    (``{"reason", "where", "at", "post": Post.to_dict()}``, or ``"line"`` for text that was not a post)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self._count = LineCounts()

    def add(self, entries: Sequence[tuple[Post | str, str, str]]) -> Path | None:
        """Keep ``(post or raw line, reason, where)`` entries durably; returns the file written."""
        if not entries:
            return None
        at = datetime.now(timezone.utc).isoformat()
        lines = []
        for item, reason, where in entries:
            rec: dict[str, Any] = {"reason": reason, "where": where, "at": at}
            if isinstance(item, Post):
                rec["id"], rec["post"] = post_record(item)
            else:
                rec["line"] = item
            lines.append(rec)
        return write_durably(self.dir, lines, "dead-letter")

    def files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.glob("*.jsonl") if p.is_file())

    def read(self, path: Path) -> list[dict[str, Any]]:
        out = []
        with open(path, "rb") as fh:
            for no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except (ValueError, RecursionError):
                    rec = {"reason": "unreadable dead-letter line", "where": f"{path}:{no}",
                           "line": line.decode("utf-8", "replace")}
                out.append(rec if isinstance(rec, dict) else {"reason": "unreadable", "line": str(rec)})
        return out

    def count(self) -> int:
        """How many posts (or lines) are kept."""
        return self._count(self.files())


class Inbox:
    """The pipeline's write-ahead log: accepted, not yet processed batches (``inbox/*.jsonl``)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self._count = LineCounts()

    def put(self, posts: Sequence[Post]) -> Path:
        """Write a batch durably (fsynced file and directory); a StoreError when it cannot be written."""
        return write_durably(self.dir, (p.to_dict() for p in posts), "inbox")

    def files(self) -> list[Path]:
        return batch_files(self.dir)

    def read(self, path: Path) -> tuple[list[Post], list[tuple[str, str, str]]]:
        """The posts of one inbox file, and ``(line, reason, where)`` for each unreadable line."""
        return read_batch(path, "unreadable inbox line")

    def pending(self) -> int:
        """How many accepted posts wait in the inbox."""
        return self._count(self.files())
