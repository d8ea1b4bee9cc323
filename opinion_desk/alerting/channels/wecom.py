"""WeCom (企业微信) group robot: ``POST <url>`` (``.../cgi-bin/webhook/send?key=KEY``), no signing; a markdown
message (≤ 4096 bytes), or text (≤ 2048 bytes) with ``mentioned_list``/``mentioned_mobile_list``.
Replies are HTTP 200 with ``errcode``: 0 ok, 45009 rate limited (retry), 93000 bad webhook URL (stop)."""

from __future__ import annotations

from typing import Any

from ...errors import DeliveryError
from .base import Channel, cut_bytes, render
from .base import mentions as named

RETRYABLE = {45009, -1}


class WeComChannel(Channel):
    kind = "wecom"
    REQUIRED = ("url",)

    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        mentions = self.conf.get("mentioned_list") or []
        mobiles = self.conf.get("mentioned_mobile_list") or []
        escalation = payload["kind"] == "escalation"
        if escalation:  # the people an incident notice names are @mentioned by mobile
            mobiles = list(dict.fromkeys([str(m) for m in mobiles] + named(payload, "phone")))
            mentions = list(dict.fromkeys(list(mentions) + named(payload, "wecom_userid")))
        if self.conf.get("format") == "text" or mentions or mobiles or escalation:
            tpl = "escalation.txt" if escalation else "robot.txt"
            text: dict[str, Any] = {"content": cut_bytes(render(tpl, payload), 2048)}
            if mentions:
                text["mentioned_list"] = list(mentions)
            if mobiles:
                text["mentioned_mobile_list"] = [str(m) for m in mobiles]
            return {"msgtype": "text", "text": text}
        return {"msgtype": "markdown", "markdown": {"content": cut_bytes(render("wecom.md", payload), 4096)}}

    def send(self, payload: dict[str, Any]) -> None:
        reply = self.post_json(self.conf["url"], self.body(payload))
        code = reply.get("errcode")
        if code == 0:
            return
        raise DeliveryError(self.name, f"WeCom errcode {code}: {reply.get('errmsg', '')}", retryable=code in RETRYABLE)
