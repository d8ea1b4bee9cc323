"""Upgrading an embedded store file made by an older version: in chunks, in the background or by
``opinion-desk store upgrade``, never while the store opens (a gunicorn worker that boots for minutes is killed).

Opening a file (:func:`prepare`) reads no post: it adds the missing columns and records the steps the file needs in
``store_upgrade(step, done)`` (``done``: the last rowid handled; the row goes when the step is complete):

- ``grams``: the character bigrams and ``posts.body`` of posts stored before string search (files before v2);
- ``columns``: ``platform`` and ``reach`` of posts stored before those columns (before v4);
- ``rollups``: the rollup tables of :mod:`.rollup` (before v3);
- ``indexes``: the filter indexes and the planner's statistics (before v5);
- ``blocks``: the time map of :mod:`.sqlite_blocks` (before v6; until it is filled, a search with a time range reads
  every match of its words, as before).

:func:`step_chunk` does one chunk of a step in its own write transaction, so writes wait at most one chunk, and
several processes may run the upgrade at once (each chunk starts from the ``done`` it reads). While a step is
pending the store still answers, from the posts: the rollups are not read until they are complete (the dashboard's
aggregates scan the posts), and a write keeps the rollups only for posts at or below the fill's ``done`` (the fill
counts the others when it reaches them). String search misses old posts until ``grams`` is done, and the reach
sort and platform filter see 0 and "" until ``columns`` is.
"""

from __future__ import annotations

import json
import sqlite3

from . import rollup, sqlite_blocks
from .base import RUMOUR_TAG_SCORE
from .grams import gram_terms
from .sqlite_search import hex_term

#: PRAGMA user_version: 2 = posts_grams and posts.body; 3 = the rollup tables; 4 = the platform and reach columns;
#: 5 = the filter indexes (their filling, for a file made before, is a step of :data:`STEPS` until done);
#: 6 = the time map (post_blocks)
SCHEMA_VERSION = 6
#: indexes of the filters and sorts a search uses (made after the columns they need exist)
INDEX_SQL = f"""
CREATE INDEX IF NOT EXISTS posts_reach ON posts(reach, created_at);
CREATE INDEX IF NOT EXISTS posts_sentiment ON posts(sentiment_label, created_at);
CREATE INDEX IF NOT EXISTS posts_author_type ON posts(author_type, created_at);
CREATE INDEX IF NOT EXISTS posts_region ON posts(region, created_at);
CREATE INDEX IF NOT EXISTS posts_platform ON posts(platform, created_at);
CREATE INDEX IF NOT EXISTS posts_rumour ON posts(rumour_score);
CREATE INDEX IF NOT EXISTS posts_topic_authors ON posts(topic_id, author, reach, created_at, author_type);
CREATE INDEX IF NOT EXISTS posts_rumour_tag ON posts(created_at) WHERE rumour_score >= {RUMOUR_TAG_SCORE!r};
CREATE INDEX IF NOT EXISTS posts_facets ON posts(source, sentiment_label, author_type, created_at);
CREATE INDEX IF NOT EXISTS posts_region_platform ON posts(region, platform, created_at);
"""
#: a post's reach (reposts + comments + likes), the "reach" sort, from its JSON (files before the column)
REACH_SQL = ("(COALESCE(json_extract(doc, '$.reposts'), 0) + COALESCE(json_extract(doc, '$.comments'), 0)"
             " + COALESCE(json_extract(doc, '$.likes'), 0))")
UPGRADE_SQL = "CREATE TABLE IF NOT EXISTS store_upgrade (step TEXT PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0)"
STEPS = ("grams", "columns", "rollups", "indexes", "blocks")
NAMES = {"grams": "字符索引", "columns": "平台与传播量列", "rollups": "统计汇总表", "indexes": "筛选索引",
         "blocks": "时间索引"}
#: rowids per chunk (a chunk is one write transaction of a few seconds at most)
CHUNK = {"grams": 2_000, "columns": 20_000, "rollups": 5_000, "indexes": 0, "blocks": 200_000}


