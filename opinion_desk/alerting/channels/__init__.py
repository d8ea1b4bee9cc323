"""The registry of alert channels: one file per kind, one line here. A channel definition names its ``type``."""

from __future__ import annotations

from typing import Any

from .base import Channel
from .dashboard import DashboardChannel
from .dingtalk import DingTalkChannel
from .email import EmailChannel
from .feishu import FeishuChannel
from .webhook import WebhookChannel
from .wecom import WeComChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    "dashboard": DashboardChannel,
    "email": EmailChannel,
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
    "webhook": WebhookChannel,
}


def build_channels(definitions: dict[str, dict[str, Any]], settings: dict[str, Any]) -> tuple[dict[str, Channel], list[str]]:
    """Channels by name from their definitions, plus the built-in ``dashboard`` (and ``email`` when
    ``[alerting] mail_to`` is set). Returns the channels and one problem line per bad definition."""
    channels: dict[str, Channel] = {"dashboard": DashboardChannel("dashboard", {}, settings)}
    problems: list[str] = []
    if settings.get("mail_to"):
        channels["email"] = EmailChannel("email", {"to": list(settings["mail_to"])}, settings)
    elif settings.get("smtp_host"):  # no duty mailbox: incident notices still reach the people they name
        channels["email"] = EmailChannel("email", {"to": [], "people_only": True}, settings)
    for name, conf in (definitions or {}).items():
        if not isinstance(conf, dict):
            problems.append(f"channel '{name}': 应为一张设置表")
            continue
        kind = conf.get("type")
        if kind not in CHANNEL_TYPES:
            problems.append(f"channel '{name}': field 'type': {kind!r} 不是可选的渠道类型（可选：{', '.join(CHANNEL_TYPES)}）")
            continue
        try:
            channels[name] = CHANNEL_TYPES[kind](name, conf, settings)
        except ValueError as e:
            problems.append(str(e))
    return channels, problems


__all__ = ["CHANNEL_TYPES", "Channel", "build_channels"]
