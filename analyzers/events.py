"""Events (事件): posts grouped the way a duty officer thinks of them.

A post joins, in this order:

1. the event of the post it reposts or answers (``repost_of`` / ``reply_to``, the platform ids Weibo gives as
   ``retweeted_status`` and a comment's parent), or of an earlier post that referred to its own ``mid``
   (a repost collected before its original);
2. the event of the original quoted at the end of a Weibo ``//@name: ...`` chain (matched on the original's text);
3. the event of a post sharing the same link;
4. the event of its topic (:mod:`analyzers.topics`: near-duplicate SimHash, then keyword similarity), when the
   post has content of its own;
5. when its topic is new to the events: the recent event whose founding post's keywords it names most, if it names
   at least ``ANCHOR_MIN`` of them and ``ANCHOR_SHARE`` of them (its own words, not only its keywords). An official
   情况通报 is written in other words than the rumour it answers ("关于城南小学部分学生身体不适的情况通报：……
   食堂已暂停供餐" against "听说城南小学食堂有学生吃坏肚子"): its top keywords are its formal words, so the topic
   similarity misses it, but it names the place and the matter the rumour's keywords hold (城南、小学、食堂);
6. else it founds a new event.

An event id is ``e`` + 10 hex characters derived from the founding post (or from the original's ``mid`` when a
repost arrives first, so the original joins the same id later): stable across restarts when :meth:`state` is kept.
Each event keeps its label, its first post, its size and its size per hour (the last ``max_hours`` hours).
Stateful: apply in one place, in post order. Memory is bounded (``max_events`` events, ``max_keys`` references).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any, Sequence

CHAIN_RE = re.compile(r"//\s*@[^:：\s]{1,30}\s*[:：]")
_SPACE_RE = re.compile(r"[\s\u3000]+")


def new_event_id(key: str) -> str:
    return "e" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def text_key(text: str) -> str:
    """A short key of a post's own words (spaces dropped), for matching the original of a ``//@`` chain."""
    t = _SPACE_RE.sub("", text or "")
    return hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest()[:16] if len(t) >= 6 else ""


def refs_of(post: Any) -> tuple[str, str, str, str, str]:
    """(mid, repost_of, reply_to, own-text key, quoted-original key) of one input post mapping."""
    if not isinstance(post, dict):
        return "", "", "", "", ""
    text = post.get("text") or ""
    if not isinstance(text, str):
        text = ""
    parts = CHAIN_RE.split(text)
    own = parts[0]
    quoted = text_key(parts[-1]) if len(parts) > 1 else ""
    return (str(post.get("mid") or ""), str(post.get("repost_of") or ""), str(post.get("reply_to") or ""),
            text_key(own), quoted)


# Memory caps (bench/import_memory.py): a reference key costs ~170 bytes (its text and its ordered-dict entry), an
# event ~500 (label, first post, its hourly sizes); at these caps about 25 + 15 MB. The least recently set key and
# the least recently grown event go first (a key is renewed each time a post sets it).
MAX_EVENTS = 30_000
MAX_KEYS = 150_000
# Step 5: a founding post's keywords anchor its event; a term points at its ANCHOR_POSTINGS most recently founded
# events (a common word reaches only the latest few), at most MAX_ANCHORS events are anchored (~300 bytes each).
ANCHOR_MIN = 3
ANCHOR_SHARE = 0.6
ANCHOR_POSTINGS = 8
MAX_ANCHORS = 20_000


