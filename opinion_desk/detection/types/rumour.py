"""``rumour``: the documented rumour rule in streaming form (issue 13): an unverified factual claim that spreads
without an official answer, judged per query_key value (an event) with the helpers of :mod:`analyzers.rumour` that
``opinion-desk eval`` measures (:func:`~analyzers.rumour.is_claim`, :func:`~analyzers.rumour.is_spreading`,
:meth:`~analyzers.rumour.AppealLexicon.is_doubt`, :func:`~analyzers.rumour.is_appeal`).

Per key the rule follows the key's cascades: an original and the reposts and replies that name it
(:func:`cascade_of`: ``repost_of``, else ``reply_to``, as the platform says). A cascade's first post is its
original, or, while the desk has not seen the original, the earliest repost of it (the original, arriving late,
takes its place). The rule remembers each cascade's first post (time, rumour score, 诉求 or not) and counts its
reposts and replies within ``timeframe`` after it (its first hour) and the doubt replies among them. Only the
cascades that can matter are kept: those whose first post is a claim or a 诉求, and those started by a repost or reply
of an original the rule did not keep (that repost stands in for the original and counts as one of its first hour). A
stand-in carries its own score only when it quotes its original (:data:`~opinion_desk.models.QUOTED_ORIGINAL`, as
Weibo's search gives a repost whose original the desk may never see); else its score is 0 and only doubt replies can
make its cascade a claim: a repost's own words ("转发微博", a comment) say nothing of the original, and on the eval's
held-out stream reposts standing in with their own scores raised 2 of 3 false alerts (originals scoring 0.20 and
0.14 seen, not kept, then their reposts' comments scoring 0.76 and 0.66). Other posts that share the key (everyday
posts an event's content grouping put with it, perhaps earlier than the original) start no cascade: before, the
key's earliest post stood for all its cascades, and on the eval's held-out stream an everyday post that joined a
rumour's event before its original hid 4 rumour cascades (its score, not the original's, was judged).

The key fires when one of its cascades has a claim as first post (score >= ``threshold``, or questioned by
>= ``MIN_DOUBTS`` doubt replies that are >= ``DOUBT_SHARE`` of its first hour) and is spreading (>= ``min_posts``
posts in its first hour), or when one claim post of the key (its own score >= ``threshold``) has ``min_reposts``
reposts; never for a cascade whose first post is a 诉求 (complaint or request: ``complaint_score`` >=
``appeal_threshold``), and only while the key still has posts within the last ``timeframe`` (so a rumour that
stopped spreading resolves). A cascade that did not spread in its first hour is forgotten after it; the others with
their key, after ``2 x timeframe`` without posts. The alert's severity comes from :mod:`opinion_desk.detection.severity`
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

from ...models import QUOTED_ORIGINAL, Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from ..severity import EventFigures, describe, severity
from .base import Window, WindowRule, bucket_for, key_label, positive, ts


MAX_EVENTS_PER_KEY = 20
MAX_CASCADES_PER_KEY = 50  # a key's cascades kept at once (the strongest first)


@lru_cache(maxsize=1)
def _doubt_lexicon() -> AppealLexicon:
    return AppealLexicon()


def is_repost_or_reply(post: Post) -> bool:
    """Whether a post spreads another (what a cascade's first hour counts): a repost or a reply, as the platform
    says (Weibo's ``retweeted_status`` as ``repost_of``, ``reply_to``). Other posts of the same key (content that
    merely looks alike: everyday posts grouped under one topic, their own ``//@`` chains) are not its spread."""
    return bool(post.repost_of or post.reply_to)


def cascade_of(post: Post) -> str:
    """The cascade a post belongs to: the platform id of the original it reposts or answers (``repost_of``, else
    ``reply_to``), else its own (``mid``, else the desk's id)."""
    return post.repost_of or post.reply_to or post.mid or post.id


@dataclass
class Cascade:
    """One cascade of a key: its first post and its first hour (``timeframe`` after it), as
    :func:`analyzers.rumour.cascade_assessment` reads an event: saved as a list (``astuple``)."""

    t0: float  # the first post's time (epoch seconds)
    score: float  # its rumour score
    appeal: bool  # it is a 诉求
    first_id: str
    n: int = 0  # reposts and replies of the cascade within timeframe after its first post
    doubts: int = 0  # doubt replies among them
    reasons: list[str] = field(default_factory=list)  # the first post's own rumour reasons (cues)
    own: bool = True  # the first post is the original (else the earliest repost seen, standing in for it)


class RumourRule(WindowRule):
    name = "rumour"
    summary = "疑似谣言扩散：首帖是未经证实的说法、首小时内扩散且尚无官方回应"
    MATCH_FIELDS = ("max_reposts", "figures", "reasons", "first_score", "first_hour", "doubts")  # for alert_text
    OPTIONS = {
        "threshold": positive(maximum=1, description="rumour score (0..1) from which a cascade's first post is a claim"),
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
        self.cascades: dict[str, dict[str, Cascade]] = {}  # key -> cascade (cascade_of) -> its first post, first hour
        self.answered: dict[str, float] = {}  # key -> time of the official answer
        self.max_reposts: dict[str, tuple[int, str]] = {}  # key -> (most reposts of one claim post, its id)
        self.events: dict[str, list[str]] = {}  # key -> events of its posts (newest last)
        self.answered_events: dict[str, float] = {}  # event -> time of its official answer

    def official(self, post: Post) -> bool:
        return (post.author_type in self.o["official_author_types"]) or (post.source in self.o["official_sources"])

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        if self.official(post):
            return self.answer(post, keys, now)
        complaint = getattr(post, "complaint_score", 0.0)
        claim_post = counts_as_rumour(post.rumour_score, complaint, self.o["threshold"], self.o["appeal_threshold"])
        appeal = is_appeal(complaint, self.o["appeal_threshold"])
        spread = is_repost_or_reply(post)
        ev = str(getattr(post, "event_id", "") or "")
        if not (claim_post or appeal or spread):
            return []  # an everyday post starts no cascade and counts in none: it would only grow the saved state
        doubt = spread and _doubt_lexicon().is_doubt(post.text or "")  # once per post, whatever its keys
        for k in keys:
            if ev in self.answered_events:  # an answered event under a new key (a topic label that changed)
                self.answered[k] = max(self.answered_events[ev], self.answered.get(k, 0.0))
            self.window.add(k, post.created_at, post.id)
            self._follow(self.cascades.setdefault(k, {}), post, appeal, doubt)
            if ev:
                evs = [e for e in self.events.get(k, []) if e != ev]
                self.events[k] = (evs + [ev])[-MAX_EVENTS_PER_KEY:]
            if claim_post and post.reposts > self.max_reposts.get(k, (0, ""))[0]:
                self.max_reposts[k] = (post.reposts, post.id)
        return []

    def _follow(self, cascades: dict[str, Cascade], post: Post, appeal: bool, doubt: bool) -> None:
        """Count ``post`` in its cascade of one key: it starts the cascade (its original, or the earliest repost of
        an original not kept), takes the first place (the original, or an earlier repost, arriving late), or is
        one of the reposts and replies of the cascade's first hour (``doubt``: a doubt reply)."""
        ref, t, tf = cascade_of(post), ts(post.created_at), self.spec.timeframe.total_seconds()
        own = not is_repost_or_reply(post)  # the original itself
        c = cascades.get(ref)
        if c is not None and (c.own or not (own or t < c.t0)):
            if not own and t - c.t0 <= tf:
                c.n += 1
                c.doubts += doubt
            return
        judged = own or QUOTED_ORIGINAL in (post.text or "")  # a stand-in's words are the original's when quoted
        new = Cascade(t, float(post.rumour_score or 0.0) if judged else 0.0, appeal and judged, post.id, own=own,
                      reasons=list(getattr(post, "rumour_reasons", []) or [])[:4] if judged else [])
        if not own:  # a stand-in is itself one of the unseen original's reposts and replies
            new.n, new.doubts = 1, int(doubt)
        if c is not None and c.t0 - t <= tf:  # the former stand-in's first hour is the original's (give or take)
            new.n, new.doubts = new.n + c.n, new.doubts + c.doubts
        cascades[ref] = new
        if len(cascades) > MAX_CASCADES_PER_KEY:
            del cascades[min(cascades, key=lambda r: (cascades[r].n, cascades[r].score, cascades[r].t0))]

    def tracked_keys(self) -> list[str]:
        """The keys that may fire (spreading, or a claim post with reposts): the others need no check each tick."""
        return [k for k, cs in self.cascades.items()
                if any(c.n >= self.o["min_posts"] for c in cs.values())
                or self.max_reposts.get(k, (0, ""))[0] >= self.o["min_reposts"]]

    def spreading_claim(self, key: str) -> Cascade | None:
        """The key's strongest cascade that is a claim spreading in its first hour (never one a 诉求 started)."""
        live = [c for c in self.cascades.get(key, {}).values()
                if is_claim(c.score, c.doubts, c.n, self.o["threshold"], c.appeal)
                and is_spreading(c.n, self.o["min_posts"])]
        return max(live, key=lambda c: (cascade_strength(c.score, c.doubts, c.n), -c.t0), default=None)

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
        recent = int(self.window.total(key, now - tf, now))
        if recent == 0:
            return None  # no longer spreading: the alert resolves
        reposts, pid = self.max_reposts.get(key, (0, ""))
        c = spreading = self.spreading_claim(key)
        if c is None:
            if reposts < self.o["min_reposts"]:
                return None
            c = next((c for c in self.cascades.get(key, {}).values() if c.first_id == pid), None)  # the claim post
        ids = self.window.recent_ids(key, now - tf)
        for must in (pid, c.first_id if c else ""):
            if must and must not in ids:
                ids.insert(0, must)
        hours = max(tf.total_seconds() / 3600, 1 / 60)
        fig = EventFigures(size=max(recent, reposts), per_hour=max(recent, reposts) / hours,
                           sensitivity=cascade_strength(c.score, c.doubts, c.n) if c else self.o["threshold"])
        if spreading is None:  # one claim post's repost count as the platform gives it; the desk saw no cascade
            why = ([f"首帖谣言分 {c.score:.2f}"] if c else []) + [f"单帖转发 {reposts} 次（平台计数）"]
        else:
            why = cascade_reasons(c.score, c.n, c.doubts)
        reasons = why + [r for r in (c.reasons if c else []) if not r.startswith("文本谣言分")][:3]
        first = {"first_score": round(c.score, 4), "first_hour": c.n, "doubts": c.doubts} if c else {}
        most = f"，最高转发 {reposts}" if reposts and spreading is not None else ""
        reason = (f"{key_label(key)}疑似谣言扩散：{'，'.join(why)}，近{format_duration(tf)} {recent} 条{most}，"
                  f"尚无官方回应")
        return self.match(key, now, reason, ids, recent, max_reposts=reposts,
                          severity=severity(self.spec.severity, fig), figures=describe(fig),
                          reasons=reasons, **first)

    def prune(self, now: datetime) -> bool:
        changed = super().prune(now)
        live = set(self.window.keys())
        before = self._sizes()
        self.max_reposts = {k: v for k, v in self.max_reposts.items() if k in live}
        done = ts(now) - self.spec.timeframe.total_seconds()  # first hour over and not spreading: never fires
        self.cascades = {k: {r: c for r, c in cs.items() if c.t0 >= done or is_spreading(c.n, self.o["min_posts"])
                             or c.first_id == self.max_reposts.get(k, (0, ""))[1]}
                         for k, cs in self.cascades.items() if k in live}
        self.events = {k: v for k, v in self.events.items() if k in live}
        quiet = ts(now) - self.spec.timeframe.total_seconds() * 4
        self.answered = {k: v for k, v in self.answered.items() if v >= quiet}
        self.answered_events = {k: v for k, v in self.answered_events.items() if v >= quiet}
        return changed or self._sizes() != before

    def _sizes(self) -> tuple[int, int, int, int]:
        """What :meth:`prune` may shrink (it only drops entries, so equal sizes mean nothing changed)."""
        return len(self.max_reposts), sum(map(len, self.cascades.values())), len(self.cascades), len(self.answered)

    def state(self) -> dict[str, Any]:
        return {**super().state(), "answered": self.answered, "events": self.events,
                "answered_events": self.answered_events,
                "max_reposts": {k: list(v) for k, v in self.max_reposts.items()},
                "cascades": {k: {r: list(astuple(c)) for r, c in cs.items()} for k, cs in self.cascades.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        """Also older states: one saved when the rule kept one cascade per key (its earliest post; kept as that
        post's cascade, which later reposts of the original do not name, so they start their own), and one saved
        before the rule kept cascades (it counted only posts over the threshold: the next post starts a cascade)."""
        super().load_state(data)
        self.answered.update(data.get("answered", {}))
        self.events.update({str(k): [str(e) for e in v] for k, v in data.get("events", {}).items()})
        self.answered_events.update({str(k): float(v) for k, v in data.get("answered_events", {}).items()})
        self.max_reposts.update({k: (int(v[0]), str(v[1])) for k, v in data.get("max_reposts", {}).items()})
        for k, v in data.get("cascades", {}).items():
            saved = v.items() if isinstance(v, dict) else [(str(v[3]), v)]
            self.cascades[str(k)] = {str(r): _cascade(c) for r, c in saved}


def _cascade(v: list[Any]) -> Cascade:
    t0, score, appeal, first_id, n, doubts, reasons, *own = v
    return Cascade(float(t0), float(score), bool(appeal), str(first_id), int(n), int(doubts),
                   [str(r) for r in reasons], bool(own[0]) if own else True)
