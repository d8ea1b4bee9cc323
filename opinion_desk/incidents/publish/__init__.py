"""Publishing the approved answer: one file per channel (weibo.py, wechat.py), each a small class with
``publish(draft) -> PublishResult`` that speaks the platform's documented API. Base URLs are configurable, so
tests point them at local stand-in servers that check the same request formats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import IncidentError

CHANNELS = ("weibo", "wechat")
CHANNEL_ZH = {"weibo": "微博", "wechat": "微信公众号"}


class PublishError(IncidentError):
    """A platform refused or failed a publication; ``code`` is the platform's error code."""

    def __init__(self, channel: str, reason: str, code: Any = None) -> None:
        self.channel = channel
        self.reason = reason
        self.code = code
        c = f" (错误码 {code})" if code is not None else ""
        super().__init__(f"{CHANNEL_ZH.get(channel, channel)}发布失败{c}：{reason}")


@dataclass
class PublishResult:
    channel: str
    remote_id: str
    url: str


def build(cfg: Any, channel: str) -> Any:
    """The publisher of ``channel`` from ``[incidents.weibo]`` / ``[incidents.wechat]``."""
    if channel == "weibo":
        from .weibo import WeiboPublisher

        c = cfg["incidents.weibo"]
        return WeiboPublisher(c["base_url"], c["access_token"], c["safe_url"])
    if channel == "wechat":
        from .wechat import WeChatPublisher

        c = cfg["incidents.wechat"]
        return WeChatPublisher(c["base_url"], c["appid"], c["secret"], c["author"], c["thumb_media_id"])
    raise IncidentError(f"unknown channel {channel!r}")
