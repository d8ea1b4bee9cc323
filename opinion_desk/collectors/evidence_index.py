"""The index of the evidence archive: post id -> (file, gzip member offset, line in the member).

``opinion-desk evidence show ID`` and the post page find a post's captures here instead of reading the whole
archive (6.7 s at 1M posts). The index is a small SQLite file, ``<evidence_dir>/index.sqlite``, written by
:meth:`EvidenceArchive.write` right after each gzip member is appended (the archive is the truth; the index is
derived from it). An archive written before the index existed is indexed once by ``opinion-desk evidence reindex``
(:meth:`EvidenceIndex.rebuild`, which reads each file member by member); until then :attr:`EvidenceIndex.complete`
is false and the readers say so.

A capture is read back by seeking to its member's offset and inflating that one member only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

INDEX_FILE = "index.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    post_id TEXT NOT NULL, file TEXT NOT NULL, member INTEGER NOT NULL, line INTEGER NOT NULL,
    PRIMARY KEY (file, member, line)
);
CREATE INDEX IF NOT EXISTS captures_post ON captures(post_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
CHUNK = 64 * 1024
log = logging.getLogger(__name__)


class EvidenceIndex:
    """Where each archived capture lies. Thread-safe; one short connection per call."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / INDEX_FILE
        self._lock = threading.Lock()

    def _connect(self, create: bool = True) -> sqlite3.Connection | None:
        if not self.path.exists():
            if not create:
                return None
            self.root.mkdir(parents=True, exist_ok=True)
            fresh = not any(self.root.glob("*/*.jsonl.gz"))  # nothing archived before: complete from the start
        else:
            fresh = False
        c = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.executescript(SCHEMA)
        if fresh:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('complete', '1')")
        return c

    def ensure(self) -> None:
        """Create the index if it is missing (complete when nothing was archived before it)."""
        if not self.path.exists():
            with self._lock:
                c = self._connect()
                assert c is not None
                c.close()

    @property
    def complete(self) -> bool:
        """True when every capture of the archive is in the index (made with the archive, or rebuilt)."""
        if not self.path.exists():
            return not any(self.root.glob("*/*.jsonl.gz"))  # nothing archived yet
        c = self._connect(create=False)
        assert c is not None
        try:
            return c.execute("SELECT value FROM meta WHERE key='complete'").fetchone() is not None
        finally:
            c.close()

    def add(self, file: Path, member: int, post_ids: list[str]) -> None:
        """Record the captures of one gzip member appended at byte ``member`` of ``file``."""
        rel = file.relative_to(self.root).as_posix()
        with self._lock:
            try:
                c = self._connect()
                assert c is not None
                try:
                    c.execute("BEGIN IMMEDIATE")
                    c.executemany("INSERT OR REPLACE INTO captures(post_id, file, member, line) VALUES (?, ?, ?, ?)",
                                  [(pid, rel, member, n) for n, pid in enumerate(post_ids)])
                    c.execute("COMMIT")
                finally:
                    c.close()
            except sqlite3.Error as e:  # the archive line is written (the evidence is safe); only the index lags
                log.error("证据索引 %s 未能写入 %d 条（%s）：存档完好，运行 opinion-desk evidence reindex 可补齐",
                          self.path, len(post_ids), e)

    def forget(self, files: Iterable[Path]) -> None:
        """Drop the captures of removed files (retention)."""
        rels = [(f.relative_to(self.root).as_posix(),) for f in files]
        if not rels or not self.path.exists():
            return
        with self._lock:
            c = self._connect()
            assert c is not None
            try:
                c.executemany("DELETE FROM captures WHERE file=?", rels)
            finally:
                c.close()

    def lookup(self, post_id: str) -> list[tuple[Path, int, int]]:
        """(file, member offset, line in member) of each capture of ``post_id``, oldest file first."""
        c = self._connect(create=False)
        if c is None:
            return []
        try:
            rows = c.execute("SELECT file, member, line FROM captures WHERE post_id=? ORDER BY file, member, line",
                             (post_id,)).fetchall()
        finally:
            c.close()
        return [(self.root / f, int(m), int(n)) for f, m, n in rows]

    def read(self, post_id: str) -> list[tuple[Path, int, dict[str, Any]]]:
        """(file, member offset, record) of each capture, read by seeking to its member."""
        out = []
        for path, member, line in self.lookup(post_id):
            try:
                rec = json.loads(read_member_line(path, member, line))
            except (OSError, ValueError, IndexError, zlib.error):
                continue  # pruned or damaged since: `evidence verify` names it
            if rec.get("post_id") == post_id:
                out.append((path, member, rec))
        return out

    def rebuild(self, files: list[Path], progress: Callable[[Path], None] | None = None) -> int:
        """Index every capture of ``files`` (the whole archive) from scratch; returns how many were indexed."""
        n = 0
        with self._lock:
            c = self._connect()
            assert c is not None
            try:
                c.execute("BEGIN IMMEDIATE")
                c.execute("DELETE FROM captures")
                c.execute("DELETE FROM meta WHERE key='complete'")
                for f in files:
                    rel = f.relative_to(self.root).as_posix()
                    for member, lines in members(f):
                        rows = []
                        for k, line in enumerate(lines):
                            try:
                                pid = json.loads(line).get("post_id")
                            except (ValueError, AttributeError):
                                continue
                            if isinstance(pid, str):
                                rows.append((pid, rel, member, k))
                        c.executemany("INSERT OR REPLACE INTO captures(post_id, file, member, line) "
                                      "VALUES (?, ?, ?, ?)", rows)
                        n += len(rows)
                    if progress:
                        progress(f)
                c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('complete', '1')")
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
            finally:
                c.close()
        return n


def _member_lines(data: bytes) -> list[bytes]:
    return [ln for ln in data.split(b"\n") if ln.strip()]


def members(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """(byte offset, non-blank lines) of each gzip member of one archive file; a damaged tail ends the walk."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(data[pos:])
        except zlib.error:
            return
        if not d.eof:
            return  # cut off by a crash
        yield pos, _member_lines(out)
        pos = len(data) - len(d.unused_data)


def read_member_line(path: Path, member: int, line: int) -> bytes:
    """Line ``line`` (0-based, non-blank lines) of the gzip member starting at byte ``member`` of ``path``."""
    d = zlib.decompressobj(wbits=31)
    out = b""
    with open(path, "rb") as f:
        f.seek(member)
        while not d.eof:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            out += d.decompress(chunk)
            if out.count(b"\n") > line:
                break
    return _member_lines(out)[line]
