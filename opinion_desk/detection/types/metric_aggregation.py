"""``metric_aggregation``: a figure over the posts of the window (timeframe, or ``buffer_time``), per query_key
value, above ``max_threshold`` or below ``min_threshold`` (ElastAlert's metric_aggregation, computed here in
Python as posts arrive; no scripts). ``metric_agg_type`` is ``min`` ``max`` ``avg`` ``sum`` over a numeric
field (reposts, comments, likes, rumour_score, sentiment), or ``cardinality`` (distinct values) and
``value_count`` (posts having the field) over any field. A post collected again (its repost count grew) counts
once, with its latest figures. Nothing is judged on fewer than ``min_doc_count`` posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration, parse_duration
from ..rule import Match, RuleSpec
from .base import DURATION, RuleType, key_label, positive, ts
from .fields import NUMERIC_FIELDS, VALUE_FIELDS, label, number, rule_error, values

AGG_ZH = {"min": "最小值", "max": "最大值", "avg": "平均值", "sum": "合计", "cardinality": "不同取值数",
          "value_count": "有值帖子数"}
MAX_POSTS_PER_KEY = 5_000  # posts kept per key in the window; the oldest go first (bounds memory and the saved row)


class MetricAggregationRule(RuleType):
    keyed_by_post = True  # a re-collected post replaces its own figures
    name = "metric_aggregation"
    summary = "指标聚合：窗口内转发/评论/点赞/谣言分等的最小、最大、平均、合计或不同取值数越过阈值"
    OPTIONS = {
        "metric_agg_key": {"enum": sorted(NUMERIC_FIELDS) + sorted(VALUE_FIELDS), "description": "the post field"},
        "metric_agg_type": {"enum": list(AGG_ZH), "description": "the aggregation"},
        "max_threshold": {"type": "number", "description": "a figure above this fires"},
        "min_threshold": {"type": "number", "description": "a figure below this fires"},
        "min_doc_count": positive("integer", 1, description="fewest posts in the window to judge at all"),
        "buffer_time": DURATION,
    }
    REQUIRED = ("metric_agg_key", "metric_agg_type")
    DEFAULTS = {"min_doc_count": 1}
    DURATION_OPTIONS = ("buffer_time",)
    MATCH_FIELDS = ("metric_value", "metric_agg_key", "metric_agg_type", "threshold", "posts")
    resolvable = True

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.key, self.agg = self.o["metric_agg_key"], self.o["metric_agg_type"]
        if "max_threshold" not in self.o and "min_threshold" not in self.o:
            raise rule_error(spec, "max_threshold", "metric_aggregation 需要 max_threshold 或 min_threshold（至少一个）")
        if self.agg in ("min", "max", "avg", "sum") and self.key not in NUMERIC_FIELDS:
            raise rule_error(spec, "metric_agg_type", f"{self.agg} 只能用于数值字段（{'、'.join(sorted(NUMERIC_FIELDS))}），"
                             f"{self.key} 请用 cardinality 或 value_count")
        self.span = parse_duration(self.o["buffer_time"]) if "buffer_time" in self.o else spec.timeframe
        self.posts: dict[str, dict[str, tuple[float, Any]]] = {}  # key -> post id -> (time, value)
        self._changed: set[str] = set()  # keys changed since the last save (one saved row per key)

    def value_of(self, post: Post) -> Any:
        if self.key in NUMERIC_FIELDS:
            return number(post, self.key)
        vals = values(post, self.key)
        return vals or None

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        v = self.value_of(post)
        t = ts(post.created_at)
        for k in keys:
            row = self.posts.setdefault(k, {})
            row[post.id] = (t, v)
            self._changed.add(k)
            if len(row) > MAX_POSTS_PER_KEY:
                for pid, _ in sorted(row.items(), key=lambda kv: kv[1][0])[: len(row) - MAX_POSTS_PER_KEY]:
                    del row[pid]
        return []

    def figure(self, inside: list[tuple[str, Any]]) -> float | None:
        have = [(pid, v) for pid, v in inside if v is not None]
        if self.agg == "value_count":
            return float(len(have))
        if self.agg == "cardinality":
            return float(len({x for _, v in have for x in (v if isinstance(v, list) else [v])}))
        nums = [float(v) for _, v in have]
        if not nums:
            return None
        return {"min": min, "max": max, "sum": sum, "avg": lambda xs: sum(xs) / len(xs)}[self.agg](nums)

    def check(self, key: str, now: datetime) -> Match | None:
        cut, end = ts(now) - self.span.total_seconds(), ts(now)
        inside = [(pid, v) for pid, (t, v) in self.posts.get(key, {}).items() if cut < t <= end]
        if len(inside) < self.o["min_doc_count"]:
            return None
        fig = self.figure(inside)
        if fig is None:
            return None
        hi, lo = self.o.get("max_threshold"), self.o.get("min_threshold")
        if hi is not None and fig > hi:
            bound, threshold = f"高于上限 {hi:g}", hi
        elif lo is not None and fig < lo:
            bound, threshold = f"低于下限 {lo:g}", lo
        else:
            return None
        numeric = [(pid, v) for pid, v in inside if isinstance(v, (int, float))]
        ids = [pid for pid, _ in sorted(numeric, key=lambda x: -x[1])[:10]] if numeric else [p for p, _ in inside[-10:]]
        shown = f"{fig:.3g}" if self.agg == "avg" or abs(fig) < 1 else f"{fig:g}"
        return self.match(key, now, f"{key_label(key)}近{format_duration(self.span)}{label(self.key)}"
                          f"{AGG_ZH[self.agg]} {shown}（{len(inside)} 条），{bound}", ids, round(fig, 4),
                          metric_value=round(fig, 4), metric_agg_key=label(self.key),
                          metric_agg_type=AGG_ZH[self.agg], threshold=threshold, posts=len(inside))

    def tracked_keys(self) -> list[str]:
        return list(self.posts)

    def prune(self, now: datetime) -> bool:
        cut = ts(now) - self.span.total_seconds() * 2
        changed = False
        for k in list(self.posts):
            row = {pid: tv for pid, tv in self.posts[k].items() if tv[0] > cut}
            if len(row) != len(self.posts[k]):
                changed = True
                self._changed.add(k)
            if row:
                self.posts[k] = row
            else:
                del self.posts[k]
        return changed

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "posts": {k: {pid: list(tv) for pid, tv in row.items()}
                                               for k, row in self.posts.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        for k, row in (data.get("posts") or {}).items():
            self.posts[k] = {pid: (float(tv[0]), tv[1]) for pid, tv in row.items()}
            self._changed.add(k)

    def saved_state(self) -> dict[str, Any]:
        return self.base_state()  # the keys are rows

    def row_changes(self) -> tuple[dict[str, Any], set[str]]:
        changed = {k: {pid: list(tv) for pid, tv in self.posts[k].items()} for k in self._changed if k in self.posts}
        removed = {k for k in self._changed if k not in self.posts}
        self._changed = set()
        return changed, removed

    def load_rows(self, rows: dict[str, Any]) -> None:
        for k, row in rows.items():
            if k not in self.posts and isinstance(row, dict):
                self.posts[k] = {pid: (float(tv[0]), tv[1]) for pid, tv in row.items()}
