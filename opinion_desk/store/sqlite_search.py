"""Search in the embedded store: the SQL of a :class:`PostQuery` (filters, words, strings, order) and the plan of
one page of results.

Terms are hex-encoded (:func:`hex_term`) so FTS5 sees one opaque word per term (see :mod:`.sqlite`).

A page is read in one of two ways:

- **sort the matches**: every matching row is read and sorted (cheap while the matches are few);
- **walk an index**: when the matches are many, the time index (or the reach index) is walked in the page's order
  and each row is checked against the matching rowids (materialised once by SQLite), stopping after the page. The
  rows walked are about ``(offset + size) * posts / matches``, so a common word costs a few thousand index entries
  instead of reading tens of thousands of posts. :func:`walk_pays` decides from the counted matches.

The total of a search is counted up to :data:`~.base.TOTAL_CAP` (+1 to know that there are more), as a search
engine does; an exact count is :meth:`SQLiteStore.count`.

History does not make a search dearer: a query with a time range looks its words and strings up only in the rowid
ranges the time map (:mod:`.sqlite_blocks`) gives for it, and counts the ranges wholly inside it from the index
alone; an all-time newest-first or relevance search of a common word is answered from the most recent window that
fills its page (:func:`recent_first`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from . import from_us, split_terms, to_us
from .base import RUMOUR_TAG_SCORE, PostQuery
from .grams import bigrams, needles, query_parts

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
#: the (inner, edge) rowid ranges (inclusive) that may hold the posts of a time range (see
#: :func:`.sqlite_blocks.ranges`); None: unknown (no time map yet)
Ranges = Callable[[int | None, int | None], tuple[list[tuple[int, int]], list[tuple[int, int]]] | None]
Bounds = list[tuple[int, int]] | None

#: walk an index when (offset + size) * posts <= WALK_FACTOR * matches², i.e. when the index entries walked are
#: a small multiple of the rows a sort would read (an index entry costs far less than reading a post)
WALK_FACTOR = 40
#: the index walked, and the order, for each sort that can walk
WALKS = {"newest": ("posts_created", "created_at DESC, id ASC"),
         "oldest": ("posts_created", "created_at ASC, id ASC"),
         "reach": ("posts_reach", "reach DESC, created_at DESC, id ASC")}
IN_PREFIX = "posts.rowid IN ("
#: the windows (days before the newest post) an all-time newest-first or relevance search tries first
WINDOWS = (7, 30, 180)
#: ... when it matches at least this many posts of all time (fewer are read and sorted at once)
WINDOW_MIN = 2_000
DAY_US = 86_400_000_000


def hex_term(term: str) -> str:
    return term.encode("utf-8", "surrogatepass").hex()


class SearchSQL:
    """Builds the WHERE and ORDER BY of a query with the store's query-side segmenter. ``ranges`` bounds the FTS5
    lookups of a query with a time range to the rowids that may hold it (see :mod:`.sqlite_blocks`)."""

    def __init__(self, segment: Callable[[str], list[str]], ranges: Ranges | None = None) -> None:
        self.segment = segment
        self.ranges = ranges

    def split(self, q: PostQuery) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
        """The (inner, edge) rowid ranges of ``q``'s time range, or None (no range, or no time map)."""
        if self.ranges is None or (q.since is None and q.until is None):
            return None
        return self.ranges(None if q.since is None else to_us(q.since), None if q.until is None else to_us(q.until))

    def bounds(self, q: PostQuery) -> Bounds:
        """The rowid ranges that may hold ``q``'s time range, or None (no range, or no time map)."""
        got = self.split(q)
        return None if got is None else sorted(got[0] + got[1])

    @staticmethod
    def bounded(select: str, args: list[Any], bounds: Bounds, col: str = "rowid") -> tuple[str, list[Any]]:
        """``select`` (an FTS5 lookup) limited to ``bounds``: one lookup per range, seeking by rowid."""
        if bounds is None:
            return select, args
        if not bounds:
            return select + f" AND {col} < 0", args  # nothing can match: rowids are positive
        if len(bounds) == 1:
            return f"{select} AND {col} BETWEEN ? AND ?", [*args, *bounds[0]]
        # one select (a compound of its own), so that a UNION beside it removes duplicates across all of it
        return ("SELECT r FROM (" + " UNION ALL ".join(f"{select.replace(f'SELECT {col} ', f'SELECT {col} AS r ', 1)}"
                                                        f" AND {col} BETWEEN ? AND ?" for _ in bounds) + ")",
                [a for lo, hi in bounds for a in (*args, lo, hi)])

    def where(self, q: PostQuery, alias: str = "posts") -> tuple[str, list[Any]]:
        cond: list[str] = []
        args: list[Any] = []
        bounds = self.bounds(q)
        if q.text.strip():
            text_cond, text_args = self.text_match(q.text, alias, bounds)
            if text_cond:
                cond.append(text_cond)
                args.extend(text_args)
        if q.since is not None:
            cond.append(f"{alias}.created_at >= ?")
            args.append(to_us(q.since))
        if q.until is not None:
            cond.append(f"{alias}.created_at < ?")
            args.append(to_us(q.until))
        for col, values in (("source", q.sources), ("sentiment_label", q.sentiment_labels),
                            ("topic_id", q.topic_ids), ("author", q.authors), ("author_type", q.author_types),
                            ("region", q.regions), ("platform", q.platforms)):
            if values:
                cond.append(f"{alias}.{col} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        if q.any_strings:
            sels, sargs = [], []
            for w in dict.fromkeys(x for x in q.any_strings if x.strip()):
                sel, a = self.strings([w], bounds)
                sels.append(sel)
                sargs.extend(a)
            if sels:
                cond.append(f"{alias}.rowid IN ({' UNION '.join(sels)})")
                args.extend(sargs)
        if q.min_rumour_score == RUMOUR_TAG_SCORE:  # the tag: written as the partial index's own condition
            cond.append(f"{alias}.rumour_score >= {RUMOUR_TAG_SCORE!r}")  # (a constant, so the planner sees it)
        elif q.min_rumour_score is not None:  # within a time range the time index leads (a tenth of the posts may
            # be above a score: the score's index would read them all, of all time, and sort them)
            cond.append(f"{'+' if q.since is not None else ''}{alias}.rumour_score >= ?")
            args.append(float(q.min_rumour_score))
        return (" WHERE " + " AND ".join(cond)) if cond else "", args

    def word_match(self, text: str, alias: str, bounds: Bounds = None) -> tuple[str, list[Any]]:
        terms = split_terms(self.segment(text))
        if not terms:
            return "", []
        sel, args = self.bounded("SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?",
                                 [" ".join(f'"{hex_term(t)}"' for t in terms)], bounds)
        return f"{alias}.rowid IN ({sel})", args

    def text_match(self, text: str, alias: str, bounds: Bounds = None) -> tuple[str, list[Any]]:
        """A word match OR a string match (see :mod:`.grams`), as one ``rowid IN (… UNION …)`` so the query is
        driven by the matching rows, never by a scan of the table."""
        terms = split_terms(self.segment(text))
        _parts, words = needles(text, self.segment)
        selects, args = [], []
        if terms:
            sel, sargs = self.bounded("SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?",
                                      [" ".join(f'"{hex_term(t)}"' for t in terms)], bounds)
            selects.append(sel)
            args.extend(sargs)
        if words:
            sel, sargs = self.strings(words, bounds)
            selects.append(sel)
            args.extend(sargs)
        if not selects:
            return "", []
        return f"{alias}.rowid IN ({' UNION '.join(selects)})", args

    @classmethod
    def strings(cls, words: list[str], bounds: Bounds = None) -> tuple[str, list[Any]]:
        """The rowids of posts holding every one of ``words`` in the title or text: their bigrams narrow (AND),
        ``instr`` checks each word of one or three characters or more (a two-character word is its own bigram: the
        index alone decides it). Only one-character words: the start of a bigram, from the index alone."""
        grams = list(dict.fromkeys(g for w in words for g in bigrams(w)))
        if grams:  # a one-character word is checked with instr among the bigrams' candidates: a prefix query
            # (every bigram starting with it, e.g. 事*) merges tens of thousands of postings (10 ms at 1M posts)
            match = " ".join(f'"{hex_term(g)}"' for g in grams)
            long = [w for w in words if len(w) != 2]
        else:
            match = " ".join(f"{hex_term(w)}*" for w in words)
            long = []
        if not long:
            return cls.bounded("SELECT rowid FROM posts_grams WHERE posts_grams MATCH ?", [match], bounds)
        return cls.bounded("SELECT g.rowid FROM posts_grams g JOIN posts b ON b.rowid = g.rowid WHERE "
                           "g.posts_grams MATCH ?" + "".join(" AND instr(b.body, ?) > 0" for _ in long),
                           [match, *long], bounds, "g.rowid")

    def order(self, q: PostQuery) -> tuple[str, list[Any]]:
        """ORDER BY of a search: newest/oldest first, by reach, or word matches first, then posts holding each
        query part whole, then the rest (newest first within each)."""
        if q.sort == "oldest":
            return "created_at ASC, id ASC", []
        if q.sort == "reach":
            return "reach DESC, created_at DESC, id ASC", []
        if q.sort == "relevance" and q.text.strip():
            word, wargs = self.word_match(q.text, "posts", self.bounds(q))
            parts = query_parts(q.text)
            whole = " AND ".join("instr(posts.body, ?) > 0" for _ in parts)
            return (f"{'(' + word + ') DESC, ' if word else ''}({whole}) DESC, created_at DESC, id ASC",
                    [*wargs, *parts])
        return "created_at DESC, id ASC", []


def only_text(q: PostQuery) -> bool:
    """True when ``q`` filters by its words and nothing else."""
    return not (q.since or q.until or q.sources or q.sentiment_labels or q.topic_ids or q.authors
                or q.author_types or q.regions or q.platforms or q.any_strings or q.min_rumour_score is not None)


def capped_count(run: Run, sql: SearchSQL, q: PostQuery, cap: int) -> int:
    """The posts ``q`` matches, counted up to ``cap + 1`` (the count stops there)."""
    split = sql.split(q) if q.text.strip() and only_text(replace(q, since=None, until=None)) else None
    if split is not None and sql.text_match(q.text, "posts")[0]:
        # words in a time range: the index's rowids of the ranges wholly inside it, without reading a post, and
        # the posts of the edge ranges checked for their time (a block or two at each end)
        inner, edge = split
        n = 0
        if inner:
            cond, args = sql.text_match(q.text, "posts", inner)
            n = run(f"SELECT COUNT(*) FROM ({cond[len(IN_PREFIX):-1]} LIMIT ?)", [*args, cap + 1])[0][0]
        if edge and n <= cap:
            cond, args = sql.text_match(q.text, "posts", edge)
            times, targs = sql.where(replace(q, text=""))
            n += run(f"SELECT COUNT(*) FROM (SELECT 1 FROM posts{times} AND {cond} LIMIT ?)",
                     [*targs, *args, cap + 1 - n])[0][0]
        return n
    if q.text.strip() and only_text(q):
        cond, args = sql.text_match(q.text, "posts")
        if cond.startswith(IN_PREFIX):  # the index's rowids, merged in rowid order so the LIMIT stops the reading
            return run(f"SELECT COUNT(*) FROM ({cond[len(IN_PREFIX):-1]} ORDER BY 1 LIMIT ?)", [*args, cap + 1])[0][0]
    where, args = sql.where(q)
    if q.any_strings and not q.text.strip() and only_text(replace(q, any_strings=[])) and \
            where.startswith(" WHERE " + IN_PREFIX) and where.count(IN_PREFIX) == 1:
        # strings only (the 投诉诉求 tag): the index's rowids, without reading each matching post (18.7 -> 6.8 ms
        # for 4,254 of 1M posts)
        return run(f"SELECT COUNT(*) FROM ({where[len(' WHERE ' + IN_PREFIX):-1]} LIMIT ?)", [*args, cap + 1])[0][0]
    return run(f"SELECT COUNT(*) FROM (SELECT 1 FROM posts{where} LIMIT ?)", [*args, cap + 1])[0][0]


def walk_pays(need: int, matches: int, posts: int) -> bool:
    """Walk an index rather than sort the matches (see the module's docstring)."""
    return matches > 0 and need * max(posts, 1) <= WALK_FACTOR * matches * matches


def doc_column(fields: Sequence[str]) -> tuple[str, list[str]]:
    """What a page selects for :attr:`PostQuery.fields`: ``doc``, or a JSON array of those fields of it (with the
    four every post has), and the names of the array's items."""
    if not fields:
        return "doc", []
    from ..models import _post_fields

    known = _post_fields()
    names = list(dict.fromkeys(["source", "source_id", "text", "created_at",
                                *(f for f in fields if f in known)]))
    return f"json_extract(doc, {', '.join(repr('$.' + f) for f in names)})", names


def first_tier(run: Run, sql: SearchSQL, q: PostQuery, need: int, pays: Callable[[int], bool],
               cap: int) -> list[str] | None:
    """The first tier of the relevance order: word matches holding every part whole, newest first, ``need`` of
    them when there are that many (then they begin the page), else None. The word matches are counted first from
    the index alone, up to ``cap`` (other filters left out: an upper bound, enough to choose); ``pays(words)`` says
    whether walking the time index is worth it."""
    doc, _names = doc_column(q.fields)
    word, wargs = sql.word_match(q.text, "posts", sql.bounds(q))
    if not word:
        return None
    words = run(f"SELECT COUNT(*) FROM ({word[len(IN_PREFIX):-1]} LIMIT ?)", [*wargs, cap])[0][0]
    if words < need or not pays(words):
        return None
    parts = query_parts(q.text)
    rest, rargs = sql.where(replace(q, text=""))
    conds = [c for c in (rest[len(" WHERE "):], word, *("instr(posts.body, ?) > 0" for _ in parts)) if c]
    rows = run(f"SELECT {doc} FROM posts INDEXED BY posts_created WHERE {' AND '.join(conds)} "
               "ORDER BY created_at DESC, id ASC LIMIT ?", [*rargs, *wargs, *parts, need])
    return [r[0] for r in rows] if len(rows) >= need else None


def recent_first(run: Run, sql: SearchSQL, q: PostQuery, posts: int, newest_us: int, cap: int) -> list[str] | None:
    """The page of a newest-first or relevance search of all time, found in the most recent of :data:`WINDOWS`
    that fills it (every post outside a window is older, so it ranks below the window's: for relevance, below the
    window's first tier), or None (read the whole history). The window's lookups are bounded by the time map, so
    the page costs the same however long the history is."""
    if (q.since is not None or q.until is not None or sql.ranges is None or q.sort not in ("newest", "relevance")
            or not q.text.strip()):
        return None
    need = max(0, q.offset) + max(0, q.size)
    for days in WINDOWS:
        qw = replace(q, since=from_us(newest_us - days * DAY_US))
        if q.sort == "newest":
            n = capped_count(run, sql, qw, cap)
            if n >= need:
                return page_docs(run, sql, qw, n, posts)
        else:
            rows = first_tier(run, sql, qw, need, lambda _words: True, cap)
            if rows is not None:
                return rows[q.offset:]
    return None


def page_docs(run: Run, sql: SearchSQL, q: PostQuery, matches: int, posts: int) -> list[str]:
    """The ``doc`` of each post of the page ``q`` asks for (or the JSON array of :func:`doc_column`); ``matches``
    is the (capped) count of its matches, ``posts`` about how many posts the store holds."""
    doc, _names = doc_column(q.fields)
    where, args = sql.where(q)
    need = max(0, q.offset) + max(0, q.size)
    limits = [max(0, q.size), max(0, q.offset)]
    if (q.text.strip() or q.any_strings) and walk_pays(need, matches, posts):
        if q.sort in WALKS:
            index, order = WALKS[q.sort]
            return [r[0] for r in run(f"SELECT {doc} FROM posts INDEXED BY {index}{where} ORDER BY {order} "
                                      "LIMIT ? OFFSET ?", [*args, *limits])]
        if q.sort == "relevance":
            rows = first_tier(run, sql, q, need, lambda words: walk_pays(need, words, posts), matches)
            if rows is not None:
                return rows[q.offset:]
    order, oargs = sql.order(q)
    return [r[0] for r in run(f"SELECT {doc} FROM posts{where} ORDER BY {order} LIMIT ? OFFSET ?",
                              [*args, *oargs, *limits])]
