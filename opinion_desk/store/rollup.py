"""Rollup tables of the embedded store: the dashboard's aggregates without reading every post of the range.

- ``rollup_minute(minute, label, n)``: posts per UTC minute and sentiment label (volume per minute);
- ``rollup_hour(field, hour, term, n)``: posts per UTC hour and value of each of :data:`FIELDS` (a post counts
  once per distinct value; ``""`` kept, so the ``sentiment_label`` rows of an hour sum to its posts);
- ``rollup_total(field, term, n)``: the same over all time (the "all time" hot words and shares).

They are kept in the same transaction as the posts: :func:`apply` subtracts the rows a write replaces or a retention
delete removes and adds the rows written, from SQL aggregates over those rows (one code path for both). A file
made before the rollups is filled in chunks after open (:mod:`.sqlite_upgrade`); until then nothing reads them.

Reads (:func:`histogram`, :func:`top`) answer only queries whose only filters are the time range (and, for the
volume, sentiment labels); everything else goes to the posts table as before. A range is split into the
whole minutes/hours inside it, read from the rollups, and the partial edges before and after, read from the posts.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .base import PostQuery

MINUTE = 60_000_000
HOUR = 3_600_000_000
FIELDS = ("sentiment_label", "source", "region", "keywords")
LIST_FIELDS = ("keywords",)
#: below this range, a hot-words query reads the posts of the range (a few hundred rows at most)
SCAN_BELOW_US = 3 * HOUR
#: whole-hour sums kept by :func:`top` (a few ranges and fields)
CACHED = 8

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS rollup_minute (minute INTEGER NOT NULL, label TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (minute, label)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_hour (field TEXT NOT NULL, hour INTEGER NOT NULL, term TEXT NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (field, hour, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_total (field TEXT NOT NULL, term TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (field, term)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollup_total_n ON rollup_total(field, n DESC, term);
"""


def _aggregates(c: sqlite3.Connection, where: str, args: list[Any]) -> tuple[list, list, Counter]:
    """(minute rows, hour rows, totals) of the posts ``where`` selects (alias ``p``)."""
    minutes = c.execute(f"SELECT p.created_at / {MINUTE}, p.sentiment_label, COUNT(*) FROM posts p {where} "
                        "GROUP BY 1, 2", args).fetchall()
    hours: list[tuple[str, int, str, int]] = []
    for f in FIELDS:
        if f in LIST_FIELDS:
            sql = (f"SELECT p.created_at / {HOUR}, j.value, COUNT(DISTINCT p.rowid) FROM posts p, "
                   f"json_each(p.{f}) j {where} GROUP BY 1, 2")
        else:
            sql = f"SELECT p.created_at / {HOUR}, p.{f}, COUNT(*) FROM posts p {where} GROUP BY 1, 2"
        hours.extend((f, h, str(t), n) for h, t, n in c.execute(sql, args))
    totals: Counter = Counter()
    for f, _h, t, n in hours:
        totals[(f, t)] += n
    return minutes, hours, totals


def apply(c: sqlite3.Connection, where: str, args: list[Any], sign: int) -> None:
    """Add (``sign`` 1) or subtract (-1) the posts ``where`` selects to/from the rollups (inside the caller's
    transaction); rows that reach 0 go."""
    minutes, hours, totals = _aggregates(c, where, args)
    if not minutes:
        return
    c.executemany("INSERT INTO rollup_minute(minute, label, n) VALUES (?, ?, ?) "
                  "ON CONFLICT(minute, label) DO UPDATE SET n = n + excluded.n",
                  [(m, lab, sign * n) for m, lab, n in minutes])
    c.executemany("INSERT INTO rollup_hour(field, hour, term, n) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT(field, hour, term) DO UPDATE SET n = n + excluded.n",
                  [(f, h, t, sign * n) for f, h, t, n in hours])
    c.executemany("INSERT INTO rollup_total(field, term, n) VALUES (?, ?, ?) "
                  "ON CONFLICT(field, term) DO UPDATE SET n = n + excluded.n",
                  [(f, t, sign * n) for (f, t), n in totals.items()])
    if sign < 0:
        c.executemany("DELETE FROM rollup_minute WHERE minute=? AND label=? AND n <= 0",
                      [(m, lab) for m, lab, _n in minutes])
        c.executemany("DELETE FROM rollup_hour WHERE field=? AND hour=? AND term=? AND n <= 0",
                      [(f, h, t) for f, h, t, _n in hours])
        c.executemany("DELETE FROM rollup_total WHERE field=? AND term=? AND n <= 0", list(totals))


def apply_ids(c: sqlite3.Connection, ids: list[str], sign: int, upto: int | None = None) -> None:
    """:func:`apply` for the posts with these ids (in chunks, under SQLite's variable limit); with ``upto``, only
    those at or below that rowid (while the rollups are being filled, :mod:`.sqlite_upgrade`)."""
    below = "" if upto is None else f" AND p.rowid <= {int(upto)}"
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        apply(c, f"WHERE p.id IN ({', '.join('?' * len(chunk))}){below}", chunk, sign)


