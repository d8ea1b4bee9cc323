"""Feishu (飞书) custom robot: ``POST <url>`` (``.../open-apis/bot/v2/hook/ID``); with a ``secret`` the body
carries ``timestamp`` (seconds) and ``sign`` = base64(HMAC-SHA256 keyed by "ts\\nsecret" over an empty
message) — not DingTalk's formula. Rich-text ``post`` message. Replies carry ``code``: 0 ok, 19021 sign or clock
refused, 19024 keyword missing, 9499 bad request (all stop), 11232 rate limited (retry)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from html import escape
from typing import Any

from ...errors import DeliveryError
from .base import Channel, render, title

RETRYABLE = {11232, -1}


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class FeishuChannel(Channel):
    kind = "feishu"
    REQUIRED = ("url",)

    def text_body(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An incident notice: text with ``<at user_id="ou_...">name</at>`` (people without a feishu_id are named
        in plain text; Feishu's custom robots cannot @ by phone or email)."""
        ats = []
        for p in payload.get("mentions") or []:
            who = escape(p.get("name") or p.get("username") or "")
            ats.append(f'<at user_id="{escape(p["feishu_id"])}">{who}</at>' if p.get("feishu_id") else f"@{who}")
        text = render("escalation.txt", payload) + ("\n" + " ".join(ats) if ats else "")
        return {"msg_type": "text", "content": {"text": text}}

    def body(self, payload: dict[str, Any], timestamp_s: int | None = None) -> dict[str, Any]:
        if payload["kind"] == "escalation":
            body = self.text_body(payload)
            if self.conf.get("secret"):
                ts = int(time.time()) if timestamp_s is None else timestamp_s
                body = {"timestamp": str(ts), "sign": sign(self.conf["secret"], ts), **body}
            return body
        lines = [ln for ln in render("feishu.txt", payload).splitlines()]
        content = [[{"tag": "text", "text": ln}] for ln in lines if ln.strip()]
        link = payload.get("desk_url")
        if link:
            content.append([{"tag": "a", "text": "打开值班台处置", "href": link}])
        body: dict[str, Any] = {"msg_type": "post",
                                "content": {"post": {"zh_cn": {"title": title(payload), "content": content}}}}
        if self.conf.get("secret"):
            ts = int(time.time()) if timestamp_s is None else timestamp_s
            body = {"timestamp": str(ts), "sign": sign(self.conf["secret"], ts), **body}
        return body

    def send(self, payload: dict[str, Any]) -> None:
        reply = self.post_json(self.conf["url"], self.body(payload))
        code = reply.get("code", reply.get("StatusCode"))
        if code == 0:
            return
        raise DeliveryError(self.name, f"Feishu code {code}: {reply.get('msg', '')}", retryable=code in RETRYABLE)
