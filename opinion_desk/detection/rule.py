"""A loaded rule: its common fields (:class:`RuleSpec`), its post filter (:class:`PostFilter`), how a post maps
to the values of its ``query_key``, and what a rule type reports (:class:`Match`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..models import Post
from .regex import compile_rule_regex

SEVERITIES = {"low": "一般", "medium": "较大", "high": "重大", "critical": "特别重大"}
QUERY_KEYS = ("none", "topic", "keyword", "region", "source", "author", "platform", "hashtag", "simhash",
              "author_id", "author_type", "sentiment", "event_id", "mid", "repost_of", "topic_id", "mention", "title",
              "keywords")
MAX_QUERY_KEYS = 4  # fields in a compound query_key
KEY_SEP = " / "  # between the values of a compound key ("青山县 / weibo")


class PostFilter:
    """Which posts a rule looks at. Every given condition must hold; list conditions mean "any of".

    ``keywords`` match jieba-aware (see :meth:`has_word`): on the post's tokens, so a substring that straddles
    two words does not fire; when a post carries no tokens the text is searched as a substring.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.keywords: list[str] = list(spec.get("keywords") or [])
        self.all_keywords: list[str] = list(spec.get("all_keywords") or [])
        self.exclude: list[str] = list(spec.get("exclude") or [])
        self.regex = [compile_rule_regex(r)[0] for r in (spec.get("regex") or [])]  # RE2: linear time
        self.sources = set(spec.get("sources") or [])
        self.platforms = set(spec.get("platforms") or [])
        self.topics = set(spec.get("topics") or [])
        self.regions = set(spec.get("regions") or [])
        self.author_types = set(spec.get("author_types") or [])
        self.sentiment = set(spec.get("sentiment") or [])
        self.min_rumour = spec.get("min_rumour_score")

    def has_word(self, post: Post, kw: str) -> bool:
        """A watch word matches a token that contains it (发生爆炸 carries 爆炸) or a run of consecutive tokens
        that spells it exactly (食物/中毒); an occurrence that cuts through a token's edge (人群|体检 for 群体)
        does not match."""
        toks = post.tokens or []
        if not toks:
            return kw in post.text or kw in post.title
        if kw in post.keywords or kw in post.hashtags:
            return True
        n, L = len(toks), len(kw)
        for i in range(n):
            t = toks[i]
            if kw in t:
                return True
            if not kw.startswith(t):
                continue
            s = t
            for j in range(i + 1, min(n, i + 8)):
                s += toks[j]
                if len(s) >= L:
                    if s == kw:
                        return True
                    break
        return False

    def matched_words(self, post: Post, words: list[str] | None = None) -> list[str]:
        return [w for w in (self.keywords if words is None else words) if self.has_word(post, w)]

    def matches(self, post: Post) -> bool:
        if self.sources and post.source not in self.sources:
            return False
        if self.platforms and post.platform not in self.platforms:
            return False
        if self.topics and post.topic_id not in self.topics and post.topic_label not in self.topics:
            return False
        if self.regions and post.region not in self.regions:
            return False
        if self.author_types and post.author_type not in self.author_types:
            return False
        if self.sentiment and post.sentiment_label not in self.sentiment:
            return False
        if self.min_rumour is not None and (post.rumour_score is None or post.rumour_score < self.min_rumour):
            return False
        if self.keywords and not self.matched_words(post):
            return False
        if self.all_keywords and len(self.matched_words(post, self.all_keywords)) < len(self.all_keywords):
            return False
        if self.exclude and self.matched_words(post, self.exclude):
            return False
        if self.regex:
            body = f"{post.title}\n{post.text}"
            try:
                hit = any(r.search(body) for r in self.regex)
            except UnicodeEncodeError:  # RE2 reads UTF-8: a lone surrogate is matched as "?"
                body = body.encode("utf-8", "replace").decode("utf-8")
                hit = any(r.search(body) for r in self.regex)
            if not hit:
                return False
        return True


