"""``new_term``: a word not seen in the last ``terms_window`` bursts out — at least ``min_count`` posts within the
timeframe of its first appearance. Terms come from a post field (``keywords`` by default, or ``tokens`` or
``hashtags``). Nothing fires before the rule knows ``min_history`` of posts (the store primes it at start).

Memory: the rule remembers at most ``MAX_TERMS`` known terms. Past that, the terms seen least recently are forgotten
first (down to 90 % of the cap), as if they had not been seen within ``terms_window``: such a term seen again
starts as new, and alerts only if it then bursts (``min_count`` posts within the timeframe). A week of a busy
desk's keywords fits; a month-long import or a flood of one-off words cannot grow the rule without bound."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from ...models import Post
from ..durations import format_duration, parse_duration
from ..rule import Match, RuleSpec
from .base import DURATION, EPOCH, RuleType, positive, ts


class NewTermRule(RuleType):
    name = "new_term"
    summary = "新词爆发：近 N 天未出现过的词在短时间内大量出现"
    MATCH_FIELDS = ("first_seen",)  # details an alert_text may name
    OPTIONS = {
        "field": {"enum": ["keywords", "tokens", "hashtags"], "description": "post field the terms come from"},
        "terms_window": DURATION,
        "min_count": positive("integer", 1, description="posts within the timeframe of the first appearance"),
        "min_history": DURATION,
        "min_length": positive("integer", 1, description="shortest term (characters)"),
        "ignore": {"type": "array", "items": {"type": "string"}, "description": "terms never reported"},
    }
    DEFAULTS = {"field": "keywords", "terms_window": "7d", "min_count": 5, "min_history": "1d", "min_length": 2,
                "ignore": []}
    DURATION_OPTIONS = ("terms_window", "min_history")
    keeps_late = False  # terms_window is the horizon of known words, not a window late posts join
    MAX_TERMS = 100_000  # known terms kept (about 15 MB with their rows); the least recently seen go first

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.terms_window = parse_duration(self.o["terms_window"])
        self.min_history = parse_duration(self.o["min_history"])
        self.last_seen: dict[str, float] = {}  # term -> epoch seconds of its last appearance
        self.candidates: dict[str, list[tuple[float, str]]] = {}  # new term -> [(time, post id)]
        self.ignore = set(self.o["ignore"])
        # the state is one row per term ([last seen, candidate hits]) saved as changes: every term of terms_window
        # is too much to rewrite each tick
        self._changed: set[str] = set()

    def terms(self, post: Post) -> set[str]:
        n = int(self.o["min_length"])
        return {t for t in getattr(post, self.o["field"]) or []
                if len(t) >= n and not t.isdigit() and t not in self.ignore}

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        self.note_start(post.created_at)
        t = ts(post.created_at)
        horizon = self.terms_window.total_seconds()
        for term in self.terms(post):
            last = self.last_seen.get(term)
            if term in self.candidates:
                self.candidates[term].append((t, post.id))
                self._changed.add(term)
            elif last is None or t - last > horizon:
                self.candidates[term] = [(t, post.id)]
                self._changed.add(term)
            if last is None or t > last:
                if last is not None:
                    del self.last_seen[term]  # kept in order of last sight: the least recently seen come first
                self.last_seen[term] = t
                if last is None or int(t) != int(last):
                    self._changed.add(term)
        if len(self.last_seen) > self.MAX_TERMS:
            self._forget()
        return []

    def _forget(self) -> None:
        """Forget the least recently seen terms, down to 90 % of ``MAX_TERMS`` (their rows are deleted)."""
        n = len(self.last_seen) - int(self.MAX_TERMS * 0.9)
        old = list(itertools.islice(self.last_seen, n))
        for term in old:
            del self.last_seen[term]
        self._changed.update(old)

    def _reorder(self) -> None:
        """Restore the order of last sight after loading (rows come back in any order)."""
        self.last_seen = dict(sorted(self.last_seen.items(), key=lambda kv: kv[1]))
        if len(self.last_seen) > self.MAX_TERMS:
            self._forget()

    def baseline_span(self) -> timedelta:
        return self.min_history

    def touched_keys(self, post: Post, keys: list[str]) -> list[str]:
        return [t for t in self.terms(post) if t in self.candidates]

    def check(self, key: str, now: datetime) -> Match | None:
        hits = self.candidates.get(key)
        if not hits or not self.warmed_up(now, self.min_history):
            return None
        tf = self.spec.timeframe.total_seconds()
        first = hits[0][0]
        if first < ts(self.started) + self.min_history.total_seconds():
            return None  # it appeared while the rule was still learning what is usual
        inside = [h for h in hits if h[0] - first <= tf]
        if len(inside) >= self.o["min_count"]:
            return self.match(key, now, f"新词「{key}」爆发：首次出现后{format_duration(self.spec.timeframe)}内 {len(inside)} 条"
                              f"（此前 {format_duration(self.terms_window)} 未见）", [pid for _, pid in inside[-10:]],
                              len(inside), first_seen=(EPOCH + timedelta(seconds=first)).isoformat())
        return None

    def tracked_keys(self) -> list[str]:
        return list(self.candidates)

    def prune(self, now: datetime) -> bool:
        s = ts(now)
        tf = self.spec.timeframe.total_seconds()
        gone = [k for k, v in self.candidates.items() if s - v[0][0] > tf * 2]
        for term in gone:
            del self.candidates[term]
        horizon = self.terms_window.total_seconds()
        old = [k for k, v in self.last_seen.items() if s - v > horizon]
        for term in old:
            del self.last_seen[term]
        self._changed.update(gone)
        self._changed.update(old)
        return bool(gone or old)

    def prime(self, store: Any, now: datetime) -> None:
        from ...store.base import PostQuery

        q = PostQuery(since=now - self.terms_window, until=now)
        terms = store.top_terms(q, self.o["field"], 5000)
        if terms:
            base = ts(now - self.terms_window / 2)
            for term, _n in terms:
                if term not in self.last_seen:
                    self.last_seen[term] = base
                    self._changed.add(term)
            self.note_start(now - self.terms_window)

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "last_seen": {k: int(v) for k, v in self.last_seen.items()},
                "candidates": self.candidates}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        seen = {k: float(v) for k, v in data.get("last_seen", {}).items()}
        cands = {k: [tuple(x) for x in v] for k, v in data.get("candidates", {}).items()}
        self.last_seen.update(seen)
        self.candidates.update(cands)
        self._reorder()
        self._changed.update(seen)  # a whole state (an older save, or carried over a reload): written as rows next
        self._changed.update(cands)

    def saved_state(self) -> dict[str, Any]:
        return self.base_state()  # everything else is in the rows

    def row_changes(self) -> tuple[dict[str, Any], set[str]]:
        """Rows ``term -> [last seen (epoch s) or None, candidate hits or None]`` changed since the last call."""
        changed: dict[str, Any] = {}
        removed: set[str] = set()
        for t in self._changed:
            last, hits = self.last_seen.get(t), self.candidates.get(t)
            if last is None and hits is None:
                removed.add(t)
            else:
                changed[t] = [None if last is None else int(last), hits]
        self._changed = set()
        return changed, removed

    def load_rows(self, rows: dict[str, Any]) -> None:
        for term, v in rows.items():
            last, hits = v if isinstance(v, list) and len(v) == 2 else (v, None)
            if last is not None and term not in self.last_seen:
                self.last_seen[term] = float(last)
            if hits and term not in self.candidates:
                self.candidates[term] = [(float(x[0]), str(x[1])) for x in hits]
        self._reorder()
