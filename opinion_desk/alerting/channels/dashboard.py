"""The dashboard: a Socket.IO ``alert`` (or ``alert_resolved``) event to every open desk; the page plays a
beep and shows a browser notification. A quiet update of an open alert (``alert_updated``, :meth:`update`) is not
a message: the pages change the alert's row in place."""

from __future__ import annotations

from typing import Any

from ... import broadcast
from .base import Channel, local_time, title

UPDATE_FIELDS = ("id", "rule", "key", "severity", "severity_zh", "status", "status_zh", "reason", "count", "value",
                 "first_match", "last_match")


class DashboardChannel(Channel):
    kind = "dashboard"

    def send(self, payload: dict[str, Any]) -> None:
        data = {**payload["alert"], "title": title(payload), "posts": payload.get("posts", []),
                "kind": payload["kind"]}
        if payload["kind"] == "resolved":
            broadcast.alert_resolved(data)
        else:
            broadcast.alert(data)

    def update(self, payload: dict[str, Any]) -> None:
        """An open alert grown without a new notice: its figures, its newest sample posts and a line in Chinese
        (the last match in the desk's zone); times stay ISO 8601, as in the ``alert`` event."""
        a = payload["alert"]
        data = {k: a.get(k) for k in UPDATE_FIELDS}
        data.update(title=title(payload), posts=payload.get("posts", []), kind="updated",
                    summary=f"累计命中 {a.get('count')} 次，最近一次 {local_time(payload, a.get('last_match'), empty='—')}")
        broadcast.alert_updated(data)
