"""``rumour``: posts with a rumour score over ``threshold`` spreading fast (``min_posts`` such posts within the
timeframe, or one post with ``min_reposts`` reposts) while no official answer has appeared on the same
query_key value (a post by an author of ``official_author_types`` or from ``official_sources``).

A 诉求 (complaint or request: ``complaint_score`` >= ``appeal_threshold``) is never counted as a rumour. The alert's
severity comes from :mod:`opinion_desk.detection.severity` (size, speed and rumour strength of the key, capped by the
rule's ``severity``) in ``details["severity"]``; ``details["reasons"]`` carries the top post's rumour reasons.

An official post answers every key whose counted rumour posts share its event (``event_id``, :mod:`analyzers.events`),
and its own keys unless ``query_key`` is ``none``: such a key raises nothing for ``4 x timeframe`` (nor does a new
key of the same event, a topic whose label changed), and a key that
has counted rumour posts gets a ``resolved`` match at once (the engine sends it to the alert book, which marks an
open alert 已平息 and tells its channels), with the official post in ``details["answer"]`` and in the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analyzers.rumour import APPEAL_THRESHOLD, TAG_THRESHOLD, counts_as_rumour

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from ..severity import EventFigures, describe, severity
from .base import Window, WindowRule, bucket_for, key_label, positive, ts


MAX_EVENTS_PER_KEY = 20


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
    DEFAULTS = {"threshold": TAG_THRESHOLD, "min_posts": 5, "min_reposts": 500, "official_author_types": ["gov"],
                "official_sources": [], "appeal_threshold": APPEAL_THRESHOLD}

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.window = Window(bucket_for(spec.timeframe), spec.timeframe * 2)
        self.answered: dict[str, float] = {}  # key -> time of the official answer
        self.max_reposts: dict[str, tuple[int, str]] = {}
        self.top: dict[str, tuple[float, list[str]]] = {}  # key -> (highest rumour score, that post's reasons)
        self.events: dict[str, list[str]] = {}  # key -> events of its counted rumour posts (newest last)
        self.answered_events: dict[str, float] = {}  # event -> time of its official answer

    def official(self, post: Post) -> bool:
        return (post.author_type in self.o["official_author_types"]) or (post.source in self.o["official_sources"])

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        if self.official(post):
            return self.answer(post, keys, now)
        if not counts_as_rumour(post.rumour_score, getattr(post, "complaint_score", 0.0), self.o["threshold"],
                                self.o["appeal_threshold"]):
            return []  # a low score, or a 诉求: shown as such, answered, never a rumour alert
        for k in keys:
            if post.rumour_score >= self.top.get(k, (0.0, []))[0]:
                self.top[k] = (float(post.rumour_score), list(getattr(post, "rumour_reasons", []) or [])[:4])
        ev = str(getattr(post, "event_id", "") or "")
        for k in keys:
            if ev in self.answered_events:  # an answered event under a new key (a topic label that changed)
                self.answered[k] = max(self.answered_events[ev], self.answered.get(k, 0.0))
            self.window.add(k, post.created_at, post.id)
            if ev:
                evs = [e for e in self.events.get(k, []) if e != ev]
                self.events[k] = (evs + [ev])[-MAX_EVENTS_PER_KEY:]
            if post.reposts > self.max_reposts.get(k, (0, ""))[0]:
                self.max_reposts[k] = (post.reposts, post.id)
        return []

    def answer(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        """An official post: the keys it answers (same event, or its own keys unless ``query_key: none``) are
        quiet for ``4 x timeframe``; each whose condition held until now is resolved at once, naming the post."""
        ev = str(getattr(post, "event_id", "") or "")
        answered = [k for k, evs in self.events.items() if ev and ev in evs]
        if self.spec.query_key != "none":
            answered += [k for k in keys if k not in answered]
        at = max(now, post.created_at)
        if ev:
            self.answered_events[ev] = max(ts(post.created_at), self.answered_events.get(ev, 0.0))
        out = []
        for k in answered:
            if self.check(k, at) is not None:  # firing (or about to): its alert is resolved by this answer
                out.append(self._resolved_by(k, post, ev))
            self.answered[k] = max(ts(post.created_at), self.answered.get(k, 0.0))
        return out

    def _resolved_by(self, key: str, post: Post, ev: str) -> Match:
        who = post.author or post.source or "官方账号"
        text = " ".join((post.title or post.text or "").split())
        text = text if len(text) <= 60 else text[:60] + "…"
        answer = {"id": post.id, "author": who, "author_type": post.author_type, "text": (post.text or "")[:300],
                  "url": post.url or "", "created_at": post.created_at.isoformat(), "event_id": ev}
        return Match(rule=self.spec.name, key=key, time=post.created_at, kind="resolved", post_ids=[post.id],
                     reason=f"{key_label(key)}已有官方回应（{who}：「{text}」），疑似谣言平息"
                            + (f"；原文 {post.url}" if post.url else ""),
                     details={"answer": answer, "resolved_by": "official_answer"})

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
        self.events = {k: v for k, v in self.events.items() if k in live}
        quiet = ts(now) - self.spec.timeframe.total_seconds() * 4
        answered = len(self.answered)
        self.answered = {k: v for k, v in self.answered.items() if v >= quiet}
        self.answered_events = {k: v for k, v in self.answered_events.items() if v >= quiet}
        return changed or len(self.max_reposts) != n or len(self.answered) != answered

    def state(self) -> dict[str, Any]:
        return {**super().state(), "answered": self.answered, "events": self.events,
                "answered_events": self.answered_events,
                "max_reposts": {k: list(v) for k, v in self.max_reposts.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        self.answered.update(data.get("answered", {}))
        self.events.update({str(k): [str(e) for e in v] for k, v in data.get("events", {}).items()})
        self.answered_events.update({str(k): float(v) for k, v in data.get("answered_events", {}).items()})
        self.max_reposts.update({k: (int(v[0]), str(v[1])) for k, v in data.get("max_reposts", {}).items()})
