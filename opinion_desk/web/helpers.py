"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, request

from ..errors import InputError
from ..models import parse_time
from ..pipeline import Pipeline
from ..store.base import PostQuery


def get_pipeline() -> Pipeline:
    return current_app.extensions["opinion_desk.pipeline"]


def query_from_args() -> PostQuery:
    """A :class:`PostQuery` from the request's query string; bad values raise :class:`InputError`."""
    a = request.args
    q = PostQuery(text=a.get("q", ""))
    if a.get("since"):
        q.since = parse_time(a["since"], "since", "query")
    elif a.get("minutes"):
        try:
            q.since = datetime.now(timezone.utc) - timedelta(minutes=float(a["minutes"]))
        except ValueError:
            raise InputError("query", "minutes", f"not a number: {a['minutes']!r}") from None
    if a.get("until"):
        q.until = parse_time(a["until"], "until", "query")
    for name, attr in (("source", "sources"), ("sentiment", "sentiment_labels"), ("topic", "topic_ids"),
                       ("author", "authors"), ("region", "regions")):
        vals = a.getlist(name)
        if vals:
            setattr(q, attr, vals)
    for name in ("size", "offset"):
        if a.get(name):
            try:
                setattr(q, name, max(0, min(500, int(a[name]))))
            except ValueError:
                raise InputError("query", name, f"not a whole number: {a[name]!r}") from None
    return q
