"""事件传播路径: /events/<topic_id> — the event's first poster, repost tree, key spreaders and time axis (the
graph and the axis drawn by static/js/event.js with ECharts from /api/v1/events/<topic_id>/propagation)."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from datetime import datetime, timedelta, tzinfo
from typing import Any

from flask import Blueprint, abort, jsonify, render_template

from ..models import Post
from ..root import current_desk
from ..store.base import INTERVALS, PostQuery, PostStore
from .propagation import summary, time_step
from .search import AUTHOR_TYPES, tz, tz_label

bp = Blueprint("events", __name__)

#: the event's earliest posts read for its path (the first poster and the early spread matter most; the graph
#: shows 400 of them); the count, the time axis and the key spreaders are of every post (the store counts them)
MAX_POSTS = 500
#: the post fields the summary reads (web/propagation.py and the label): a cold page reads these, not whole posts
FIELDS = ("author", "author_type", "url", "mid", "repost_of", "reply_to", "reposts", "comments", "likes",
          "topic_label")
CACHED = 64  # event summaries kept (the least recently used go)


class SummaryCache:
    """Event summaries by (store, event, its post count, its newest post, zone): computed again only when the event
    gains or loses a post (or gets another newest one), so a page opened again, or by the next officer, reads two
    index lookups instead of the event's posts."""

    def __init__(self, size: int = CACHED) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


SUMMARIES = SummaryCache()


def event_posts(store: PostStore, topic_id: str) -> list[Post]:
    """The event's earliest posts, oldest first, at most :data:`MAX_POSTS` (one read)."""
    return store.search(PostQuery(topic_ids=[topic_id], sort="oldest", size=MAX_POSTS, fields=FIELDS)).posts


def counted(store: PostStore, topic_id: str, first: datetime, last: datetime
            ) -> tuple[list[tuple[datetime, int]], timedelta]:
    """The event's posts counted by the store in buckets no wider than the time axis's step (a day is counted
    by the hour, so that it can be cut at the desk's midnight), and that step."""
    step = time_step(last - first)
    width = min(step, timedelta(hours=1))
    interval = next(k for k, v in INTERVALS.items() if v == width)
    return store.date_histogram(PostQuery(topic_ids=[topic_id], since=first, until=last + width), interval), step


def _label(posts: list[Post], topic_id: str) -> str:
    labels = Counter(p.topic_label for p in posts if p.topic_label)
    return labels.most_common(1)[0][0] if labels else topic_id


def event_summary(store: PostStore, topic_id: str, zone: tzinfo,
                  cache: SummaryCache = SUMMARIES) -> dict[str, Any] | None:
    """What the event page shows (read-only: shared by the requests that find it in ``cache``); None without
    posts."""
    total = store.count(PostQuery(topic_ids=[topic_id]))
    newest = store.search(PostQuery(topic_ids=[topic_id], size=1, fields=("topic_label",))).posts if total else []
    if not newest:
        return None
    key = (store, topic_id, total, newest[0].id, newest[0].created_at, str(zone))
    hit = cache.get(key)
    if hit is not None:
        return hit
    posts = event_posts(store, topic_id)
    s = summary(posts, zone, counted(store, topic_id, posts[0].created_at, newest[0].created_at) if posts else None,
                store.spreaders(PostQuery(topic_ids=[topic_id]), 10))
    first = s.pop("first")
    s["first"] = {"id": first.id, "author": first.author, "text": first.text[:300], "url": first.url,
                  "author_type": AUTHOR_TYPES.get(first.author_type, first.author_type)}
    s.update(topic_id=topic_id, label=_label(posts, topic_id), total=total,
             last_time=newest[0].created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
    cache.put(key, s)
    return s


@bp.get("/events/<topic_id>")
def page(topic_id: str):  # noqa: ANN201
    s = event_summary(current_desk().store, topic_id, tz())
    if s is None:
        abort(404)
    return render_template("event.html", s=s, tz_label=tz_label(), author_types=AUTHOR_TYPES)


@bp.get("/api/v1/events/<topic_id>/propagation")
def api_propagation(topic_id: str):  # noqa: ANN201
    s = event_summary(current_desk().store, topic_id, tz())
    if s is None:
        return jsonify(error=f"没有事件 {topic_id} 的帖子"), 404
    return jsonify(s)
