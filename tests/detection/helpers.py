"""Building posts and rules for detection tests (posts carry analyzer fields set directly)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.loader import LoadedRule, build, parse_rule
from opinion_desk.models import Post

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=timezone.utc)
_ids = itertools.count()


def post(minute: float, text: str = "帖子", **kw) -> Post:
    kw.setdefault("tokens", [text])
    kw.setdefault("source", "weibo")
    return Post(source_id=str(next(_ids)), text=text, created_at=T0 + timedelta(minutes=minute), **kw)


def original_or_repost(minute: float, mid: str = "m0") -> dict[str, str]:
    """A cascade's posts by minute: the one at minute 0 is the original (``mid``), the others repost it."""
    return {"mid": mid} if minute == 0 else {"repost_of": mid}


def rule(yaml_text: str, file: str = "rules/t.yaml") -> LoadedRule:
    spec = parse_rule(yaml_text, file)
    return LoadedRule(spec=spec, rtype=build(spec), path=file, digest="x")


def run(lr: LoadedRule, posts: list[Post], until_minute: float | None = None, step: float = 1.0,
        updates: bool = False) -> list:
    """Feed posts minute by minute with a tick each step; returns the matches (``updates``: also the updates
    of a growing match)."""
    out = []
    clock = ManualClock(T0)
    eng = Engine(clock=clock, sink=lambda m, spec: out.append(m) if updates or m.kind != "update" else None)
    eng.add_rule(lr)
    posts = sorted(posts, key=lambda p: p.created_at)
    end = until_minute if until_minute is not None else (posts[-1].created_at - T0).total_seconds() / 60 + 1
    t, i = 0.0, 0
    while t <= end:
        now = T0 + timedelta(minutes=t)
        batch = []
        while i < len(posts) and posts[i].created_at <= now:
            batch.append(posts[i])
            i += 1
        clock.set(now)
        if batch:
            eng.on_posts(batch)
        eng.tick(now)
        t += step
    return out