# reading ---------------------------------------------------------------------------------------------------
def time_only(q: PostQuery, labels_ok: bool) -> bool:
    """True when ``q`` filters by nothing but its time range (and sentiment labels when ``labels_ok``)."""
    return not (q.text.strip() or q.sources or q.topic_ids or q.authors or q.author_types or q.regions
                or q.platforms or q.any_strings or q.min_rumour_score is not None
                or (q.sentiment_labels and not labels_ok))


def split(since: int | None, until: int | None, g: int) -> tuple[int | None, int | None, list[tuple[Any, Any]]]:
    """[since, until) as whole ``g`` units [lo, hi) (``None``: open) and the partial edges before and after."""
    lo = None if since is None else -(-since // g) * g
    hi = None if until is None else until // g * g
    if lo is not None and hi is not None and lo >= hi:
        return lo, lo, [(since, until)]
    edges = []
    if since is not None and since < lo:
        edges.append((since, lo))
    if until is not None and hi < until:
        edges.append((hi, until))
    return lo, hi, edges


def _range(col: str, lo: int | None, hi: int | None, g: int) -> tuple[str, list[Any]]:
    cond, args = [], []
    if lo is not None:
        cond.append(f"{col} >= ?")
        args.append(lo // g)
    if hi is not None:
        cond.append(f"{col} < ?")
        args.append(hi // g)
    return "".join(f" AND {x}" for x in cond), args


def histogram(c: sqlite3.Connection, q: PostQuery, step: int, since: int | None, until: int | None,
              scan: Callable[[PostQuery], dict[int, int]]) -> dict[int, int]:
    """Bucket start (µs) -> posts, for buckets of ``step`` µs (a multiple of a minute); ``scan`` counts the posts
    of an edge query by bucket."""
    from .. import store as _store

    g = HOUR if step % HOUR == 0 else MINUTE
    lo, hi, edges = split(since, until, g)
    counts: Counter = Counter()
    if lo is None or hi is None or lo < hi:
        rng, args = _range("hour" if g == HOUR else "minute", lo, hi, g)
        labels = list(q.sentiment_labels)
        if g == HOUR:
            sql = f"SELECT hour, SUM(n) FROM rollup_hour WHERE field='sentiment_label'{rng}"
            lab_col = "term"
        else:
            sql = f"SELECT minute, SUM(n) FROM rollup_minute WHERE 1=1{rng}"
            lab_col = "label"
        if labels:
            sql += f" AND {lab_col} IN ({', '.join('?' * len(labels))})"
            args += labels
        for unit, n in c.execute(sql + " GROUP BY 1 HAVING SUM(n) > 0", args):
            counts[unit * g // step * step] += n
    for a, b in edges:
        counts.update(scan(replace(q, since=_store.from_us(a), until=_store.from_us(b))))
    return dict(counts)


def top(c: sqlite3.Connection, field: str, size: int, since: int | None, until: int | None,
        cache: dict[tuple[Any, ...], dict[str, int]], generation: int) -> list[tuple[str, int]] | None:
    """The top ``size`` values of ``field`` from the rollups, or None when the posts should be read instead
    (a field without rollups, or a range under :data:`SCAN_BELOW_US`). ``cache`` keeps the sums of the range's
    whole hours, keyed by ``generation`` (the store bumps it when a write or a delete touches a past hour)."""
    if field not in FIELDS:
        return None
    if since is None and until is None:
        return [(str(t), int(n)) for t, n in c.execute(
            "SELECT term, n FROM rollup_total WHERE field=? AND term <> '' AND n > 0 ORDER BY n DESC, term ASC "
            "LIMIT ?", (field, int(size)))]
    if since is not None and until is not None and until - since < SCAN_BELOW_US:
        return None
    lo, hi, edges = split(since, until, HOUR)
    key = (field, lo, hi, generation)
    inner = cache.get(key)
    if inner is None:  # the whole hours' sums: the same until the hour turns or an older hour is written
        rng, args = _range("hour", lo, hi, HOUR)
        inner = dict(c.execute(f"SELECT term, SUM(n) FROM rollup_hour WHERE field=?{rng} AND term <> '' "
                               "GROUP BY term HAVING SUM(n) > 0", [field, *args]))
        while len(cache) >= CACHED:
            cache.pop(next(iter(cache)))
        cache[key] = inner
    edge: Counter = Counter()
    for a, b in edges:  # the partial hours at the ends, from the posts (at most an hour each)
        if field in LIST_FIELDS:
            sql = (f"SELECT j.value, COUNT(DISTINCT p.rowid) FROM posts p, json_each(p.{field}) j "
                   "WHERE p.created_at >= ? AND p.created_at < ? AND j.value <> '' GROUP BY j.value")
        else:
            sql = (f"SELECT p.{field}, COUNT(*) FROM posts p WHERE p.created_at >= ? AND p.created_at < ? "
                   f"AND p.{field} <> '' GROUP BY p.{field}")
        for t, n in c.execute(sql, (a, b)):
            edge[str(t)] += int(n)
    best = heapq.nsmallest(size, ((-(inner.get(t, 0) + edge.get(t, 0)), t) for t in {*inner, *edge}))
    return [(t, -n) for n, t in best if n < 0]
