"""The dashboard: a Socket.IO ``alert`` (or ``alert_resolved``) event to every open desk; the page plays a
beep and shows a browser notification."""

from __future__ import annotations

from typing import Any

from ... import broadcast
from .base import Channel, title


class DashboardChannel(Channel):
    kind = "dashboard"

    def send(self, payload: dict[str, Any]) -> None:
        data = {**payload["alert"], "title": title(payload), "posts": payload.get("posts", []),
                "kind": payload["kind"]}
        if payload["kind"] == "resolved":
            broadcast.alert_resolved(data)
        else:
            broadcast.alert(data)
