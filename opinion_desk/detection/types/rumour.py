"""``rumour``: the documented rumour rule in streaming form (issue 13): an unverified factual claim that spreads
without an official answer, judged per query_key value (an event) with the helpers of :mod:`analyzers.rumour` that
``opinion-desk eval`` measures (:func:`~analyzers.rumour.is_claim`, :func:`~analyzers.rumour.is_spreading`,
:meth:`~analyzers.rumour.AppealLexicon.is_doubt`, :func:`~analyzers.rumour.is_appeal`).

Per key the rule remembers its first post (the earliest, with its rumour score) and counts the later reposts and
replies of the key (:func:`is_repost_or_reply`) within ``timeframe`` after it (its first hour) and the doubt replies
among them. The key fires
when the first post is a claim (score >= ``threshold``, or questioned by >= ``MIN_DOUBTS`` doubt replies that are
>= ``DOUBT_SHARE`` of its first hour) spreading (>= ``min_posts`` posts in its first hour), or when one claim post
of the key (its own score >= ``threshold``) has ``min_reposts`` reposts; never when the first post is a 诉求
(complaint or request: ``complaint_score`` >= ``appeal_threshold``), and only while the key still has posts within
the last ``timeframe`` (so a rumour that stopped spreading resolves). The key's first post is forgotten with the
key, after ``2 x timeframe`` without posts. The alert's severity comes from :mod:`opinion_desk.detection.severity`
(posts and reposts of the key, its speed and the cascade's rumour strength, capped by the rule's ``severity``) in
``details["severity"]``; ``details["reasons"]`` shows the first post's score, the first-hour count and the doubt
replies (:func:`analyzers.rumour.cascade_reasons`), then the first post's own cues.

A post by an author of ``official_author_types`` or from ``official_sources`` is an official answer: it answers
every key whose posts share its event (``event_id``, :mod:`analyzers.events`), and its own keys unless
``query_key`` is ``none``: such a key raises nothing for ``4 x timeframe`` (nor does a new key of the same event, a
topic whose label changed), and a key whose condition held gets a ``resolved`` match at once (the engine sends it
to the alert book, which marks an open alert 已平息 and tells its channels), with the official post in
``details["answer"]`` and in the reason."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from analyzers.rumour import (APPEAL_THRESHOLD, CLAIM_SCORE, MIN_SPREAD, AppealLexicon, cascade_reasons,
                              cascade_strength, counts_as_rumour, is_appeal, is_claim, is_spreading)

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from ..severity import EventFigures, describe, severity
from .base import Window, WindowRule, bucket_for, key_label, positive, ts


MAX_EVENTS_PER_KEY = 20


@lru_cache(maxsize=1)
def _doubt_lexicon() -> AppealLexicon:
    return AppealLexicon()


def is_repost_or_reply(post: Post) -> bool:
    """Whether a post spreads another (what a cascade's first hour counts): a repost or a reply, as the platform
    says (Weibo's ``retweeted_status`` as ``repost_of``, ``reply_to``). Other posts of the same key (content that
    merely looks alike: everyday posts grouped under one topic, their own ``//@`` chains) are not its spread."""
    return bool(post.repost_of or post.reply_to)


@dataclass
class Cascade:
    """A key's first post and its first hour (``timeframe`` after it), as :func:`analyzers.rumour.cascade_assessment`
    reads an event: saved as a list (``astuple``)."""

    t0: float  # the first post's time (epoch seconds)
    score: float  # its rumour score
    appeal: bool  # it is a 诉求
    first_id: str
    n: int = 0  # later reposts and replies of the key within timeframe after the first
    doubts: int = 0  # doubt replies among them
    reasons: list[str] = field(default_factory=list)  # the first post's own rumour reasons (cues)


class RumourRule(WindowRule):
    name = "rumour"
    summary = "疑似谣言扩散：首帖是未经证实的说法、首小时内扩散且尚无官方回应"
    MATCH_FIELDS = ("max_reposts", "figures", "reasons", "first_score", "first_hour", "doubts")  # for alert_text
    OPTIONS = {
        "threshold": positive(maximum=1, description="rumour score (0..1) from which a key's first post is a claim"),
        "min_posts": positive("integer", 1, description="posts within timeframe after the first post: spreading"),
        "min_reposts": positive("integer", 1, description="or one claim post with this many reposts"),
        "official_author_types": {"type": "array", "items": {"type": "string"}},
        "official_sources": {"type": "array", "items": {"type": "string"}},
        "appeal_threshold": positive(maximum=1, description="complaint_score from which a post is a 诉求, not a rumour"),
    }
    DEFAULTS = {"threshold": CLAIM_SCORE, "min_posts": MIN_SPREAD, "min_reposts": 500,
                "official_author_types": ["gov"], "official_sources": [], "appeal_threshold": APPEAL_THRESHOLD}

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.window = Window(bucket_for(spec.timeframe), spec.timeframe * 2)
        self.cascades: dict[str, Cascade] = {}  # key -> its first post and first hour
        self.answered: dict[str, float] = {}  # key -> time of the official answer
        self.max_reposts: dict[str, tuple[int, str]] = {}  # key -> (most reposts of one claim post, its id)
        self.events: dict[str, list[str]] = {}  # key -> events of its posts (newest last)
        self.answered_events: dict[str, float] = {}  # event -> time of its official answer

    def official(self, post: Post) -> bool:
        return (post.author_type in self.o["official_author_types"]) or (post.source in self.o["official_sources"])

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        if self.official(post):
            return self.answer(post, keys, now)
        score = float(post.rumour_score or 0.0)
        complaint = getattr(post, "complaint_score", 0.0)
        claim_post = counts_as_rumour(post.rumour_score, complaint, self.o["threshold"], self.o["appeal_threshold"])
        doubt = _doubt_lexicon().is_doubt(post.text or "")
        spread = is_repost_or_reply(post)
        ev = str(getattr(post, "event_id", "") or "")
        t = ts(post.created_at)
        for k in keys:
            if ev in self.answered_events:  # an answered event under a new key (a topic label that changed)
                self.answered[k] = max(self.answered_events[ev], self.answered.get(k, 0.0))
            c = self.cascades.get(k)
            if c is None or t < c.t0 or claim_post or spread:  # the posts that can matter to the key: its first,
                # claims, reposts and replies (an everyday post of a busy topic would only grow the saved state)
                self.window.add(k, post.created_at, post.id)
            if c is None or t < c.t0:  # the key's first post (or an earlier one arriving late: it becomes first)
                first = Cascade(t, score, is_appeal(complaint, self.o["appeal_threshold"]), post.id,
                                reasons=list(getattr(post, "rumour_reasons", []) or [])[:4])
                if c is not None:  # the former first is now one of its first hour
                    first.n, first.doubts = c.n + (c.t0 - t <= self.spec.timeframe.total_seconds()), c.doubts
                self.cascades[k] = first
            elif spread and t - c.t0 <= self.spec.timeframe.total_seconds():
                c.n += 1
                c.doubts += doubt
            if ev:
                evs = [e for e in self.events.get(k, []) if e != ev]
                self.events[k] = (evs + [ev])[-MAX_EVENTS_PER_KEY:]
            if claim_post and post.reposts > self.max_reposts.get(k, (0, ""))[0]:
                self.max_reposts[k] = (post.reposts, post.id)
        return []

    def tracked_keys(self) -> list[str]:
        """The keys that may fire (spreading, or a claim post with reposts): the others need no check each tick."""
        return [k for k, c in self.cascades.items()
                if c.n >= self.o["min_posts"] or self.max_reposts.get(k, (0, ""))[0] >= self.o["min_reposts"]]

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
        c = self.cascades.get(key)
        if c is None or c.appeal:
            return None  # a 诉求: shown as such, answered, never a rumour alert
        recent = int(self.window.total(key, now - tf, now))
        if recent == 0:
            return None  # no longer spreading: the alert resolves
        reposts, pid = self.max_reposts.get(key, (0, ""))
        spreading = is_claim(c.score, c.doubts, c.n, self.o["threshold"]) and is_spreading(c.n, self.o["min_posts"])
        if not spreading and reposts < self.o["min_reposts"]:
            return None
        ids = self.window.recent_ids(key, now - tf)
        for must in (pid, c.first_id):
            if must and must not in ids:
                ids.insert(0, must)
        hours = max(tf.total_seconds() / 3600, 1 / 60)
        fig = EventFigures(size=max(recent, reposts), per_hour=max(recent, reposts) / hours,
                           sensitivity=cascade_strength(c.score, c.doubts, c.n))
        why = cascade_reasons(c.score, c.n, c.doubts)
        reasons = why + [r for r in c.reasons if not r.startswith("文本谣言分")][:3]
        reason = (f"{key_label(key)}疑似谣言扩散：{'，'.join(why)}，近{format_duration(tf)} {recent} 条，"
                  f"最高转发 {reposts}，尚无官方回应")
        return self.match(key, now, reason, ids, recent, max_reposts=reposts,
                          severity=severity(self.spec.severity, fig), figures=describe(fig), reasons=reasons,
                          first_score=round(c.score, 4), first_hour=c.n, doubts=c.doubts)

    def prune(self, now: datetime) -> bool:
        changed = super().prune(now)
        live = set(self.window.keys())
        n = len(self.max_reposts), len(self.cascades)
        self.max_reposts = {k: v for k, v in self.max_reposts.items() if k in live}
        self.cascades = {k: v for k, v in self.cascades.items() if k in live}
        self.events = {k: v for k, v in self.events.items() if k in live}
        quiet = ts(now) - self.spec.timeframe.total_seconds() * 4
        answered = len(self.answered)
        self.answered = {k: v for k, v in self.answered.items() if v >= quiet}
        self.answered_events = {k: v for k, v in self.answered_events.items() if v >= quiet}
        return changed or (len(self.max_reposts), len(self.cascades)) != n or len(self.answered) != answered

    def state(self) -> dict[str, Any]:
        return {**super().state(), "answered": self.answered, "events": self.events,
                "answered_events": self.answered_events,
                "max_reposts": {k: list(v) for k, v in self.max_reposts.items()},
                "cascades": {k: list(astuple(c)) for k, c in self.cascades.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        """Also a state saved before the rule kept cascades (it counted only posts over the threshold): its keys
        have no first post, and the next post of such a key starts its cascade."""
        super().load_state(data)
        self.answered.update(data.get("answered", {}))
        self.events.update({str(k): [str(e) for e in v] for k, v in data.get("events", {}).items()})
        self.answered_events.update({str(k): float(v) for k, v in data.get("answered_events", {}).items()})
        self.max_reposts.update({k: (int(v[0]), str(v[1])) for k, v in data.get("max_reposts", {}).items()})
        for k, v in data.get("cascades", {}).items():
            t0, score, appeal, first_id, n, doubts, reasons = v
            self.cascades[str(k)] = Cascade(float(t0), float(score), bool(appeal), str(first_id), int(n), int(doubts),
                                            [str(r) for r in reasons])