@dataclass
class RuleSpec:
    """The fields every rule has; ``options`` holds the type's own fields."""

    name: str
    type: str
    file: str
    timeframe: timedelta
    severity: str = "medium"
    channels: list[str] = field(default_factory=lambda: ["dashboard"])
    query_key: str | list[str] = "none"  # a field, or a list of fields (a compound key)
    realert: timedelta = timedelta(minutes=30)
    exponential_realert: timedelta | None = None  # realert doubles while firing, up to this (ElastAlert)
    aggregation: timedelta | None = None
    resolve_after: timedelta = timedelta(minutes=30)
    description: str = ""
    duty: dict[str, Any] = field(default_factory=dict)  # check, owner, phone: free text for the duty officer
    enabled: bool = True
    filter: PostFilter = field(default_factory=lambda: PostFilter({}))
    options: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)  # alert_subject/alert_text (+ _args): detection/message.py
    raw: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # "field.path" -> line, for errors found later
    notes: list[str] = field(default_factory=list)  # warnings for `rules check` (e.g. RE2 dialect differences)

    def keys_of(self, post: Post) -> list[str]:
        """The ``query_key`` values of a post (a post may count under several keywords or hashtags). A list of
        fields is a compound key: one value per combination, joined by " / " ("青山县 / weibo")."""
        qk = self.query_key
        if isinstance(qk, (list, tuple)):
            combos = [""]
            for i, f in enumerate(qk):
                vals = self._field_keys(post, f)
                combos = [(c + KEY_SEP + v) if i else v for c in combos for v in vals][:50]
            return combos
        return self._field_keys(post, qk)

    def _field_keys(self, post: Post, qk: str) -> list[str]:
        if qk == "none":
            return [""]
        if qk == "keyword":
            words = self.filter.matched_words(post) if self.filter.keywords else list(post.keywords[:5])
            return words or [""]
        if qk == "hashtag":
            return list(post.hashtags) or [""]
        if qk == "keywords":  # the post's own top keywords (``keyword`` prefers the rule's watch words)
            return list(post.keywords[:5]) or [""]
        if qk == "mention":
            return list(post.mentions[:5]) or [""]
        if qk == "simhash":
            return [post.simhash or post.id]
        if qk == "event_id":  # set by event grouping when present; else the post is its own event
            return [str(getattr(post, "event_id", "") or post.simhash or post.id)]
        # topic: the label of the post's event (its founding post's topic label, set once), so a rumour's posts
        # stay on one key while its topic's label churns as it grows ("吃坏/紧急扩散/城南" -> "城南/小学/吃坏" split
        # the demo's 5 城南小学 posts over 3 keys, none reaching min_posts); a post without an event keeps its topic's,
        # and a post with neither is its own topic (its top words, else its id): never the empty key, under which
        # unrelated posts would be counted together (the eval's replay of rules/30-rumour.yaml: 10 of 22 false
        # rumour alerts on everyday posts were five unrelated posts under "")
        getters = {"topic": lambda: (post.event_label or post.topic_label or post.topic_id
                                     or "/".join(post.keywords[:3]) or post.id),
                   "author": lambda: post.author or post.author_id,
                   "sentiment": lambda: post.sentiment_label}
        value = getters[qk]() if qk in getters else getattr(post, qk, "")
        return [str(value or "")]


@dataclass
class Match:
    """What a rule type reports: the rule fired for ``key`` at ``time`` (event time), with the posts behind it.

    ``kind`` is ``"match"`` or ``"resolved"`` (the condition stayed below its threshold for the hold-down time).
    """

    rule: str
    key: str
    time: datetime
    reason: str
    post_ids: list[str] = field(default_factory=list)
    value: float | None = None
    kind: str = "match"
    details: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)  # sample_of() of the first posts (the engine)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "time": self.time.isoformat(), "kind": self.kind,
                "reason": self.reason, "value": self.value, "post_ids": list(self.post_ids),
                "details": dict(self.details)}


SAMPLE_FIELDS = ("source", "platform", "author", "title", "url", "sentiment_label", "rumour_score")


def sample_of(post: Post) -> dict[str, Any]:
    """What a message shows of a sample post, taken when the engine counted it (not read back from the store,
    which may not have made it searchable yet)."""
    d: dict[str, Any] = {k: getattr(post, k, None) for k in SAMPLE_FIELDS}
    d.update(id=post.id, text=(post.text or "")[:300], created_at=post.created_at.isoformat())
    ev = getattr(post, "event_id", None)
    if ev:
        d["event_id"] = ev
    return d
