"""``percentage_match``: the share of the rule's posts that also pass ``match_bucket_filter``, within the
timeframe (or ``buffer_time``), per query_key value, is below ``min_percentage`` or above ``max_percentage``
(ElastAlert's percentage_match; percentages 0-100). Nothing is judged on fewer than ``min_denominator`` posts.
Example: more than 60 % of the posts about the hospital are negative, counted over at least 30 posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration, parse_duration
from ..rule import Match, PostFilter, RuleSpec
from .base import DURATION, Window, WindowRule, bucket_for, key_label, positive
from .fields import rule_error

_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}
BUCKET_FILTER = {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "description": "which of the rule's posts count in the percentage (the same fields as filter)",
    "properties": {**{k: _LIST for k in ("keywords", "all_keywords", "exclude", "regex", "sources", "platforms",
                                         "topics", "regions")},
                   "author_types": {"type": "array", "items": {"enum": ["gov", "media", "verified", "user", ""]}},
                   "sentiment": {"type": "array", "items": {"enum": ["neg", "neutral", "pos"]}},
                   "min_rumour_score": {"type": "number", "minimum": 0, "maximum": 1}},
}


class PercentageMatchRule(WindowRule):
    name = "percentage_match"
    summary = "占比：窗口内满足 match_bucket_filter 的帖子占比高于上限或低于下限"
    OPTIONS = {
        "match_bucket_filter": BUCKET_FILTER,
        "min_percentage": positive(maximum=100, description="a share below this (percent) fires"),
        "max_percentage": positive(maximum=100, description="a share above this (percent) fires"),
        "min_denominator": positive("integer", description="fewest posts in the window to judge at all"),
        "buffer_time": DURATION,
    }
    REQUIRED = ("match_bucket_filter",)
    DEFAULTS = {"min_denominator": 10}
    DURATION_OPTIONS = ("buffer_time",)
    MATCH_FIELDS = ("percentage", "matched", "total")
    resolvable = True

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        if "min_percentage" not in self.o and "max_percentage" not in self.o:
            raise rule_error(spec, "max_percentage", "percentage_match 需要 min_percentage 或 max_percentage（至少一个）")
        self.span = parse_duration(self.o["buffer_time"]) if "buffer_time" in self.o else spec.timeframe
        self.bucket_filter = PostFilter(dict(self.o["match_bucket_filter"]))
        self.window = Window(bucket_for(self.span), self.span * 2)  # every post the rule sees
        self.hits = Window(bucket_for(self.span), self.span * 2)  # those passing match_bucket_filter

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        hit = self.bucket_filter.matches(post)
        for k in keys:
            self.window.add(k, post.created_at)
            if hit:
                self.hits.add(k, post.created_at, post.id)
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        total = self.window.total(key, now - self.span, now)
        if total <= 0 or total < self.o["min_denominator"]:
            return None
        matched = self.hits.total(key, now - self.span, now)
        pct = matched / total * 100
        lo, hi = self.o.get("min_percentage"), self.o.get("max_percentage")
        if lo is not None and pct < lo:
            bound = f"低于下限 {lo:g}%"
        elif hi is not None and pct > hi:
            bound = f"高于上限 {hi:g}%"
        else:
            return None
        return self.match(key, now, f"{key_label(key)}近{format_duration(self.span)}符合条件的帖子占 {pct:.1f}%"
                          f"（{int(matched)}/{int(total)} 条），{bound}", self.hits.recent_ids(key, now - self.span),
                          round(pct, 2), percentage=round(pct, 2), matched=int(matched), total=int(total))

    def prune(self, now: datetime) -> bool:
        a = self.window.prune(now)
        b = self.hits.prune(now)
        return a or b

    def state(self) -> dict[str, Any]:
        return {**super().state(), "hits": self.hits.to_state()}

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        self.hits.load_state(data.get("hits", {}))
