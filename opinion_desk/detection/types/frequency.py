"""``frequency``: at least ``num_events`` matching posts within the timeframe (per query_key value)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from .base import Window, WindowRule, bucket_for, key_label, positive


class FrequencyRule(WindowRule):
    name = "frequency"
    summary = "频次：时间窗口内匹配帖子数达到阈值"
    OPTIONS = {"num_events": positive("integer", 1, description="posts within the timeframe that fire")}
    REQUIRED = ("num_events",)

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.window = Window(bucket_for(spec.timeframe), spec.timeframe * 2)

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        for k in keys:
            self.window.add(k, post.created_at, post.id)
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        tf = self.spec.timeframe
        n = self.window.total(key, now - tf, now)
        if n >= self.o["num_events"]:
            return self.match(key, now, f"{key_label(key)}近{format_duration(tf)}出现 {int(n)} 条匹配信息"
                              f"（阈值 {self.o['num_events']}）", self.window.recent_ids(key, now - tf), n)
        return None