class EventGrouper:
    def __init__(self, max_events: int = MAX_EVENTS, max_keys: int = MAX_KEYS, max_hours: int = 72) -> None:
        self.max_events = max_events
        self.max_keys = max_keys
        self.max_hours = max_hours
        # eid -> [label, first post id, size, last seq, {hour: count}]
        self.events: OrderedDict[str, list[Any]] = OrderedDict()
        self.keys: OrderedDict[str, str] = OrderedDict()  # "m:<mid>", "t:<text key>", "u:<url>", "c:<topic>" -> eid
        self.anchors: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # eid -> its founding post's keywords
        self.by_term: dict[str, OrderedDict[str, None]] = {}  # anchor term -> eids, least recently founded first
        self.seq = 0

    def __len__(self) -> int:
        return len(self.events)

    def _get(self, key: str) -> str | None:
        eid = self.keys.get(key)
        if eid is not None and eid in self.events:
            return eid
        return None

    def _put(self, key: str, eid: str) -> None:
        self.keys[key] = eid
        self.keys.move_to_end(key)
        if len(self.keys) > self.max_keys:
            for _ in range(len(self.keys) - self.max_keys):
                self.keys.popitem(last=False)

    def _anchor(self, eid: str, keywords: Sequence[str]) -> None:
        terms = tuple(dict.fromkeys(t for t in keywords if t))
        if not terms:
            return
        self.anchors[eid] = terms
        for t in terms:
            posting = self.by_term.setdefault(t, OrderedDict())
            posting[eid] = None
            if len(posting) > ANCHOR_POSTINGS:
                posting.popitem(last=False)
        if len(self.anchors) > MAX_ANCHORS:
            old, terms = self.anchors.popitem(last=False)
            for t in terms:
                posting = self.by_term.get(t)
                if posting is not None:
                    posting.pop(old, None)
                    if not posting:
                        del self.by_term[t]

    def _named_event(self, words: Sequence[str]) -> str | None:
        """Step 5: the recent event whose anchor terms ``words`` name most (at least ANCHOR_MIN, ANCHOR_SHARE)."""
        own = set(words)
        hits: dict[str, int] = {}
        for t in own:
            for eid in self.by_term.get(t, ()):
                hits[eid] = hits.get(eid, 0) + 1
        best, best_n = None, 0
        for eid, n in hits.items():
            terms = self.anchors.get(eid)
            if (terms and eid in self.events and n >= ANCHOR_MIN and n >= ANCHOR_SHARE * len(terms)
                    and (n > best_n or n == best_n and self.events[eid][3] > self.events[best][3])):
                best, best_n = eid, n
        return best

    def assign(self, post_id: str, refs: Sequence[str], links: Sequence[str], topic_id: str, label: str,
               hour: int = 0, words: Sequence[str] = (), keywords: Sequence[str] = ()) -> tuple[str, str]:
        """(event_id, event_label) of one post. ``refs`` is :func:`refs_of`'s tuple; ``hour`` the post's hour
        (epoch seconds // 3600) for the size-over-time series; ``words`` its tokens and ``keywords`` its top
        keywords (step 5: a founding post's keywords anchor its event, a later post's words may name them)."""
        mid, repost_of, reply_to, own_key, quoted = (tuple(refs) + ("",) * 5)[:5]
        self.seq += 1
        eid = None
        for k in (f"m:{mid}" if mid else "", f"m:{repost_of}" if repost_of else "",
                  f"m:{reply_to}" if reply_to else "", f"t:{quoted}" if quoted else ""):
            if k and (eid := self._get(k)):
                break
        if eid is None:
            for u in links:
                if eid := self._get(f"u:{u}"):
                    break
        referring = bool(repost_of or reply_to or quoted)
        if eid is None and topic_id and not referring:
            eid = self._get(f"c:{topic_id}")
            if eid is None and words:
                eid = self._named_event(words)
        if eid is None:
            founder = repost_of or reply_to or post_id  # a repost seen first founds its original's event
            eid, k = new_event_id(founder), 0
            while eid in self.events:
                k += 1
                eid = new_event_id(f"{founder}:{k}")
            self.events[eid] = ["", repost_of or reply_to or post_id, 0, 0, {}]
            if not referring:
                self._anchor(eid, keywords)
        ev = self.events[eid]
        self.events.move_to_end(eid)
        ev[2] += 1
        ev[3] = self.seq
        series = ev[4]
        series[hour] = series.get(hour, 0) + 1
        if len(series) > self.max_hours:
            for h in sorted(series)[: len(series) - self.max_hours]:
                del series[h]
        if label and (not ev[0] or not referring and ev[1] == post_id):
            ev[0] = label
        for k in (f"m:{mid}" if mid else "", f"m:{repost_of}" if repost_of else "",
                  f"m:{reply_to}" if reply_to else "", f"t:{own_key}" if own_key and not referring else "",
                  f"t:{quoted}" if quoted else "", *(f"u:{u}" for u in links)):
            if k:
                self._put(k, eid)
        if topic_id and not referring and self._get(f"c:{topic_id}") is None:
            self._put(f"c:{topic_id}", eid)
        if len(self.events) > self.max_events * 1.1:
            while len(self.events) > self.max_events:
                self.events.popitem(last=False)  # least recently grown
        return eid, ev[0]

    def info(self, eid: str) -> dict[str, Any] | None:
        """An event's label, first post, size and size per hour (epoch hour -> posts), or None."""
        ev = self.events.get(eid)
        if ev is None:
            return None
        return {"event_id": eid, "label": ev[0], "first_post": ev[1], "size": ev[2],
                "by_hour": dict(sorted(ev[4].items()))}

    # -- state -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"seq": self.seq,
                "events": [[eid, ev[0], ev[1], ev[2], ev[3], [[h, c] for h, c in ev[4].items()]]
                           for eid, ev in self.events.items()],
                "keys": list(self.keys.items()),
                "anchors": [[eid, list(terms)] for eid, terms in self.anchors.items()]}

    def load_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise TypeError("the event state must be a dict")
        events: OrderedDict[str, list[Any]] = OrderedDict()
        for eid, label, first, size, last, series in state.get("events", []):
            events[str(eid)] = [str(label), str(first), int(size), int(last), {int(h): int(c) for h, c in series}]
        keys = OrderedDict((str(k), str(v)) for k, v in state.get("keys", []))
        anchors = [(str(eid), [str(t) for t in terms]) for eid, terms in state.get("anchors", [])]
        self.events, self.keys, self.seq = events, keys, int(state.get("seq", 0))
        self.anchors, self.by_term = OrderedDict(), {}
        for eid, terms in anchors:  # a state saved before anchors existed has none: content joins by topic only
            self._anchor(eid, terms)
