"""The time map of the embedded store: for each block of :data:`SIZE` consecutive rowids, the earliest and latest
``created_at`` of the posts stored in it, so a time range becomes a few rowid ranges that the FTS5 indexes seek to.

Why: a word or string search materialises the rowids its FTS5 index matches. Without a bound, a common word costs
every match of all time, so a store twice as long costs twice as much even when the search asks for the last 7 days.
Posts are stored as they are collected, so rowid order is time order give or take a crawler's lag: the blocks a
week touches are the last few hundred, one rowid range. A backfill (``opinion-desk import`` of old posts) adds
blocks of old times at high rowids; they do not meet a recent range, so they add nothing to it. In the worst case
(posts stored in random time order) every block meets every range, and the range is the whole table: the search
costs what it costs without the map, never more.

The map is a superset, never an exact record: a block's ``lo``/``hi`` only widen (a post updated to another time
widens its block; a deleted post leaves its block as it was), and a block goes only when retention deletes every post
of it (all its times are before the cutoff). So a bounded search never misses a post.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

#: rowids per block (2^BITS)
BITS = 10
SIZE = 1 << BITS
#: rowid ranges of each kind (inner, edge: see :func:`ranges`) given to one search at most (more are merged across
#: their smallest gaps: still a superset)
MAX_RANGES = 4
NEVER = -(1 << 62)  # a time before any post (µs)
#: (inner, edge) rowid ranges, inclusive
Split = tuple[list[tuple[int, int]], list[tuple[int, int]]]

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS post_blocks (block INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
"""
_WIDEN = ("ON CONFLICT(block) DO UPDATE SET lo = MIN(lo, excluded.lo), hi = MAX(hi, excluded.hi)")


def note_ids(c: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Widen the blocks of the posts ``ids`` just written (inside the writer's transaction)."""
    c.executemany(f"INSERT INTO post_blocks(block, lo, hi) SELECT rowid >> {BITS}, created_at, created_at "
                  f"FROM posts WHERE id = ? {_WIDEN}", [(i,) for i in ids])


def fill(c: sqlite3.Connection, lo: int, hi: int) -> None:
    """The blocks of rowids ``lo < rowid <= hi`` (an upgrade chunk of a file made before the map)."""
    c.execute(f"INSERT INTO post_blocks(block, lo, hi) SELECT rowid >> {BITS}, MIN(created_at), MAX(created_at) "
              f"FROM posts WHERE rowid > ? AND rowid <= ? GROUP BY 1 {_WIDEN}", (lo, hi))


def drop_before(c: sqlite3.Connection, cutoff_us: int) -> None:
    """Forget the blocks whose every post is older than ``cutoff_us`` (retention has deleted them all)."""
    c.execute("DELETE FROM post_blocks WHERE hi < ?", (cutoff_us,))


def ranges(c: sqlite3.Connection, since_us: int | None, until_us: int | None) -> Split:
    """The rowid ranges (inclusive) that may hold posts with ``since_us <= created_at < until_us``, as ``(inner,
    edge)``: in an inner range every post is within the time range (its posts need no check of their time), an edge
    range may also hold posts outside it. Adjacent blocks of a kind are merged; past :data:`MAX_RANGES` of a kind
    they are merged across the smallest gaps (an inner range merged with a gap becomes an edge range). Both empty:
    no post can match."""
    rows = c.execute("SELECT block, lo, hi FROM post_blocks WHERE hi >= ? AND lo < ? ORDER BY block",
                     (NEVER if since_us is None else since_us, -NEVER if until_us is None else until_us)).fetchall()
    inner: list[list[int]] = []
    edge: list[list[int]] = []
    for b, lo, hi in rows:
        whole = (since_us is None or lo >= since_us) and (until_us is None or hi < until_us)
        spans = inner if whole else edge
        if spans and spans[-1][1] == b - 1:
            spans[-1][1] = b
        else:
            spans.append([b, b])
    if len(inner) > MAX_RANGES:  # too many pieces: the inner ones go to the edge, which is merged below
        edge, inner = sorted(edge + inner), []
    while len(edge) > MAX_RANGES:
        k = min(range(len(edge) - 1), key=lambda i: edge[i + 1][0] - edge[i][1])
        edge[k][1] = edge[k + 1][1]
        del edge[k + 1]
    if inner and edge:  # an edge range merged across an inner one holds it
        inner = [s for s in inner if not any(a <= s[0] and s[1] <= b for a, b in edge)]
    return ([(a << BITS, ((b + 1) << BITS) - 1) for a, b in inner],
            [(a << BITS, ((b + 1) << BITS) - 1) for a, b in edge])
