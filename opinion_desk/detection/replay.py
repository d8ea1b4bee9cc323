"""Dry runs: replay posts (a file, or the store since a time) through rules on event time, sending nothing.

The engine's clock follows the posts' ``created_at``; between posts the window rules are ticked every ``step``
of event time, and after the last post for the rule's timeframe plus hold-down, so resolutions show too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ..models import Post
from .clock import ManualClock
from .engine import Engine
from .loader import LoadedRule
from .rule import Match, RuleSpec


def replay(rules: list[LoadedRule], posts: Iterable[Post], step: timedelta = timedelta(seconds=60),
           batch: timedelta = timedelta(seconds=0), progress: Callable[[int], None] | None = None,
           tail: bool = True) -> list[tuple[Match, RuleSpec]]:
    """Matches of ``rules`` over ``posts`` (sorted by time here). ``batch`` > 0 groups posts arriving within it
    (faster replays of big streams)."""
    out: list[tuple[Match, RuleSpec]] = []
    ordered = sorted(posts, key=lambda p: p.created_at)
    if not ordered:
        return out
    clock = ManualClock(ordered[0].created_at)
    engine = Engine(clock=clock, sink=lambda m, spec: out.append((m, spec)))
    for lr in rules:
        engine.add_rule(lr)
    next_tick = ordered[0].created_at + step
    pending: list[Post] = []
    for i, p in enumerate(ordered):
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
    if pending:
        engine.on_posts(pending)
    if tail:
        end = ordered[-1].created_at + max(lr.spec.timeframe + lr.spec.resolve_after for lr in rules) + step
        while next_tick <= end:
            clock.set(next_tick)
            engine.tick(next_tick)
            next_tick += step
    return out


def match_record(m: Match, posts_by_id: dict[str, Post]) -> dict[str, Any]:
    d = m.to_dict()
    d["posts"] = [{"id": pid, "created_at": posts_by_id[pid].created_at.isoformat(), "author": posts_by_id[pid].author,
                   "text": posts_by_id[pid].text[:140]} for pid in m.post_ids if pid in posts_by_id]
    return d


def parse_since(value: str, now: datetime) -> datetime:
    from .durations import parse_duration

    return now - parse_duration(value)
