"""``cardinality``: distinct authors per query_key value within the timeframe at least ``max_cardinality``
(many accounts pushing the same topic or the same text: query_key ``simhash`` groups near-duplicate posts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from .base import RuleType, key_label, positive, ts


class CardinalityRule(RuleType):
    name = "cardinality"
    summary = "多账号集中发帖：时间窗口内不同作者数达到阈值"
    OPTIONS = {"max_cardinality": positive("integer", 1, description="distinct authors within the timeframe that fire")}
    REQUIRED = ("max_cardinality",)

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.seen: dict[str, dict[str, tuple[float, str]]] = {}  # key -> author -> (last time, post id)
        self._changed: set[str] = set()  # keys whose row changed since the last save (saved as rows)

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        author = post.author_id or post.author
        if not author:
            return []
        t = ts(post.created_at)
        for k in keys:
            row = self.seen.setdefault(k, {})
            if author not in row or row[author][0] < t:
                row[author] = (t, post.id)
                self._changed.add(k)
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        tf = self.spec.timeframe
        cut = ts(now) - tf.total_seconds()
        row = self.seen.get(key, {})
        inside = sorted((v for v in row.values() if v[0] > cut), reverse=True)
        if len(inside) >= self.o["max_cardinality"]:
            return self.match(key, now, f"{key_label(key)}{format_duration(tf)}内 {len(inside)} 个不同账号集中发帖"
                              f"（阈值 {self.o['max_cardinality']}）", [pid for _, pid in inside[:10]], len(inside))
        return None

    def tracked_keys(self) -> list[str]:
        return list(self.seen)

    def prune(self, now: datetime) -> bool:
        cut = ts(now) - self.spec.timeframe.total_seconds() * 2
        changed = False
        for k in list(self.seen):
            row = {a: v for a, v in self.seen[k].items() if v[0] > cut}
            if len(row) != len(self.seen[k]):
                changed = True
                self._changed.add(k)
            if row:
                self.seen[k] = row
            else:
                del self.seen[k]
        return changed

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "seen": {k: {a: list(v) for a, v in row.items()} for k, row in self.seen.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        for k, row in data.get("seen", {}).items():
            self.seen[k] = {a: (float(v[0]), str(v[1])) for a, v in row.items()}
            self._changed.add(k)

    def saved_state(self) -> dict[str, Any]:
        return self.base_state()  # the keys are rows

    def row_changes(self) -> tuple[dict[str, Any], set[str]]:
        changed = {k: {a: list(v) for a, v in self.seen[k].items()} for k in self._changed if k in self.seen}
        removed = {k for k in self._changed if k not in self.seen}
        self._changed = set()
        return changed, removed

    def load_rows(self, rows: dict[str, Any]) -> None:
        for k, row in rows.items():
            if k not in self.seen and isinstance(row, dict):
                self.seen[k] = {a: (float(v[0]), str(v[1])) for a, v in row.items()}
