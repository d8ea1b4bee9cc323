"""The only module that emits Socket.IO events from background work.

Every live update the dashboard receives goes through a function here, to the ``live`` room of the ``/desk``
namespace; each carries ``{"seq", "epoch"}`` as a second argument, for replay after a reconnect
(:mod:`opinion_desk.livefeed`):

- ``posts``      a batch of new posts (light records for the feed)
- ``alert``      a new alert (and ``alert_resolved``)
- ``alert_updated`` an open alert grown by a repeat match that tells no one (within ``realert``): its row changes
  in place, quietly (count, value, last match, samples)
- ``source``     a source's health changed
- ``incident``   an incident changed
- ``escalation`` an incident's deadline escalation (事件时限; one banner per incident, updated in place)
- ``review``     something entered or left the approvers' 待我审核 queue (a close request)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .extensions import socketio
from .livefeed import LIVE, NAMESPACE
from .models import Post

FEED_FIELDS = ("id", "source", "platform", "author", "title", "url", "sentiment", "sentiment_label",
               "topic_id", "topic_label", "rumour_score", "rumour_cues", "keywords", "hashtags",
               "author_type", "images", "time_unknown", "truncated", "mid", "repost_of", "reply_to",
               "complaint_score", "rumour_reasons", "event_id", "event_label")


def feed_record(p: Post) -> dict[str, Any]:
    """What the live feed shows of a post (never the raw payload). Text is cut to 500 characters."""
    d = {k: getattr(p, k) for k in FEED_FIELDS if k != "id"}
    d["id"] = p.id
    d["text"] = p.text[:500]
    d["created_at"] = p.created_at.isoformat()
    return d


def emit(event: str, data: Any) -> None:
    """To every up-to-date browser; :mod:`opinion_desk.livefeed` numbers it and keeps it for replay. Dropped in a
    process whose Socket.IO is bound to no app and no message queue (nobody could hear it)."""
    if socketio.server is None:
        return
    socketio.emit(event, data, namespace=NAMESPACE, to=LIVE)


def posts(batch: Sequence[Post]) -> None:
    if batch:
        emit("posts", [feed_record(p) for p in batch])


def alert(data: dict[str, Any]) -> None:
    emit("alert", data)


def alert_updated(data: dict[str, Any]) -> None:
    emit("alert_updated", data)


def alert_resolved(data: dict[str, Any]) -> None:
    emit("alert_resolved", data)


def source(data: dict[str, Any]) -> None:
    emit("source", data)


def incident(data: dict[str, Any]) -> None:
    emit("incident", data)


def escalation(data: dict[str, Any]) -> None:
    emit("escalation", data)


def review(data: dict[str, Any]) -> None:
    emit("review", data)
