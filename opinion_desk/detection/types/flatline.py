"""``flatline``: a source or topic gone quiet — fewer than ``threshold`` posts within the timeframe.

Watched keys are those seen so far plus ``expect`` (names that must keep posting even if never seen). Nothing
fires before the rule has watched for one timeframe. A key is watched once a post of it arrives less than one
timeframe old: history (an import of last month's posts) does not make every old source "silent" now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from .base import Window, WindowRule, bucket_for, key_label, positive


class FlatlineRule(WindowRule):
    name = "flatline"
    summary = "静默：信息源或话题在时间窗口内帖子数低于阈值"
    OPTIONS = {
        "threshold": positive("integer", 1, description="fewer posts than this within the timeframe fires"),
        "expect": {"type": "array", "items": {"type": "string"}, "description": "query_key values that must keep posting"},
    }
    DEFAULTS = {"threshold": 1, "expect": []}
    resolvable = True
    absence = True

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.window = Window(bucket_for(spec.timeframe), spec.timeframe * 2)
        self.known: set[str] = set(self.o["expect"])
        self.first_tick: datetime | None = None

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        self.note_start(post.created_at)
        current = now - post.created_at < self.spec.timeframe
        for k in keys:
            if current:
                self.known.add(k)
            self.window.add(k, post.created_at, post.id)
        return []

    def baseline_span(self) -> timedelta:
        return self.spec.timeframe

    def check(self, key: str, now: datetime) -> Match | None:
        tf = self.spec.timeframe
        if self.first_tick is None:
            self.first_tick = now
        begun = min(t for t in (self.started, self.first_tick) if t is not None)
        if now - begun < tf:
            return None
        n = self.window.total(key, now - tf, now)
        if n < self.o["threshold"]:
            who = key_label(key) or "监测范围"
            return self.match(key, now, f"{who}已静默：近{format_duration(tf)}仅 {int(n)} 条（应不少于 {self.o['threshold']}）",
                              [], n)
        return None

    def tracked_keys(self) -> list[str]:
        return sorted(self.known)

    def state(self) -> dict[str, Any]:
        return {**super().state(), "known": sorted(self.known),
                "first_tick": self.first_tick.isoformat() if self.first_tick else None}

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        self.known |= set(data.get("known", []))
        if data.get("first_tick"):
            self.first_tick = datetime.fromisoformat(data["first_tick"])
