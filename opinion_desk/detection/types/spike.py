"""``spike``: the count in the current window against a reference (ElastAlert's spike, with robust baselines).

Baselines: ``previous`` (the window just before, as ElastAlert), ``median`` (median of the last
``baseline_windows`` windows: one odd window does not move it) and ``daily`` (median of the same clock time on
the last ``baseline_days`` days: the daily rhythm of posting does not look like a spike at 8 a.m.).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from ...models import Post
from ..rule import Match, RuleSpec
from .base import Window, WindowRule, bucket_for, key_label, positive


class SpikeRule(WindowRule):
    name = "spike"
    summary = "声量突增/骤降：当前窗口与参照窗口相比"
    MATCH_FIELDS = ("current", "reference", "direction")  # details an alert_text may name
    OPTIONS = {
        "spike_height": positive(exclusiveMinimum=1, minimum=1, description="current / reference ratio that fires"),
        "spike_type": {"enum": ["up", "down", "both"], "description": "direction"},
        "threshold_cur": positive("integer", description="fewest posts in the current window to fire (up)"),
        "threshold_ref": positive("integer", description="fewest posts in the reference to compare at all"),
        "baseline": {"enum": ["previous", "median", "daily"], "description": "how the reference is built"},
        "baseline_windows": positive("integer", 1, description="windows in the median baseline"),
        "baseline_days": positive("integer", 1, description="days in the daily baseline"),
    }
    DEFAULTS = {"spike_height": 3.0, "spike_type": "up", "threshold_cur": 10, "threshold_ref": 0,
                "baseline": "previous", "baseline_windows": 6, "baseline_days": 7}
    resolvable = True
    BASELINE_ZH = {"previous": "前一时段", "median": "近几个时段的中位数", "daily": "前几天同一时段"}

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.tf = spec.timeframe
        self.window = Window(bucket_for(self.tf), self.reference_span() + self.tf * 2)

    def reference_span(self) -> timedelta:
        b = self.o["baseline"]
        if b == "previous":
            return self.tf
        if b == "median":
            return self.tf * int(self.o["baseline_windows"])
        return timedelta(days=int(self.o["baseline_days"])) + self.tf

    def baseline_span(self) -> timedelta:
        return self.reference_span() + self.tf

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        self.note_start(post.created_at)
        for k in keys:
            self.window.add(k, post.created_at, post.id)
        return []

    def reference(self, key: str, now: datetime) -> float:
        tf, w, b = self.tf, self.window, self.o["baseline"]
        if b == "previous":
            return w.total(key, now - 2 * tf, now - tf)
        if b == "median":
            vals = [w.total(key, now - (i + 1) * tf, now - i * tf) for i in range(1, int(self.o["baseline_windows"]) + 1)]
        else:
            day = timedelta(days=1)
            vals = [w.total(key, now - i * day - tf, now - i * day) for i in range(1, int(self.o["baseline_days"]) + 1)]
        return float(statistics.median(vals))

    def check(self, key: str, now: datetime) -> Match | None:
        if not self.warmed_up(now, self.baseline_span()):
            return None
        cur = self.window.total(key, now - self.tf, now)
        ref = self.reference(key, now)
        if ref < self.o["threshold_ref"]:
            return None
        h = float(self.o["spike_height"])
        direction = self.o["spike_type"]
        ids = self.window.recent_ids(key, now - self.tf)
        if direction in ("up", "both") and cur >= self.o["threshold_cur"] and cur >= h * max(ref, 1.0):
            versus = (f"参照 {ref:g} 条（{cur / ref:.1f} 倍）" if ref >= 1
                      else f"参照时段（{self.BASELINE_ZH[self.o['baseline']]}）几乎没有相关信息")
            return self.match(key, now, f"{key_label(key)}声量突增：近{_fmt(self.tf)} {int(cur)} 条，{versus}", ids, cur,
                              current=cur, reference=ref, direction="up")
        if direction in ("down", "both") and ref > 0 and cur * h <= ref:
            return self.match(key, now, f"{key_label(key)}声量骤降：近{_fmt(self.tf)} {int(cur)} 条，参照 {ref:g} 条",
                              ids, cur, current=cur, reference=ref, direction="down")
        return None


def _fmt(td: timedelta) -> str:
    from ..durations import format_duration

    return format_duration(td)
