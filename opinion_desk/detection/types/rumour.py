"""``rumour``: posts with a rumour score over ``threshold`` spreading fast (``min_posts`` such posts within the
timeframe, or one post with ``min_reposts`` reposts) while no official answer has appeared on the same
query_key value (a post by an author of ``official_author_types`` or from ``official_sources``).

A 诉求 (complaint or request: ``complaint_score`` >= ``appeal_threshold``) is never counted as a rumour. The alert's
severity comes from :mod:`opinion_desk.detection.severity` (size, speed and rumour strength of the key, capped by the
rule's ``severity``) in ``details["severity"]``; ``details["reasons"]`` carries the top post's rumour reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from ..severity import EventFigures, describe, severity
from .base import Window, WindowRule, bucket_for, key_label, positive, ts


class RumourRule(WindowRule):
    name = "rumour"
    summary = "疑似谣言扩散：高谣言分帖子快速扩散且尚无官方回应"
    MATCH_FIELDS = ("max_reposts", "figures", "reasons")  # details an alert_text may name
    OPTIONS = {
        "threshold": positive(maximum=1, description="rumour score (0..1) that counts a post"),
        "min_posts": positive("integer", 1, description="such posts within the timeframe"),
        "min_reposts": positive("integer", 1, description="or one such post with this many reposts"),
        "official_author_types": {"type": "array", "items": {"type": "string"}},
        "official_sources": {"type": "array", "items": {"type": "string"}},
        "appeal_threshold": positive(maximum=1, description="complaint_score from which a post is a 诉求, not a rumour"),
    }
    DEFAULTS = {"threshold": 0.7, "min_posts": 5, "min_reposts": 500, "official_author_types": ["gov"],
                "official_sources": [], "appeal_threshold": 0.5}

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.window = Window(bucket_for(spec.timeframe), spec.timeframe * 2)
        self.answered: dict[str, float] = {}  # key -> time of the official answer
        self.max_reposts: dict[str, tuple[int, str]] = {}
        self.top: dict[str, tuple[float, list[str]]] = {}  # key -> (highest rumour score, that post's reasons)

    def official(self, post: Post) -> bool:
        return (post.author_type in self.o["official_author_types"]) or (post.source in self.o["official_sources"])

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        if self.official(post):
            for k in keys:
                self.answered[k] = ts(post.created_at)
            return []
        if post.rumour_score is None or post.rumour_score < self.o["threshold"]:
            return []
        if (getattr(post, "complaint_score", 0.0) or 0.0) >= self.o["appeal_threshold"]:
            return []  # a 诉求: shown as such, answered, never a rumour alert
        for k in keys:
            if post.rumour_score >= self.top.get(k, (0.0, []))[0]:
                self.top[k] = (float(post.rumour_score), list(getattr(post, "rumour_reasons", []) or [])[:4])
        for k in keys:
            self.window.add(k, post.created_at, post.id)
            if post.reposts > self.max_reposts.get(k, (0, ""))[0]:
                self.max_reposts[k] = (post.reposts, post.id)
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        tf = self.spec.timeframe
        if key in self.answered and ts(now) - self.answered[key] < tf.total_seconds() * 4:
            return None
        n = self.window.total(key, now - tf, now)
        if n == 0:
            return None
        reposts, pid = self.max_reposts.get(key, (0, ""))
        if n >= self.o["min_posts"] or reposts >= self.o["min_reposts"]:
            ids = self.window.recent_ids(key, now - tf)
            if pid and pid not in ids:
                ids.insert(0, pid)
            hours = max(tf.total_seconds() / 3600, 1 / 60)
            top, reasons = self.top.get(key, (0.0, []))
            fig = EventFigures(size=max(int(n), reposts), per_hour=max(n, reposts) / hours, sensitivity=top)
            return self.match(key, now, f"{key_label(key)}疑似谣言扩散：近{format_duration(tf)} {int(n)} 条高谣言分信息，"
                              f"最高转发 {reposts}，尚无官方回应", ids, n, max_reposts=reposts,
                              severity=severity(self.spec.severity, fig), figures=describe(fig), reasons=reasons)
        return None

    def prune(self, now: datetime) -> bool:
        changed = super().prune(now)
        live = set(self.window.keys())
        n = len(self.max_reposts)
        self.max_reposts = {k: v for k, v in self.max_reposts.items() if k in live}
        self.top = {k: v for k, v in self.top.items() if k in live}
        return changed or len(self.max_reposts) != n

    def state(self) -> dict[str, Any]:
        return {**super().state(), "answered": self.answered,
                "max_reposts": {k: list(v) for k, v in self.max_reposts.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        self.answered.update(data.get("answered", {}))
        self.max_reposts.update({k: (int(v[0]), str(v[1])) for k, v in data.get("max_reposts", {}).items()})
