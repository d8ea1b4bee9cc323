"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from flask import request

from ..pipeline import Pipeline
from ..store.base import PostQuery
from .params import int_arg, minutes_ago, time_arg


def get_pipeline() -> Pipeline:
    from ..root import current_desk

    return current_desk().pipeline


def query_from_args() -> PostQuery:
    """A :class:`PostQuery` from the request's query string; bad values raise :class:`InputError`."""
    a = request.args
    q = PostQuery(text=a.get("q", "")[:500])
    q.since = time_arg("since") or minutes_ago("minutes")
    q.until = time_arg("until")
    for name, attr in (("source", "sources"), ("sentiment", "sentiment_labels"), ("topic", "topic_ids"),
                       ("author", "authors"), ("region", "regions")):
        vals = a.getlist(name)
        if vals:
            setattr(q, attr, vals)
    q.size = int_arg("size", q.size, 0, 500)
    q.offset = int_arg("offset", q.offset, 0, 10_000)
    return q