def prepare(c: sqlite3.Connection) -> None:
    """At open (inside the caller's write lock): record what a file of an older version needs; reads no post."""
    c.execute(UPGRADE_SQL)
    version = c.execute("PRAGMA user_version").fetchone()[0]
    analysed = c.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_stat1'").fetchone()
    if version >= SCHEMA_VERSION and analysed:
        return
    have = {r[1] for r in c.execute("PRAGMA table_info(posts)")}
    for col, decl in (("body", "TEXT NOT NULL DEFAULT ''"), ("platform", "TEXT NOT NULL DEFAULT ''"),
                      ("reach", "INTEGER NOT NULL DEFAULT 0")):
        if col not in have:
            c.execute(f"ALTER TABLE posts ADD COLUMN {col} {decl}")
    c.execute("BEGIN IMMEDIATE")
    if not c.execute("SELECT 1 FROM posts LIMIT 1").fetchone():  # nothing stored: nothing to fill
        c.execute("COMMIT")
        c.executescript(INDEX_SQL)
        c.execute("ANALYZE posts")
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return
    steps = [s for s, needed in (("grams", version < 2), ("columns", version < 4), ("rollups", version < 3),
                                 ("indexes", True), ("blocks", version < 6)) if needed]
    if "rollups" in steps and not c.execute("SELECT 1 FROM store_upgrade WHERE step='rollups'").fetchone():
        for t in ("rollup_minute", "rollup_hour", "rollup_total"):
            c.execute(f"DELETE FROM {t}")
    c.executemany("INSERT OR IGNORE INTO store_upgrade(step, done) VALUES (?, 0)", [(s,) for s in steps])
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    c.execute("COMMIT")


def pending(c: sqlite3.Connection) -> list[str]:
    """The steps not done yet, in the order they run."""
    got = {r[0] for r in c.execute("SELECT step FROM store_upgrade")}
    return [s for s in STEPS if s in got]


def rollup_mark(c: sqlite3.Connection) -> int | None:
    """While the rollups are being filled: the last rowid they count (a write keeps them for rows up to it);
    None when they are complete."""
    row = c.execute("SELECT done FROM store_upgrade WHERE step='rollups'").fetchone()
    return None if row is None else int(row[0])


def step_chunk(c: sqlite3.Connection, step: str, chunk: int | None = None) -> tuple[int, int, bool]:
    """One chunk of ``step`` (``chunk`` rowids, default :data:`CHUNK`) in its own write transaction: (last rowid
    done, highest rowid, step finished)."""
    c.execute("BEGIN IMMEDIATE")
    try:
        row = c.execute("SELECT done FROM store_upgrade WHERE step=?", (step,)).fetchone()
        top = c.execute("SELECT MAX(rowid) FROM posts").fetchone()[0] or 0
        if row is None:  # another process finished it
            c.execute("COMMIT")
            return top, top, True
        done = int(row[0])
        if step == "indexes":  # one index (then the statistics) per chunk: ``done`` counts the statements run
            todo = [x for x in INDEX_SQL.split(";") if x.strip()] + ["ANALYZE posts"]
            c.execute(todo[done])
            finished = done + 1 >= len(todo)
            if finished:
                c.execute("DELETE FROM store_upgrade WHERE step=?", (step,))
            else:
                c.execute("UPDATE store_upgrade SET done=? WHERE step=?", (done + 1, step))
            c.execute("COMMIT")
            return done + 1, len(todo), finished
        hi = min(done + (chunk or CHUNK[step]), top)
        if step == "grams":
            _grams(c, done, hi)
        elif step == "blocks":
            sqlite_blocks.fill(c, done, hi)
        elif step == "columns":
            c.execute(f"UPDATE posts SET platform = COALESCE(json_extract(doc, '$.platform'), ''), "
                      f"reach = {REACH_SQL} WHERE rowid > ? AND rowid <= ?", (done, hi))
        else:
            rollup.apply(c, "WHERE p.rowid > ? AND p.rowid <= ?", [done, hi], 1)
        finished = hi >= top
        if finished:
            c.execute("DELETE FROM store_upgrade WHERE step=?", (step,))
        else:
            c.execute("UPDATE store_upgrade SET done=? WHERE step=?", (hi, step))
        c.execute("COMMIT")
        return hi, top, finished
    except BaseException:
        if c.in_transaction:
            c.execute("ROLLBACK")
        raise


def _grams(c: sqlite3.Connection, lo: int, hi: int) -> None:
    rows = c.execute("SELECT rowid, doc FROM posts WHERE rowid > ? AND rowid <= ?", (lo, hi)).fetchall()
    grams, bodies = [], []
    for rowid, doc in rows:
        d = json.loads(doc)
        title, text = d.get("title") or "", d.get("text") or ""
        grams.append((rowid, " ".join(hex_term(g) for g in gram_terms(title, text))))
        bodies.append((f"{title}\n{text}", rowid))
    c.executemany("DELETE FROM posts_grams WHERE rowid=?", [(r,) for r, _g in grams])
    c.executemany("INSERT INTO posts_grams(rowid, grams) VALUES (?, ?)", grams)
    c.executemany("UPDATE posts SET body=? WHERE rowid=?", bodies)
