"""事件传播路径: /events/<topic_id> — the event's first poster, repost tree, key spreaders and time axis (the
graph and the axis drawn by static/js/event.js with ECharts from /api/v1/events/<topic_id>/propagation)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, abort, jsonify, render_template

from ..models import Post
from ..store import get_store
from ..store.base import PostQuery
from .propagation import summary
from .search import AUTHOR_TYPES, tz, tz_label

bp = Blueprint("events", __name__)

MAX_POSTS = 2000  # the event's earliest posts read for its path (the first poster and early spread matter most)


def event_posts(topic_id: str) -> tuple[list[Post], int]:
    """(the event's posts, oldest first, at most :data:`MAX_POSTS`; how many it has in all)."""
    store = get_store()
    out: list[Post] = []
    q = PostQuery(topic_ids=[topic_id], sort="oldest", size=500)
    total = 0
    while len(out) < MAX_POSTS:
        res = store.search(q)
        total = res.total
        out.extend(res.posts)
        if len(res.posts) < q.size:
            break
        q.offset += q.size
    return out, total


def _label(posts: list[Post], topic_id: str) -> str:
    labels = Counter(p.topic_label for p in posts if p.topic_label)
    return labels.most_common(1)[0][0] if labels else topic_id


def _api_summary(topic_id: str) -> dict[str, Any]:
    posts, total = event_posts(topic_id)
    if not posts:
        abort(404)
    s = summary(posts, tz())
    first = s.pop("first")
    s["first"] = {"id": first.id, "author": first.author, "text": first.text[:300], "url": first.url,
                  "author_type": AUTHOR_TYPES.get(first.author_type, first.author_type)}
    s.update(topic_id=topic_id, label=_label(posts, topic_id), total=total)
    return s


@bp.get("/events/<topic_id>")
def page(topic_id: str):  # noqa: ANN201
    s = _api_summary(topic_id)
    return render_template("event.html", s=s, tz_label=tz_label(), author_types=AUTHOR_TYPES)


@bp.get("/api/v1/events/<topic_id>/propagation")
def api_propagation(topic_id: str):  # noqa: ANN201
    posts, total = event_posts(topic_id)
    if not posts:
        return jsonify(error=f"没有事件 {topic_id} 的帖子"), 404
    return jsonify(_api_summary(topic_id))
