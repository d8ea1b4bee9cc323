"""``sentiment_surge``: the share of negative posts in the window against its baseline (the ``reference``
span before the window). Fires when the share is at least ``min_share`` and ``ratio`` times the baseline share,
with at least ``min_posts`` posts in the window. Nothing fires before the rule has watched for ``reference`` plus
one timeframe (a fresh desk has no baseline: "基线 0%" would be no baseline at all); a baseline of fewer than
``min_reference_posts`` posts is too thin to compare, and the share alone (``min_share``) decides, said so."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...models import Post
from ..durations import format_duration, parse_duration
from ..rule import Match, RuleSpec
from .base import DURATION, RuleType, Window, bucket_for, key_label, positive


class SentimentSurgeRule(RuleType):
    name = "sentiment_surge"
    summary = "负面情绪激增：窗口内负面占比相对基线显著上升"
    MATCH_FIELDS = ("share", "baseline", "posts")  # details an alert_text may name
    OPTIONS = {
        "labels": {"type": "array", "items": {"type": "string"}, "description": "sentiment labels counted as negative"},
        "min_posts": positive("integer", 1, description="fewest posts in the window"),
        "min_share": positive(maximum=1, description="smallest negative share that fires (0..1)"),
        "ratio": positive(description="current share / baseline share that fires"),
        "reference": DURATION,
        "min_reference_posts": positive("integer", description="fewest baseline posts to compare against"),
    }
    DEFAULTS = {"labels": ["neg"], "min_posts": 20, "min_share": 0.5, "ratio": 1.5, "reference": "6h",
                "min_reference_posts": 20}
    DURATION_OPTIONS = ("reference",)
    resolvable = True

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.ref = parse_duration(self.o["reference"])
        span = self.ref + spec.timeframe * 2
        self.total = Window(bucket_for(spec.timeframe), span)
        self.neg = Window(bucket_for(spec.timeframe), span)
        self.labels = set(self.o["labels"])

    def baseline_span(self) -> timedelta:
        return self.ref + self.spec.timeframe

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        self.note_start(post.created_at)
        negative = post.sentiment_label in self.labels
        for k in keys:
            self.total.add(k, post.created_at)
            if negative:
                self.neg.add(k, post.created_at, post.id)
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        tf = self.spec.timeframe
        if not self.warmed_up(now, self.baseline_span()):
            return None
        n = self.total.total(key, now - tf, now)
        if n < self.o["min_posts"]:
            return None
        share = self.neg.total(key, now - tf, now) / n
        rn = self.total.total(key, now - tf - self.ref, now - tf)
        base = self.neg.total(key, now - tf - self.ref, now - tf) / rn if rn else 0.0
        if share < self.o["min_share"]:
            return None
        thin = rn < self.o["min_reference_posts"]
        if not thin and share < self.o["ratio"] * base:
            return None
        versus = (f"基线时段仅 {int(rn)} 条，不足 {self.o['min_reference_posts']} 条，按最低占比 "
                  f"{self.o['min_share']:.0%} 判断" if thin else f"基线 {base:.0%}")
        return self.match(key, now, f"{key_label(key)}负面情绪激增：近{format_duration(tf)}负面占比 {share:.0%}"
                          f"（{int(n)} 条），{versus}", self.neg.recent_ids(key, now - tf), round(share, 3),
                          share=share, baseline=base, posts=n)

    def tracked_keys(self) -> list[str]:
        return self.total.keys()

    def prune(self, now: datetime) -> bool:
        a = self.total.prune(now)
        b = self.neg.prune(now)
        return a or b

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "total": self.total.to_state(), "neg": self.neg.to_state()}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        self.total.load_state(data.get("total", {}))
        self.neg.load_state(data.get("neg", {}))
