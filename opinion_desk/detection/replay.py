"""Dry runs: replay posts (a file, or the store since a time) through rules on event time, sending nothing.

The engine's clock follows the posts' ``created_at``; between posts the window rules are ticked every ``step``
of event time (``rules test`` uses the live desk's ``[rules] tick_seconds``; ticks fall on multiples of the step
since the epoch), and after the last post for the rule's timeframe plus hold-down, so resolutions show too.

With ``noise=True`` the matches go through the live desk's noise control (:class:`~.noise.AlertBook`: realert
folding, updates of a growing alert, aggregation, silences) in a scratch state database, and the replay returns
exactly the notices the desk would send (new alerts, re-notified updates, resolved notices), each at the time it
would be sent. Without it, every condition that became true (and every resolution) is returned.

Replays from the store (:func:`store_posts`) read the posts oldest first, one page at a time, and
:func:`replay` consumes them as a stream (``ordered=True``): memory stays at one page plus the rules' windows,
whatever the span. The posts behind the matches are fetched again by id afterwards (:func:`posts_by_id`).

Why not ``date_histogram``/``count`` for window rules: a rule's filter is jieba-aware token matching, regular
expressions and ``query_key`` splits that the store contract cannot express, so counting in the store would
count other posts than the live engine does. Only the filter fields the store does express exactly (sources,
sentiment, regions, minimum rumour score) are pushed down into the store query (:func:`store_query`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..models import Post
from .clock import ManualClock
from .engine import Engine
from .loader import LoadedRule
from .rule import Match, RuleSpec

PAGE = 500


def replay(rules: list[LoadedRule], posts: Iterable[Post], step: timedelta = timedelta(seconds=60),
           batch: timedelta = timedelta(seconds=0), progress: Callable[[int], None] | None = None,
           tail: bool = True, ordered: bool = False, noise: bool = False, silences: Iterable[Any] = (),
           **engine_options: Any) -> list[tuple[Match, RuleSpec]]:
    """Matches of ``rules`` over ``posts`` (sorted by time here unless ``ordered``: then they are consumed as a
    stream, oldest first). ``batch`` > 0 groups posts arriving within it (faster replays of big streams).
    ``noise``: the notices the live desk would send instead (see the module's docstring); ``silences``
    (:class:`~opinion_desk.state.alerts.Silence` rows) apply then. ``engine_options``: ``lateness``,
    ``alert_history`` as the live desk's ``[rules]``."""
    out: list[tuple[Match, RuleSpec]] = []
    stream: Iterator[Post] = iter(posts if ordered else sorted(posts, key=lambda p: p.created_at))
    first = next(stream, None)
    if first is None:
        return out
    clock = ManualClock(first.created_at)
    if noise:
        with tempfile.TemporaryDirectory(prefix="opinion-desk-replay-") as tmp:
            engine = _noisy_engine(clock, rules, out, Path(tmp), silences, engine_options)
            try:
                _run(engine, clock, rules, first, stream, step, batch, progress, tail)
            finally:
                engine.book.db.dispose()
        return out
    engine = Engine(clock=clock, sink=lambda m, spec: out.append((m, spec)) if m.kind != "update" else None,
                    **engine_options)
    _run(engine, clock, rules, first, stream, step, batch, progress, tail)
    return out


def _noisy_engine(clock: ManualClock, rules: list[LoadedRule], out: list[tuple[Match, RuleSpec]], tmp: Path,
                  silences: Iterable[Any], engine_options: dict[str, Any]) -> Engine:
    """An engine whose matches go through an :class:`AlertBook` on a scratch state database; ``out`` gets one
    record per notice the book sends."""
    from ..state import StateDB
    from ..state.alerts import Alert, Silence
    from .noise import AlertBook

    db = StateDB(f"sqlite:///{tmp / 'replay.db'}")
    db.create_all()
    with db.session_scope() as s:
        for x in silences:
            s.add(Silence(rule=x.rule, key=x.key, until=x.until, reason=x.reason, created_by=x.created_by,
                          created_at=x.created_at))
    specs = {lr.spec.name: lr.spec for lr in rules}

    def told(kind: str) -> Callable[[Alert], None]:
        def listener(a: Alert) -> None:
            now = clock()
            k = kind
            if kind == "match" and (a.details or {}).get("updated_at") == now.isoformat():
                k = "update"
            d = dict(a.details or {})
            out.append((Match(rule=a.rule, key=a.key, time=now, reason=a.reason if kind == "match"
                              else d.get("resolved_reason", a.reason), post_ids=list(a.post_ids or []),
                              value=a.value, kind=k, details=d, samples=list(d.get("samples") or [])),
                        specs[a.rule]))
        return listener

    engine = Engine(clock=clock, **engine_options)
    engine.book = AlertBook(db, clock, [told("match")], [told("resolved")])
    engine.sink = engine.book.handle
    for lr in rules:
        engine.add_rule(lr)
    return engine


def _run(engine: Engine, clock: ManualClock, rules: list[LoadedRule], first: Post, stream: Iterator[Post],
         step: timedelta, batch: timedelta, progress: Callable[[int], None] | None, tail: bool) -> None:
    for lr in rules:
        if lr.spec.name not in engine.rules:
            engine.add_rule(lr)
    next_tick = first_tick(first.created_at, step)
    pending: list[Post] = []
    last = first
    i = 0
    for p in _chain(first, stream):
        last = p
        while p.created_at >= next_tick:
            if pending:
                engine.on_posts(pending)
                pending = []
            clock.set(next_tick)
            engine.tick(next_tick)
            next_tick += step
        if pending and p.created_at - pending[0].created_at > batch:
            engine.on_posts(pending)
            pending = []
        clock.set(p.created_at)
        pending.append(p)
        if progress and i % 500 == 0:
            progress(i)
        i += 1
    if pending:
        engine.on_posts(pending)
    if tail:
        end = last.created_at + max(lr.spec.timeframe + lr.spec.resolve_after for lr in rules) + step
        while next_tick <= end:
            clock.set(next_tick)
            engine.tick(next_tick)
            next_tick += step


def first_tick(t: datetime, step: timedelta) -> datetime:
    """The first tick after ``t`` on the grid of ``step`` since the epoch (the live desk's ticks, to within one
    step; a test's stepped clock uses the same grid)."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    n = (t - epoch) // step + 1
    return epoch + step * n


def _chain(first: Post, rest: Iterator[Post]) -> Iterator[Post]:
    yield first
    yield from rest


def store_query(specs: Iterable[RuleSpec], since: datetime, until: datetime) -> Any:
    """The store query of a replay: the time span, plus the filter fields every rule shares and the store
    expresses exactly (a superset of what the rules look at; the engine still applies the whole filter)."""
    from ..store.base import PostQuery

    q = PostQuery(since=since, until=until, size=PAGE, sort="oldest")
    specs = list(specs)
    if len(specs) == 1:
        f = specs[0].filter
        q.sources = sorted(f.sources)
        q.sentiment_labels = sorted(f.sentiment)
        q.regions = sorted(f.regions)
        q.min_rumour_score = f.min_rumour
    return q


def _ms(t: datetime) -> datetime:
    """``t`` cut to the millisecond (Elasticsearch keeps times to the millisecond)."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def store_posts(store: Any, query: Any, page_size: int = PAGE,
                progress: Callable[[int], None] | None = None) -> Iterator[Post]:
    """Every post of ``query`` oldest first, one page at a time.

    Pages go by a time cursor, not by a growing offset (Elasticsearch refuses ``offset + size`` past 10,000):
    each page starts at the millisecond of the last post read, skipping the posts of that millisecond already
    read (both backends order posts of one time by id, so those are the first ones)."""
    import dataclasses

    q = dataclasses.replace(query, size=page_size, offset=0, sort="oldest")
    cursor: datetime | None = None
    at_cursor: set[str] = set()  # ids read whose time falls in the cursor's millisecond
    while True:
        if cursor is not None:
            q.since, q.offset = cursor, len(at_cursor)
        res = store.search(q)
        fresh = [p for p in res.posts if p.id not in at_cursor]
        for p in fresh:
            t = _ms(p.created_at)
            if t != cursor:
                cursor, at_cursor = t, set()
            at_cursor.add(p.id)
            yield p
        if progress is not None and fresh:
            progress(len(fresh))
        if len(res.posts) < page_size or not fresh:
            return


def posts_by_id(store: Any, matches: Iterable[tuple[Match, RuleSpec]]) -> dict[str, Post]:
    """The posts behind ``matches``, fetched from the store by id."""
    out: dict[str, Post] = {}
    for m, _ in matches:
        for pid in m.post_ids:
            if pid not in out:
                p = store.get(pid)
                if p is not None:
                    out[pid] = p
    return out


def match_record(m: Match, posts_by_id: dict[str, Post]) -> dict[str, Any]:
    d = m.to_dict()
    d["posts"] = [{"id": pid, "created_at": posts_by_id[pid].created_at.isoformat(), "author": posts_by_id[pid].author,
                   "text": posts_by_id[pid].text[:140]} for pid in m.post_ids if pid in posts_by_id]
    return d


def parse_since(value: str, now: datetime) -> datetime:
    from .durations import parse_duration

    return now - parse_duration(value)
