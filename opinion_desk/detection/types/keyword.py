"""``keyword``: a watch list. Each post that carries a watch word (jieba-aware, see :class:`PostFilter`) is a
match at once; ``realert`` and grouping fold a burst of such posts into one alert.

Its level (:mod:`opinion_desk.detection.severity`, as the rumour rule's): a watch word is sensitive by definition
(an analyst listed it), so the post's reach (itself and its reposts) decides how far below the rule's ``severity``
the alert starts: a lone post is 一般, one reposted by hundreds reaches the rule's level; a 诉求 (complaint or
request) is never above 较大."""

from __future__ import annotations

from datetime import datetime

from ...models import Post
from ..rule import Match
from ..severity import EventFigures, describe, severity
from .base import RuleType


class KeywordRule(RuleType):
    name = "keyword"
    summary = "关键词：帖子命中关注词即告警（按分词匹配）"
    OPTIONS = {}
    MATCH_FIELDS = ("words",)  # for alert_text: the watch words the post carries
    windowed = False

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        words = self.spec.filter.matched_words(post) if self.spec.filter.keywords else []
        hit = "、".join(words) if words else "匹配条件"
        reach = 1 + max(0, int(post.reposts or 0))  # its reposts' times are unknown: counted as this hour's
        fig = EventFigures(size=reach, per_hour=reach, sensitivity=1.0,
                           appeal=(getattr(post, "complaint_score", 0.0) or 0.0) >= 0.5)
        level = severity(self.spec.severity, fig)
        out = []
        for k in keys:
            out.append(self.match(k, post.created_at, f"命中关注词：{hit}", [post.id], 1, words=words,
                                  severity=level, figures=describe(fig)))
        return out
