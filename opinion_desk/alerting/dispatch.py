"""From a new or resolved alert to outbox rows: the payload every channel renders (the alert, a few of its posts,
the desk's address) and the channels it goes to (the rule's channels; the dashboard always)."""

from __future__ import annotations

import logging
from typing import Any

from ..state.alerts import Alert
from .outbox import Outbox

log = logging.getLogger(__name__)
POST_FIELDS = ("id", "source", "platform", "author", "title", "url", "sentiment_label", "rumour_score")


class Dispatcher:
    def __init__(self, outbox: Outbox, store: Any = None, desk_url: str = "", tz: str = "") -> None:
        self.outbox = outbox
        self.tz = tz  # the desk's zone ([desk] timezone): messages show times in it
        self.store = store
        self.desk_url = desk_url.rstrip("/")
        self._warned: set[str] = set()

    def payload(self, alert: Alert, kind: str) -> dict[str, Any]:
        posts = []
        if self.store is not None:
            for pid in list(alert.post_ids or [])[:3]:
                try:
                    p = self.store.get(pid)
                except Exception:
                    p = None
                if p is not None:
                    d = {k: getattr(p, k) for k in POST_FIELDS if k != "id"}
                    d.update(id=p.id, text=p.text[:300], created_at=p.created_at.isoformat())
                    posts.append(d)
        url = f"{self.desk_url}/alerts#{alert.id}" if self.desk_url else ""
        return {"alert": alert.to_dict(), "kind": kind, "posts": posts, "desk_url": url, "tz": self.tz}

    def channels_for(self, alert: Alert) -> list[str]:
        names = ["dashboard"] + [c for c in (alert.channels or []) if c != "dashboard"]
        out = []
        for n in names:
            if n in self.outbox.channels:
                out.append(n)
            elif n not in self._warned:
                self._warned.add(n)
                log.warning("rule %s names channel %r, which is not defined ([alerting] channels)", alert.rule, n)
        return out

    def on_alert(self, alert: Alert) -> None:
        self.outbox.enqueue(alert.id, self.channels_for(alert), "alert", self.payload(alert, "alert"))

    def on_resolved(self, alert: Alert) -> None:
        self.outbox.enqueue(alert.id, self.channels_for(alert), "resolved", self.payload(alert, "resolved"))
