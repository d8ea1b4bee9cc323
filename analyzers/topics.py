"""Incremental single-pass clustering of posts into topics (话题/事件) with stable ids and keyword labels.

A post joins the topic of a recent near-duplicate (SimHash within ``dup_bits`` bits), else the topic whose keyword
centroid is most similar (cosine >= ``threshold``), else it founds a new topic whose id is derived from the
founding post id (``t`` + 10 hex chars), so ids are stable across restarts when :meth:`state` is persisted.
Stateful: apply it in one place (the parent process), in post order.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from operator import itemgetter
from typing import Any, Sequence

_VALUE = itemgetter(1)
_BAND_SHIFTS = (0, 16, 32, 48)  # four 16-bit bands: any two hashes within 3 bits share at least one band


class Topic:
    __slots__ = ("tid", "terms", "n", "last", "label", "norm")

    def __init__(self, tid: str, terms: dict[str, float] | None = None, n: int = 0, last: int = 0,
                 label: str = "") -> None:
        self.tid = tid
        self.terms: dict[str, float] = dict(terms or {})
        self.n = n
        self.last = last
        self.label = label
        self.norm = math.hypot(*self.terms.values()) or 1.0


class TopicClusterer:
    def __init__(self, threshold: float = 0.35, dup_bits: int = 3, max_topics: int = 20_000,
                 max_terms: int = 30, label_terms: int = 3, recent_hashes: int = 50_000, postings: int = 8) -> None:
        self.threshold = threshold
        self.dup_bits = dup_bits
        self.max_topics = max_topics
        self.max_terms = max_terms
        self.label_terms = label_terms
        self.recent_hashes = recent_hashes
        self.topics: dict[str, Topic] = {}
        self.postings = postings
        self.inv: dict[str, dict[str, dict[str, float]]] = {}  # term -> {topic id: its terms}, least recent first
        self.bands: list[dict[int, list[tuple[int, str]]]] = [{} for _ in _BAND_SHIFTS]
        self.hash_log: list[tuple[int, str]] = []
        self.seq = 0

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
        self.seq += 1
        tid = self._near_dup(simhash) if simhash else None
        vec = {t: w for t, w in keywords if w > 0}
        norm = math.hypot(*vec.values()) or 1.0
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
            tid = self._new_id(post_id)
            self.topics[tid] = Topic(tid)
        topic = self.topics[tid]
        self._update(topic, vec, norm)
        if simhash:
            self._remember_hash(simhash, tid)
        if len(self.topics) > self.max_topics * 1.1:
            self._evict()
        return tid, topic.label

    def _new_id(self, post_id: str) -> str:
        base = hashlib.sha1(str(post_id).encode("utf-8", "surrogatepass")).hexdigest()
        tid, k = "t" + base[:10], 0
        while tid in self.topics:
            k += 1
            tid = "t" + hashlib.sha1(f"{post_id}:{k}".encode("utf-8", "surrogatepass")).hexdigest()[:10]
        return tid

    def _update(self, topic: Topic, vec: dict[str, float], norm: float) -> None:
        topic.n += 1
        topic.last = self.seq
        if not vec:
            return
        terms = topic.terms
        inv, cap, tid = self.inv, self.postings, topic.tid
        for t, w in vec.items():
            post = inv.get(t)
            if post is None:
                post = inv[t] = {tid: terms}
            else:
                post.pop(tid, None)
                post[tid] = terms  # most recent last
                if len(post) > cap:
                    del post[next(iter(post))]  # the least recent topic is no longer found through this term
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
            ranked = ranked[: self.max_terms]
        topic.norm = math.hypot(*terms.values()) or 1.0
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
                "topics": [[t.tid, t.terms, t.n, t.last, t.label] for t in self.topics.values()],
                "hashes": [[f"{h:016x}", tid] for h, tid in self.hash_log[-self.recent_hashes:]]}

    def load_state(self, state: dict[str, Any]) -> None:
        self.__init__(self.threshold, self.dup_bits, self.max_topics, self.max_terms, self.label_terms,
                      self.recent_hashes, self.postings)
        self.seq = int(state.get("seq", 0))
        for tid, terms, n, last, label in state.get("topics", []):
            top = self.topics[tid] = Topic(tid, terms, n, last, label)
            for t in top.terms:
                self.inv.setdefault(t, {})[tid] = top.terms
        for hx, tid in state.get("hashes", []):
            self._remember_hash(int(hx, 16), tid)

    def label(self, tid: str) -> str:
        t = self.topics.get(tid)
        return t.label if t else ""
