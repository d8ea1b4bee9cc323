"""DingTalk (钉钉) custom robot: ``POST <url>`` (``.../robot/send?access_token=TOKEN``) with, when a ``secret``
(SEC...) is set, ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(secret, "ts\\nsecret"))>`` in the query.
Markdown body ``{"msgtype":"markdown","markdown":{"title","text"},"at":{...}}``. Replies are HTTP 200 with
``errcode``: 0 ok, 130101 too fast (retry), 310000 sign/keyword/IP refused (stop; errmsg tells which),
300001 bad token (stop)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Any

from ...errors import DeliveryError
from .base import Channel, mentions, render, title

RETRYABLE = {130101, -1}


def sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded signature of DingTalk's 加签 mode."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={ts}&sign={sign(secret, ts)}"


def explain_310000(errmsg: str) -> str:
    m = errmsg.lower()
    if "sign" in m or "签名" in errmsg:
        return "签名不匹配（检查 secret 与服务器时间）"
    if "keyword" in m or "关键词" in errmsg:
        return "消息未包含机器人的自定义关键词"
    if "ip" in m or "白名单" in errmsg:
        return "本机 IP 不在机器人的 IP 白名单中"
    return "安全设置校验未通过"


class DingTalkChannel(Channel):
    kind = "dingtalk"
    REQUIRED = ("url",)

    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["kind"] == "escalation":
            mobiles = list(dict.fromkeys([str(m) for m in self.conf.get("at_mobiles") or []] + mentions(payload, "phone")))
            content = render("escalation.txt", payload)
            if mobiles:
                content += "\n" + " ".join(f"@{m}" for m in mobiles)
            return {"msgtype": "text", "text": {"content": content},
                    "at": {"atMobiles": mobiles, "isAtAll": bool(self.conf.get("at_all"))}}
        text = render("dingtalk.md", payload)
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": title(payload), "text": text}}
        mobiles = [str(m) for m in self.conf.get("at_mobiles") or []]
        if mobiles or self.conf.get("at_all"):
            body["at"] = {"atMobiles": mobiles, "isAtAll": bool(self.conf.get("at_all"))}
            if mobiles:
                body["markdown"]["text"] += "\n\n" + " ".join(f"@{m}" for m in mobiles)
        return body

    def send(self, payload: dict[str, Any]) -> None:
        url = self.conf["url"]
        if self.conf.get("secret"):
            url = signed_url(url, self.conf["secret"])
        reply = self.post_json(url, self.body(payload))
        code = reply.get("errcode")
        if code == 0:
            return
        msg = reply.get("errmsg", "")
        why = f" — {explain_310000(msg)}" if code == 310000 else ""
        raise DeliveryError(self.name, f"DingTalk errcode {code}: {msg}{why}", retryable=code in RETRYABLE)
