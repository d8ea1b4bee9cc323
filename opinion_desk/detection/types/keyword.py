"""``keyword``: a watch list. Each post that carries a watch word (jieba-aware, see :class:`PostFilter`) is a
match at once; ``realert`` and grouping fold a burst of such posts into one alert."""

from __future__ import annotations

from datetime import datetime

from ...models import Post
from ..rule import Match
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
        out = []
        for k in keys:
            out.append(self.match(k, post.created_at, f"命中关注词：{hit}", [post.id], 1, words=words))
        return out
