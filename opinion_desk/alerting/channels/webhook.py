"""A generic webhook: ``POST <url>`` with the alert as JSON (``{"event": "alert"|"resolved", "alert": {...},
"posts": [...], "title", "text"}``: ``title``/``text`` are the message ready to show, links from posts defanged;
``alert`` and ``posts`` are the data as collected, so a receiver that displays them escapes them), extra
``headers``, and when ``secret`` is set ``X-Desk-Signature: sha256=<hex HMAC of the body>``. 2xx is delivered;
429/5xx and network errors are retried; other 4xx stop."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from ...errors import DeliveryError
from .base import Channel, render, title


class WebhookChannel(Channel):
    kind = "webhook"
    REQUIRED = ("url",)

    def send(self, payload: dict[str, Any]) -> None:
        esc = payload["kind"] == "escalation"  # an incident notice: its record and the people it names
        body = json.dumps({"event": payload["kind"], "alert": payload["alert"], "posts": payload.get("posts", []),
                           "desk_url": payload.get("desk_url", ""), "title": title(payload),
                           "text": render("escalation.txt" if esc else "robot.txt", payload),
                           **({"escalation": payload["escalation"], "mentions": payload.get("mentions", [])} if esc else {})},
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", **(self.conf.get("headers") or {})}
        if self.conf.get("secret"):
            mac = hmac.new(str(self.conf["secret"]).encode(), body, hashlib.sha256).hexdigest()
            headers["X-Desk-Signature"] = f"sha256={mac}"
        try:
            r = requests.post(self.conf["url"], data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise DeliveryError(self.name, self.scrub(f"cannot reach webhook: {type(e).__name__}: {e}")) from None
        if 200 <= r.status_code < 300:
            return
        raise DeliveryError(self.name, self.scrub(f"HTTP {r.status_code}: {r.text[:200]}"),
                            retryable=r.status_code == 429 or r.status_code >= 500)
