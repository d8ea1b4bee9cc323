"""The post fields a rule compares or aggregates (``compare_key``, ``metric_agg_key``): one getter each, with
the Chinese name people read in alerts. List fields (keywords, hashtags, mentions) give several values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...models import Post

_G = Callable[[Post], Any]
VALUE_FIELDS: dict[str, tuple[str, _G]] = {
    "author": ("作者", lambda p: p.author or p.author_id),
    "author_id": ("作者 ID", lambda p: p.author_id),
    "author_type": ("作者类型", lambda p: p.author_type),
    "source": ("信息源", lambda p: p.source),
    "platform": ("平台", lambda p: p.platform),
    "region": ("地区", lambda p: p.region),
    "topic": ("话题", lambda p: p.topic_label or p.topic_id),
    "event_id": ("事件", lambda p: getattr(p, "event_id", "")),
    "sentiment_label": ("情感", lambda p: p.sentiment_label),
    "url": ("链接", lambda p: p.url),
    "title": ("标题", lambda p: p.title),
    "repost_of": ("转发原帖", lambda p: p.repost_of),
    "keywords": ("关键词", lambda p: list(p.keywords)),
    "hashtags": ("话题标签", lambda p: list(p.hashtags)),
    "mentions": ("提及账号", lambda p: list(p.mentions)),
    "link_domains": ("链接域名", lambda p: link_domains(f"{p.title}\n{p.text}")),
}
NUMERIC_FIELDS: dict[str, tuple[str, _G]] = {
    "reposts": ("转发数", lambda p: p.reposts),
    "comments": ("评论数", lambda p: p.comments),
    "likes": ("点赞数", lambda p: p.likes),
    "rumour_score": ("谣言分", lambda p: p.rumour_score),
    "sentiment": ("情感分", lambda p: p.sentiment),
}


_LINK = re.compile(r"(?i)\bhttps?://([a-z0-9.-]+)")


def link_domains(text: str) -> list[str]:
    """The hosts of the web addresses written in a text (lower case, without ``www.``), each once."""
    hosts = (h.strip(".").lower().removeprefix("www.") for h in _LINK.findall(text or ""))
    return list(dict.fromkeys(h for h in hosts if "." in h))


def values(post: Post, name: str) -> list[str]:
    """The non-empty text values of a field (one, or several for a list field)."""
    v = VALUE_FIELDS[name][1](post) if name in VALUE_FIELDS else NUMERIC_FIELDS[name][1](post)
    items = v if isinstance(v, list) else [v]
    return [str(x).strip() for x in items if x is not None and str(x).strip()]


def number(post: Post, name: str) -> float | None:
    v = NUMERIC_FIELDS[name][1](post)
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def label(name: str) -> str:
    return (VALUE_FIELDS.get(name) or NUMERIC_FIELDS.get(name) or (name,))[0]


def rule_error(spec: Any, field: str, reason: str) -> Exception:
    """A :class:`RuleError` (Chinese ``reason``) naming the rule file, the line of ``field`` (or of the rule's
    ``type`` when the field is absent) and the field."""
    from ...errors import RuleError

    return RuleError(spec.file, reason, spec.lines.get(field) or spec.lines.get("type", 1), field)
