"""The embedded post store: one SQLite file (WAL) with an FTS5 index over the posts' tokens.

Layout: ``posts`` holds one row per post id (filter columns, the list fields as JSON, the whole post as JSON in
``doc``); ``posts_fts`` (FTS5, ``detail=none``, rowid = posts.rowid) holds the post's terms — its tokens and its
title's tokens — each hex-encoded, so FTS5's tokenizer sees one opaque word per term and matching is exactly
whitespace-token equality, as in Elasticsearch's ``whitespace`` analyzer (case-sensitive, no stemming).

Top terms are counted in SQL with ``json_each`` over the matching rows (``COUNT(DISTINCT rowid)``: once per post).
Connections: a small pool (:meth:`SQLiteStore._conn` borrows one for a single call and gives it back), not one per
thread — a web server that starts a thread per request would otherwise open two file descriptors (the file and
its WAL) per request and never close them. At most ``MAX_IDLE`` connections stay open; WAL lets readers run
beside the writer, and a lock serialises writes. ``":memory:"`` has one connection shared under a lock.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import StoreError, StoreUnavailable
from ..models import Post
from . import check_term_field, from_us, interval_step, post_from_doc, split_terms, to_us, zero_fill
from .base import IndexResult, PostQuery, PostStore, SearchResult, Spreader
from . import rollup
from . import sqlite_blocks as blocks
from . import sqlite_search as search_sql
from . import sqlite_upgrade as upgrade
from .grams import gram_terms
from .sqlite_search import hex_term as _hex

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,          -- microseconds since the epoch, UTC
    source TEXT NOT NULL, author TEXT NOT NULL, author_type TEXT NOT NULL, region TEXT NOT NULL,
    topic_id TEXT NOT NULL, sentiment_label TEXT NOT NULL, rumour_score REAL,
    tokens TEXT NOT NULL, keywords TEXT NOT NULL, hashtags TEXT NOT NULL,   -- JSON arrays
    doc TEXT NOT NULL,                    -- Post.to_dict() as JSON
    body TEXT NOT NULL DEFAULT '',        -- title + newline + text: what a string search checks
    platform TEXT NOT NULL DEFAULT '', reach INTEGER NOT NULL DEFAULT 0  -- reposts + comments + likes
);
CREATE INDEX IF NOT EXISTS posts_created ON posts(created_at);
CREATE INDEX IF NOT EXISTS posts_source ON posts(source, created_at);
CREATE INDEX IF NOT EXISTS posts_topic ON posts(topic_id, created_at);
CREATE INDEX IF NOT EXISTS posts_author ON posts(author, created_at);
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(terms, detail=none);
CREATE VIRTUAL TABLE IF NOT EXISTS posts_grams USING fts5(grams, detail=none);
"""
COLUMNS = ("id", "created_at", "source", "author", "author_type", "region", "topic_id", "sentiment_label",
           "rumour_score", "tokens", "keywords", "hashtags", "doc", "body", "platform", "reach")
