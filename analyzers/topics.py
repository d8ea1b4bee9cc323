"""Incremental single-pass clustering of posts into topics (话题/事件) with stable ids and keyword labels.

A post joins the topic of a recent near-duplicate (SimHash within ``dup_bits`` bits), else the topic whose keyword
centroid is most similar (cosine >= ``threshold``), else it founds a new topic whose id is derived from the
founding post id (``t`` + 10 hex chars), so ids are stable across restarts when :meth:`state` is persisted.
Stateful: apply it in one place (the parent process), in post order.

Two implementations with one contract: :class:`PyTopicClusterer` here, the reference, and the compiled
``analyzers._topics.Core`` (``_topics.c``), which follows it step by step (same candidate order, same tie-breaking,
same floating-point operations in the same order) and so returns the same ids, labels and state; a test holds them
equal on real posts. :data:`TopicClusterer` is the compiled one when the extension was built, else the reference.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import operator
from operator import itemgetter
from typing import Any, Sequence

_VALUE = itemgetter(1)
_BAND_SHIFTS = (0, 16, 32, 48)  # four 16-bit bands: any two hashes within 3 bits share at least one band


def new_topic_id(post_id: Any, k: int = 0) -> str:
    """The id of a topic founded by ``post_id``; ``k`` > 0 for the k-th retry after a collision with a live id."""
    key = str(post_id) if k == 0 else f"{post_id}:{k}"
    return "t" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _norm(weights: Any) -> float:
    s = 0.0
    for w in weights:  # summed in order, as the compiled version does (not math.hypot, not 3.12's compensated sum)
        s += w * w
    return math.sqrt(s) if s > 0 else 1.0


def _i64(v: Any) -> int:
    """A whole number of the state, as the compiled version reads it (``__index__``, within 64 bits)."""
    n = operator.index(v)
    if not -(2**63) <= n < 2**63:
        raise OverflowError(f"{n} does not fit in 64 bits")
    return n


class Topic:
    __slots__ = ("tid", "terms", "n", "last", "label", "norm")

    def __init__(self, tid: str, terms: dict[str, float] | None = None, n: int = 0, last: int = 0,
                 label: str = "") -> None:
        self.tid = tid
        self.terms: dict[str, float] = dict(terms or {})
        self.n = n
        self.last = last
        self.label = label
        self.norm = _norm(self.terms.values())


class PyTopicClusterer:
    """The reference implementation (pure Python)."""

    def __init__(self, threshold: float = 0.35, dup_bits: int = 3, max_topics: int = 20_000,
                 max_terms: int = 30, label_terms: int = 3, recent_hashes: int = 50_000, postings: int = 8) -> None:
        self.threshold = threshold
        self.dup_bits = dup_bits
        self.max_topics = max_topics
        self.max_terms = max_terms
        self.label_terms = label_terms
        self.recent_hashes = recent_hashes
        self.postings = postings
        self.topics: dict[str, Topic] = {}
        self.inv: dict[str, dict[str, dict[str, float]]] = {}  # term -> {topic id: its terms}, least recent first
        self.bands: list[dict[int, list[tuple[int, str]]]] = [{} for _ in _BAND_SHIFTS]
        self.hash_log: list[tuple[int, str]] = []
        self.seq = 0

    def __len__(self) -> int:
        return len(self.topics)

    # -- assignment --------------------------------------------------------------------------------------
    def _near_dup(self, h: int) -> str | None:
        for b, shift in zip(self.bands, _BAND_SHIFTS):
            for other, tid in b.get((h >> shift) & 0xFFFF, ()):
                if (other ^ h).bit_count() <= self.dup_bits and tid in self.topics:
                    return tid
        return None

    def _remember_hash(self, h: int, tid: str) -> None:
        for b, shift in zip(self.bands, _BAND_SHIFTS):
            b.setdefault((h >> shift) & 0xFFFF, []).append((h, tid))
        self.hash_log.append((h, tid))
        if len(self.hash_log) > self.recent_hashes * 1.2:
            keep = self.hash_log[-self.recent_hashes:]
            self.hash_log = []
            self.bands = [{} for _ in _BAND_SHIFTS]
            for hh, tt in keep:
                self._remember_hash(hh, tt)

    def assign(self, post_id: str, simhash: int, keywords: Sequence[tuple[str, float]]) -> tuple[str, str]:
        """(topic_id, topic_label) for one post; ``("", "")`` for a post with no keywords and no near-duplicate."""
        vec = {}
        for i, (t, w) in enumerate(keywords):
            if not math.isfinite(w):  # NaN or inf would poison the topic's weights and norm (both versions refuse)
                raise ValueError(f"keyword {i}: weight {w!r} is not a finite number")
            if w > 0:
                vec[t] = w
        self.seq += 1
        tid = self._near_dup(simhash) if simhash else None
        norm = _norm(vec.values())
        if tid is None and vec:
            # cosine via the inverted index: each term remembers the topics that most recently used it
            acc: dict[str, float] = {}
            get = acc.get
            inv, topics = self.inv, self.topics
            for t, w in vec.items():
                post = inv.get(t)
                if post:
                    for c, terms in post.items():
                        acc[c] = get(c, 0.0) + w * terms[t]
            best, best_sim = None, self.threshold
            for c, dot in acc.items():
                sim = dot / (norm * topics[c].norm)
                if sim >= best_sim:
                    best, best_sim = c, sim
            tid = best
        if tid is None:
            if not vec:
                return "", ""
            tid, k = new_topic_id(post_id), 0
            while tid in self.topics:
                k += 1
                tid = new_topic_id(post_id, k)
            self.topics[tid] = Topic(tid)
        topic = self.topics[tid]
        self._update(topic, vec, norm)
        if simhash:
            self._remember_hash(simhash, tid)
        if len(self.topics) > self.max_topics * 1.1:
            self._evict()
        return tid, topic.label

    def _post(self, t: str, tid: str, terms: dict[str, float]) -> None:
        """Make ``tid`` the most recent topic found through term ``t``; the least recent beyond the cap is dropped."""
        post = self.inv.get(t)
        if post is None:
            self.inv[t] = {tid: terms}
            return
        post.pop(tid, None)
        post[tid] = terms
        if len(post) > self.postings:
            del post[next(iter(post))]

    def _update(self, topic: Topic, vec: dict[str, float], norm: float) -> None:
        topic.n += 1
        topic.last = self.seq
        if not vec:
            return
        terms, tid, inv = topic.terms, topic.tid, self.inv
        for t, w in vec.items():
            self._post(t, tid, terms)
            terms[t] = terms.get(t, 0.0) + w / norm
        ranked = sorted(terms.items(), key=_VALUE, reverse=True)  # stable: ties keep insertion order
        if len(ranked) > self.max_terms:
            for t, _ in ranked[self.max_terms:]:
                del terms[t]
                s = inv.get(t)
                if s is not None:
                    s.pop(tid, None)
                    if not s:
                        del inv[t]
        topic.norm = _norm(terms.values())
        topic.label = "/".join([t for t, _ in ranked[: self.label_terms]])

    def _evict(self) -> None:
        """Drop the least recently updated topics down to ``max_topics``."""
        old = heapq.nsmallest(len(self.topics) - self.max_topics, self.topics.values(), key=lambda t: t.last)
        for top in old:
            for t in top.terms:
                s = self.inv.get(t)
                if s is not None:
                    s.pop(top.tid, None)
                    if not s:
                        del self.inv[t]
            del self.topics[top.tid]

    # -- state -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"seq": self.seq,
                "topics": [[t.tid, dict(t.terms), t.n, t.last, t.label] for t in self.topics.values()],
                "hashes": [[f"{h:016x}", tid] for h, tid in self.hash_log[-self.recent_hashes:]]}

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace this clusterer's state with a :meth:`state`; each term's topics are indexed least recent first."""
        if not isinstance(state, dict):  # refused before anything changes, as the compiled version does
            raise TypeError("the state must be a dict")
        self.__init__(self.threshold, self.dup_bits, self.max_topics, self.max_terms, self.label_terms,
                      self.recent_hashes, self.postings)
        try:
            self._load(state)
        except Exception:
            self.__init__(self.threshold, self.dup_bits, self.max_topics, self.max_terms, self.label_terms,
                          self.recent_hashes, self.postings)  # never half a state
            raise

    def _load(self, state: dict[str, Any]) -> None:
        self.seq = _i64(state.get("seq", 0))
        for tid, terms, n, last, label in state.get("topics", []):
            if tid in self.topics:
                raise ValueError(f"topic {tid!r} appears twice in the state")
            weights = {str(t): float(w) for t, w in terms.items()}
            if not all(math.isfinite(w) for w in weights.values()):
                raise ValueError(f"topic {tid!r}: a weight is not a finite number")
            self.topics[tid] = Topic(tid, weights, _i64(n), _i64(last), label)
        for top in sorted(self.topics.values(), key=lambda t: t.last):
            for t in top.terms:
                self._post(t, top.tid, top.terms)
        for hx, tid in state.get("hashes", []):
            h = int(hx, 16)
            if not 0 <= h < 2**64:
                raise OverflowError(f"hash {hx!r} does not fit in 64 bits")
            self._remember_hash(h, tid)

    def label(self, tid: str) -> str:
        t = self.topics.get(tid)
        return t.label if t else ""


try:
    from ._topics import Core as _Core
except ImportError:  # the extension was not built (no C compiler): the reference is used, a little slower
    TopicClusterer: type = PyTopicClusterer
    COMPILED = False
else:
    class CTopicClusterer(_Core):  # type: ignore[misc, valid-type]
        """The compiled implementation (``_topics.c``) behind the reference's interface."""

        def __init__(self, threshold: float = 0.35, dup_bits: int = 3, max_topics: int = 20_000,
                     max_terms: int = 30, label_terms: int = 3, recent_hashes: int = 50_000,
                     postings: int = 8) -> None:
            super().__init__(threshold, dup_bits, max_topics, max_terms, label_terms, recent_hashes, postings,
                             new_topic_id)

    TopicClusterer = CTopicClusterer
    COMPILED = True