UPSERT_SQL = (f"INSERT INTO posts({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
              f"ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS[1:]))
LIST_FIELDS = ("tokens", "keywords", "hashtags")
SCALAR_FIELDS = ("author", "source", "topic_id", "sentiment_label", "region")


def _grams(post: Post) -> str:
    return " ".join(_hex(g) for g in gram_terms(post.title, post.text))


class SQLiteStore(PostStore):
    """Posts in one SQLite file. ``path`` may be ``":memory:"`` only for single-threaded throwaway use."""

    name = "sqlite"
    MAX_IDLE = 4  # connections kept open between calls (more are opened under load, and closed when returned)

    def __init__(self, path: str | os.PathLike[str] = "posts.db",
                 segment: Callable[[str], list[str]] | None = None, background_upgrade: bool = True) -> None:
        super().__init__(segment)
        self._sql = search_sql.SearchSQL(self.segment, self._rowid_ranges)
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._memory = self.path == ":memory:"
        self._memory_lock = threading.RLock()
        self._closed = False
        self._top_cache: dict[tuple[Any, ...], dict[str, int]] = {}  # see rollup.top
        self._generation = 0  # bumped when a write or delete touches an hour before the current one
        with self._write_lock, self._conn() as c:
            c.executescript(SCHEMA_SQL + rollup.SCHEMA_SQL + blocks.SCHEMA_SQL)
            upgrade.prepare(c)  # a file of an older version: what it needs is recorded, nothing is read
            self._pending = upgrade.pending(c)
        self._upgrader: threading.Thread | None = None
        if self._pending and background_upgrade and not self._memory:
            logging.getLogger(__name__).warning(
                "SQLite store %s: upgrading in the background (%s); the pages answer from the posts until it is "
                "done (or run: opinion-desk store upgrade)", self.path, "、".join(upgrade.NAMES[s] for s in self._pending))
            self._upgrader = threading.Thread(target=self._upgrade_quietly, name="store-upgrade", daemon=True)
            self._upgrader.start()

    # upgrade of an older file (store/sqlite_upgrade.py) ------------------------------------------------------
    def pending_upgrade(self) -> list[str]:
        """The upgrade steps this file still needs (read again from the file: another process may have done them)."""
        if self._pending:
            with self._conn() as c:
                self._pending = upgrade.pending(c)
        return list(self._pending)

    def upgrade(self, progress: Callable[[str, int, int], None] | None = None, chunk: int | None = None) -> list[str]:
        """Do every pending step in chunks (each its own write transaction); ``progress(step, done, of)`` after each
        chunk. Returns the steps done; stops early (leaving the rest pending) when the store is closed."""
        done: list[str] = []
        for step in self.pending_upgrade():
            finished = False
            while not finished:
                if self._closed:
                    return done
                with self._write_lock, self._conn() as c:
                    hi, top, finished = upgrade.step_chunk(c, step, chunk)
                if progress is not None:
                    progress(step, hi, top)
            done.append(step)
            self._pending = [s for s in self._pending if s != step]
            self._generation += 1  # cached sums may predate the rollups
        return done

    def _upgrade_quietly(self) -> None:
        log = logging.getLogger(__name__)
        try:
            steps = self.upgrade()
            if steps and not self._closed:
                log.warning("SQLite store %s: upgrade done (%s)", self.path, "、".join(upgrade.NAMES[s] for s in steps))
        except (sqlite3.Error, StoreError) as e:
            if not self._closed:
                log.error("SQLite store %s: background upgrade stopped: %s (run: opinion-desk store upgrade)",
                          self.path, e)

    # connections -----------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the inbox file that held it goes
            c.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path}: {e} ([store] sqlite_path)") from None
        return c

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call: an idle one from the pool, or a new one; given back (or closed) after."""
        if self._closed:
            raise StoreError(f"SQLite store {self.path} is closed")
        if self._memory:  # one database per connection: keep the one, one caller at a time
            with self._memory_lock:
                if not self._idle:
                    self._idle.append(self._connect())
                yield self._idle[0]
            return
        with self._pool_lock:
            c = self._idle.pop() if self._idle else None
        if c is None:
            c = self._connect()
        try:
            yield c
        finally:
            if c.in_transaction:  # a call that failed half-way must not hand an open transaction on
                try:
                    c.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            with self._pool_lock:
                keep = not self._closed and len(self._idle) < self.MAX_IDLE
                if keep:
                    self._idle.append(c)
            if not keep:
                c.close()

    def open_connections(self) -> int:
        """Idle connections held by the pool (for tests and the health page)."""
        with self._pool_lock:
            return len(self._idle)

    def close(self) -> None:
        self._closed = True
        if self._upgrader is not None and self._upgrader is not threading.current_thread():
            self._upgrader.join(60)  # it stops after its chunk
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for c in idle:
            try:
                c.close()
            except sqlite3.Error:
                pass

    def ping(self) -> bool:
        try:
            with self._conn() as c:
                c.execute("SELECT 1").fetchone()
            return True
        except (sqlite3.Error, StoreError):
            return False

    # writing ---------------------------------------------------------------------------------------------
    def _terms(self, post: Post) -> str:
        title_tokens = self.segment(post.title) if post.title.strip() else []
        return " ".join(_hex(t) for t in split_terms(list(post.tokens) + title_tokens))

    def index(self, posts: Sequence[Post]) -> IndexResult:
        rows: list[tuple[Any, ...]] = []
        terms: list[tuple[str, str]] = []
        grams: list[tuple[str, str]] = []
        result = IndexResult()
        for p in posts:
            try:
                d = p.to_dict()
                rows.append((d["id"], to_us(p.created_at), p.source, p.author, p.author_type, p.region, p.topic_id,
                             p.sentiment_label, p.rumour_score, json.dumps(list(p.tokens), ensure_ascii=False),
                             json.dumps(list(p.keywords), ensure_ascii=False),
                             json.dumps(list(p.hashtags), ensure_ascii=False), json.dumps(d, ensure_ascii=False),
                             f"{p.title}\n{p.text}", p.platform or "",
                             int(p.reposts or 0) + int(p.comments or 0) + int(p.likes or 0)))
                terms.append((d["id"], self._terms(p)))
                grams.append((d["id"], _grams(p)))
            except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as e:
                result.refuse(getattr(p, "id", "?"), f"cannot be stored: {e}")
        if not rows:
            return result
        n = len(rows)
        # the same post twice in one batch: the later one wins, as in Elasticsearch's bulk
        rows = list({r[0]: r for r in rows}.values())
        terms = list(dict(terms).items())
        grams = list(dict(grams).items())
        ids = [(r[0],) for r in rows]
        with self._write_lock, self._conn() as c:
            try:
                c.execute("BEGIN IMMEDIATE")
                c.executemany("DELETE FROM posts_fts WHERE rowid=(SELECT rowid FROM posts WHERE id=?)", ids)
                c.executemany("DELETE FROM posts_grams WHERE rowid=(SELECT rowid FROM posts WHERE id=?)", ids)
                mark = upgrade.rollup_mark(c) if self._pending else None  # rollups being filled: up to there
                rollup.apply_ids(c, [i for (i,) in ids], -1, mark)  # the rows replaced leave the rollups
                c.executemany(UPSERT_SQL, rows)
                rollup.apply_ids(c, [i for (i,) in ids], 1, mark)
                blocks.note_ids(c, [i for (i,) in ids])
                c.executemany("INSERT INTO posts_fts(rowid, terms) VALUES ((SELECT rowid FROM posts WHERE id=?), ?)",
                              terms)
                c.executemany("INSERT INTO posts_grams(rowid, grams) VALUES ((SELECT rowid FROM posts WHERE id=?), ?)",
                              grams)
                c.execute("COMMIT")
                if min(r[1] for r in rows) < to_us(datetime.now(timezone.utc)) // rollup.HOUR * rollup.HOUR:
                    self._generation += 1  # a past hour changed (after the commit): cached whole-hour sums are stale
            except (sqlite3.Error, UnicodeEncodeError, OverflowError) as e:
                c.execute("ROLLBACK") if c.in_transaction else None
                if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)
                                                                or "disk is full" in str(e)):
                    # another process holds the file (or the disk is full): a passing state, so the posts wait
                    # in the spool, never a reason to refuse them one by one
                    raise StoreUnavailable(f"SQLite store {self.path}: {e}; posts wait in the spool") from None
                raise StoreError(f"SQLite store {self.path}: write failed: {e}") from None
        result.indexed = n
        return result

    def refresh(self) -> None:
        """Nothing to do: a committed write is visible at once."""

    def drop_before(self, cutoff: datetime) -> int:
        """Delete posts created before ``cutoff``; returns how many posts went."""
        us = to_us(cutoff)
        with self._write_lock, self._conn() as c:
            try:
                c.execute("BEGIN IMMEDIATE")
                c.execute("DELETE FROM posts_fts WHERE rowid IN (SELECT rowid FROM posts WHERE created_at < ?)", (us,))
                c.execute("DELETE FROM posts_grams WHERE rowid IN (SELECT rowid FROM posts WHERE created_at < ?)",
                          (us,))
                mark = upgrade.rollup_mark(c) if self._pending else None
                rollup.apply(c, "WHERE p.created_at < ?" + ("" if mark is None else " AND p.rowid <= ?"),
                             [us] + ([] if mark is None else [mark]), -1)
                n = c.execute("DELETE FROM posts WHERE created_at < ?", (us,)).rowcount
                blocks.drop_before(c, us)
                c.execute("COMMIT")
                self._generation += 1
                if n:
                    c.execute("ANALYZE posts")  # the daily retention run keeps the planner's statistics current
            except sqlite3.Error as e:
                c.execute("ROLLBACK") if c.in_transaction else None
                raise StoreError(f"SQLite store {self.path}: retention delete failed: {e}") from None
        return n

    # reading ---------------------------------------------------------------------------------------------
    def _rowid_ranges(self, since_us: int | None, until_us: int | None) -> blocks.Split | None:
        """The time map's (inner, edge) rowid ranges for a time range (None while an older file's map is being
        filled)."""
        if "blocks" in self.pending_upgrade():
            return None
        with self._conn() as c:
            return blocks.ranges(c, since_us, until_us)

    def _where(self, q: PostQuery, alias: str = "posts") -> tuple[str, list[Any]]:
        return self._sql.where(q, alias)

    def _query(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._conn() as c:
                return c.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path}: query failed: {e}") from None

    def get(self, post_id: str) -> Post | None:
        rows = self._query("SELECT doc FROM posts WHERE id=?", (post_id,))
        return post_from_doc(json.loads(rows[0][0])) if rows else None

    def search(self, query: PostQuery) -> SearchResult:
        total = search_sql.capped_count(self._query, self._sql, query, self.total_cap)
        posts = self._query("SELECT MAX(rowid) FROM posts", ())[0][0] or 0
        if "indexes" in self.pending_upgrade():
            posts = 1 << 62  # the indexes a walk uses may not exist yet: sort the matches
        docs: list[str] | None = None
        if total >= search_sql.WINDOW_MIN and "indexes" not in self.pending_upgrade():
            newest = self._query("SELECT MAX(created_at) FROM posts", ())[0][0]
            docs = search_sql.recent_first(self._query, self._sql, query, posts, newest, self.total_cap)
        if docs is None:
            docs = search_sql.page_docs(self._query, self._sql, query, total, posts) if total else []
        _col, names = search_sql.doc_column(query.fields)
        parsed = ([{k: v for k, v in zip(names, json.loads(d)) if v is not None} for d in docs] if names
                  else [json.loads(d) for d in docs])
        return SearchResult(total=min(total, self.total_cap), exact=total <= self.total_cap,
                            posts=[post_from_doc(d) for d in parsed])

    def count(self, query: PostQuery) -> int:
        bare = replace(query, text="", since=None, until=None)
        if query.text.strip() and rollup.time_only(bare, labels_ok=False) and query.since is query.until is None:
            cond, args = self._sql.text_match(query.text, "posts")  # words only: count the index's rowids
            if cond.startswith(search_sql.IN_PREFIX):
                return self._query(f"SELECT COUNT(*) FROM ({cond[len(search_sql.IN_PREFIX):-1]})", args)[0][0]
        where, args = self._where(query)
        return self._query(f"SELECT COUNT(*) FROM posts{where}", args)[0][0]

    def date_histogram(self, query: PostQuery, interval: str = "1h") -> list[tuple[datetime, int]]:
        step = interval_step(interval)

        def scan(q: PostQuery) -> dict[int, int]:
            where, args = self._where(q)
            rows = self._query(f"SELECT (created_at / {step}) * {step} AS b, COUNT(*) FROM posts{where} GROUP BY b",
                               args)
            return {int(b): n for b, n in rows}

        if not rollup.time_only(query, labels_ok=True) or "rollups" in self.pending_upgrade():
            return zero_fill(scan(query), interval, query)
        since = None if query.since is None else to_us(query.since)
        until = None if query.until is None else to_us(query.until)
        try:
            with self._conn() as c:
                counts = rollup.histogram(c, query, step, since, until, scan)
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path}: query failed: {e}") from None
        return zero_fill(counts, interval, query)

    def top_terms(self, query: PostQuery, field: str = "tokens", size: int = 10) -> list[tuple[str, int]]:
        check_term_field(field)
        if rollup.time_only(query, labels_ok=False) and "rollups" not in self.pending_upgrade():
            since = None if query.since is None else to_us(query.since)
            until = None if query.until is None else to_us(query.until)
            try:
                with self._conn() as c:
                    got = rollup.top(c, field, size, since, until, self._top_cache, self._generation)
            except sqlite3.Error as e:
                raise StoreError(f"SQLite store {self.path}: query failed: {e}") from None
            if got is not None:
                return got
        return self._top_scan(query, field, size)

    def spreaders(self, query: PostQuery, size: int = 10) -> list[Spreader]:
        where, args = self._where(query, alias="p")
        # with one min() in a query, SQLite takes the bare columns (rowid, author_type) from the row holding the
        # minimum; for an event, posts_topic_authors holds every column read (no post is read), then the ids of
        # the few first posts
        rows = self._query(f"SELECT p.author, COUNT(*), SUM(p.reach), MIN(p.created_at), p.rowid, p.author_type "
                           f"FROM posts p{where}{' AND' if where else ' WHERE'} p.author <> '' GROUP BY p.author "
                           "ORDER BY 3 DESC, 4 ASC, 1 ASC LIMIT ?", [*args, int(size)])
        ids = dict(self._query(f"SELECT rowid, id FROM posts WHERE rowid IN ({', '.join('?' * len(rows))})",
                               [r[4] for r in rows])) if rows else {}
        return [Spreader(str(a), int(n), int(r or 0), str(ids.get(rid, "")), from_us(int(t)), str(at or ""))
                for a, n, r, t, rid, at in rows]

    def _top_scan(self, query: PostQuery, field: str, size: int) -> list[tuple[str, int]]:
        """top_terms read from the matching posts."""
        where, args = self._where(query, alias="p")
        if field in LIST_FIELDS:
            sql = (f"SELECT j.value AS t, COUNT(DISTINCT p.rowid) AS n FROM posts p, json_each(p.{field}) j{where}"
                   f"{' AND' if where else ' WHERE'} j.value <> '' GROUP BY t ORDER BY n DESC, t ASC LIMIT ?")
        elif field in SCALAR_FIELDS:
            sql = (f"SELECT p.{field} AS t, COUNT(*) AS n FROM posts p{where}{' AND' if where else ' WHERE'} "
                   f"p.{field} <> '' GROUP BY t ORDER BY n DESC, t ASC LIMIT ?")
        else:
            raise StoreError(f"top_terms field {field!r} is not supported by the SQLite store")
        return [(str(t), int(n)) for t, n in self._query(sql, [*args, int(size)])]
