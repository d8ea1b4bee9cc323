"""The :class:`Analyzer` facade: one batch call turns posts into :class:`Annotation` records.

Stateless work (segmentation, sentiment, rumour, SimHash, the record fields, each batch's term indices and the
TextRank of long texts) can run in worker processes and comes back as :class:`Partials`; stateful work (the IDF
update and keyword scoring, topic clustering) runs in the owning process, in post order
(:meth:`Analyzer.analyze_parallel`).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .dedupe import SimHasher
from .events import EventGrouper, refs_of
from .features import HashedModels, TokenHashes, featurize
from .keywords import KeywordExtractor, KeywordPrep
from .keywords import prepare as prepare_keywords
from .parallel import no_gc
from .rumour import AppealLexicon, RumourScorer, appeal_assessment
from .segmentation import Parsed, Segmenter
from .sentiment import SentimentScorer
from .topics import TopicClusterer

_chain = chain.from_iterable
MAX_CHARS = 50_000  # longer texts are analysed on their first MAX_CHARS characters
BATCH = 2048  # posts per vectorised pass


@dataclass
class Annotation:
    id: str
    tokens: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    sentiment: float = 0.5
    sentiment_label: str = "neutral"
    simhash: str = "0" * 16
    topic_id: str = ""
    topic_label: str = ""
    event_id: str = ""
    event_label: str = ""
    rumour_score: float = 0.0
    rumour_cues: list[str] = field(default_factory=list)
    rumour_reasons: list[str] = field(default_factory=list)  # why the score: cues, the 诉求/official class
    complaint_score: float = 0.0  # 诉求 (complaint / request) cues, 0..1; >= 0.5 reads as a 诉求, not a rumour
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Partials(list):
    """The stateless half of a batch (:meth:`Analyzer.analyze_stateless`): one dict of :class:`Annotation` fields
    per post, their SimHash values (``hashes``) and the keyword preparation (``prep``); pickles compactly."""

    hashes: list[int]
    prep: KeywordPrep
    refs: list[tuple[str, str, str, str, str]]  # events.refs_of per post
    hours: list[int]  # the post's epoch hour (``ts`` // 3600) when given, else 0

    @classmethod
    def of(cls, records: Iterable[dict[str, Any]]) -> "Partials":
        """From plain partial records (``simhash`` as int, ``text_len``), as older callers build them."""
        recs, hashes, lens = [], [], []
        for r in records:
            r = dict(r)
            h = r.pop("simhash", 0)
            lens.append(r.pop("text_len", 0))
            if isinstance(h, str):
                h = int(h, 16)
            hashes.append(h)
            recs.append({**Annotation(**r).to_dict(), "simhash": f"{h:016x}"})
        out = cls(recs)
        out.hashes = hashes
        out.prep = prepare_keywords([r["tokens"] for r in recs], lens)
        out.refs, out.hours = [("",) * 5] * len(recs), [0] * len(recs)
        return out


def _text_of(post: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(text to analyse, error) for one post mapping: title + text, validated."""
    if type(post) is not dict and not isinstance(post, Mapping):  # the ABC check is slow: plain dicts skip it
        return None, f"post is not a mapping but {type(post).__name__}"
    text = post.get("text", post.get("content"))
    title = post.get("title") or ""
    if text is None and not title:
        return None, "no text"
    if text is not None and not isinstance(text, str):
        return None, f"text is not a string but {type(text).__name__}"
    if not isinstance(title, str):
        title = ""
    full = (title + "\n" + (text or "")) if title else (text or "")
    if not full.strip():
        return None, "empty text"
    if len(full) > MAX_CHARS:
        full = full[:MAX_CHARS]
    return full, None


def _record(pid: str, tokens: list[str], cues: list[str] | None, hashtags: list[str], mentions: list[str],
            emoticons: list[str], links: list[str], error: str | None) -> dict[str, Any]:
    """A partial record: :class:`Annotation`'s fields in order, ``keywords`` left for :meth:`Analyzer.finish`
    (no placeholder lists: fewer containers for the garbage collector to scan)."""
    return {"id": pid, "tokens": tokens, "keywords": None, "sentiment": 0.5, "sentiment_label": "neutral",
            "simhash": "0000000000000000", "topic_id": "", "topic_label": "", "event_id": "",
            "event_label": "", "rumour_score": 0.0,
            "rumour_cues": cues, "rumour_reasons": [], "complaint_score": 0.0, "hashtags": hashtags, "mentions": mentions, "emoticons": emoticons,
            "links": links, "error": error}


def _hour_of(post: Any) -> int:
    ts = post.get("ts") if type(post) is dict else None
    return int(ts) // 3600 if isinstance(ts, (int, float)) and not isinstance(ts, bool) else 0


def _post_id(post: Any, i: int) -> str:
    if (type(post) is dict or isinstance(post, Mapping)) and post.get("id") is not None:
        return str(post["id"])
    return f"#{i}"


class Analyzer:
    """Owns its tokenizer, models, IDF table and topic clusterer. Nothing loads until first use.

    Not thread-safe for :meth:`analyze` (keywords and topics are stateful): give each thread its own instance, or
    serialise calls. Picklable: a pickled analyzer carries its config and learned state, and reloads models lazily.
    """

    def __init__(self, user_dict: str | None = None, *, backend: str = "auto", top_k: int = 5,
                 topic_threshold: float = 0.35, sentiment_model: str | None = None,
                 rumour_model: str | None = None, state_path: str | None = None) -> None:
        self.config = {"user_dict": user_dict, "backend": backend, "top_k": top_k,
                       "topic_threshold": topic_threshold, "sentiment_model": sentiment_model,
                       "rumour_model": rumour_model}
        self.segmenter = Segmenter(user_dict, backend=backend)
        self.sentiment = SentimentScorer(sentiment_model)
        self.rumour = RumourScorer(rumour_model)
        self.appeal = AppealLexicon()
        self.hashes = TokenHashes()  # stable token hashes shared by the features and SimHash
        self.simhasher = SimHasher(hashes=self.hashes)
        self._models: HashedModels | None = None
        self.keywords = KeywordExtractor(top_k=top_k)
        self.topics = TopicClusterer(threshold=topic_threshold)
        self.events = EventGrouper()
        self.state_path = state_path
        if state_path and Path(state_path).is_file():
            self.load_state(state_path)

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "learned": self.learned_state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["config"])
        self._apply_learned(state["learned"])

    # -- warm-up and state -------------------------------------------------------------------------------
    def load(self) -> "Analyzer":
        """Load everything now (dictionaries, models, IDF prior) instead of on the first post."""
        self.segmenter.ensure_loaded()
        _ = self.models
        self.keywords._ensure()
        return self

    def learned_state(self) -> dict[str, Any]:
        return {"format": "opinion-desk-analyzer-state/1", "idf": self.keywords.state(),
                "topics": self.topics.state(), "events": self.events.state()}

    def _apply_learned(self, state: Mapping[str, Any]) -> None:
        if "idf" in state:
            self.keywords.load_state(state["idf"])
        if "topics" in state:
            self.topics.load_state(state["topics"])
        if "events" in state:
            self.events.load_state(state["events"])

    def save_state(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Persist the IDF counts and topic clusters (gzipped JSON), atomically."""
        p = Path(path or self.state_path or "analyzer-state.json.gz")
        tmp = p.with_name(p.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(self.learned_state(), f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, p)
        return p

    def load_state(self, path: str | os.PathLike[str]) -> None:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            self._apply_learned(json.load(f))

    # -- analysis ----------------------------------------------------------------------------------------
    @property
    def models(self) -> HashedModels:
        """One weight table for the sentiment and rumour models (columns 0 and 1), built on first use."""
        if self._models is None:
            s, r = self.sentiment.model, self.rumour.model
            self._models = HashedModels([s.as_dict() if s else None, r.as_dict() if r else None])
        return self._models

    def analyze_stateless(self, posts: Sequence[Any], offset: int = 0) -> "Partials":
        """Per-post work that needs no shared state (runs in workers): partial records (:class:`Annotation`
        fields but keywords and topic) plus what :meth:`finish` needs, as compact arrays."""
        recs: list[dict[str, Any]] = []
        hashes: list[int] = []
        lens: list[int] = []
        for i in range(0, max(len(posts), 1), BATCH):  # bounded memory for the vectorised feature arrays
            self._stateless_batch(posts[i:i + BATCH], offset + i, recs, hashes, lens)
        out = Partials(recs)
        out.hashes = hashes
        out.prep = prepare_keywords([r["tokens"] for r in recs], lens)
        out.refs = [refs_of(p) for p in posts]
        out.hours = [_hour_of(p) for p in posts]
        return out

    def _stateless_batch(self, posts: Sequence[Any], offset: int, out: list[dict[str, Any]], hashes: list[int],
                         lens: list[int]) -> None:
        ok: list[int] = []
        parsed: list[Parsed] = []
        parse = self.segmenter.parse
        base = len(out)
        for i, post in enumerate(posts):
            text, err = _text_of(post)
            pid = _post_id(post, offset + i)
            hashes.append(0)
            lens.append(0)
            if err is None:
                try:
                    p = parse(text)
                except Exception as e:  # never let one bad text stop the batch
                    err = f"segmentation failed: {type(e).__name__}: {e}"
            if err is not None:
                out.append(_record(pid, [], [], [], [], [], [], err))
                continue
            lens[-1] = len(text)
            if not p.features:
                out.append(_record(pid, p.tokens, [], p.hashtags, p.mentions, p.emoticons, p.links,
                                   "no words to analyse (only links or punctuation)"))
                continue
            out.append(_record(pid, p.tokens, None, p.hashtags, p.mentions, p.emoticons, p.links, None))
            ok.append(base + i)
            parsed.append(p)
        if not parsed:
            return
        n = len(parsed)
        match = self.rumour.cues.match
        cues = [match(p.text) for p in parsed]
        models = self.models
        feats = [p.features for p in parsed]
        flat = list(_chain(feats))
        fh = self.hashes.array(flat)  # hashed once: the models' word features and SimHash
        rows, buckets = featurize(parsed, cues, self.rumour.cues.group, self.hashes, fh)
        prob = models.proba(rows, buckets, n)
        sent = prob[:, 0] if models.present[0] else np.full(n, 0.5)
        rum = prob[:, 1] if models.present[1] else np.array([min(1.0, 0.2 * len(c)) for c in cues])
        labels = self.sentiment.labels(sent)
        # SimHash of the tokens (features minus stop words), or of all features when every one is a stop word
        owner = np.repeat(np.arange(n), np.fromiter(map(len, feats), dtype=np.int64, count=n))
        keep = np.fromiter(map(self.segmenter.stopwords.__contains__, flat), dtype=bool, count=len(flat))
        np.logical_not(keep, out=keep)
        keep |= (np.bincount(owner[keep], minlength=n) == 0)[owner]
        hs = self.simhasher.from_hashes(fh[keep], np.bincount(owner[keep], minlength=n))
        groups, appeal = self.rumour.cues.group, self.appeal.groups
        for k, s, lab, r, c, h, p in zip(ok, np.round(sent, 4).tolist(), labels, np.round(rum, 4).tolist(), cues, hs,
                                         parsed):
            rec = out[k]
            r, rec["complaint_score"], rec["rumour_reasons"] = appeal_assessment(r, c, groups, appeal(p.text))
            rec["sentiment"], rec["sentiment_label"], rec["rumour_score"], rec["rumour_cues"] = s, lab, r, c
            rec["simhash"] = f"{h:016x}"
            hashes[k] = h

    def finish(self, partials: Iterable[dict[str, Any]]) -> list[Annotation]:
        """Stateful work, in order: update the IDF table, pick keywords (one vectorised pass), assign topics."""
        if not isinstance(partials, Partials):
            partials = Partials.of(partials)
        toks = [rec["tokens"] for rec in partials]
        kws = self.keywords.extract_prepared(partials.prep, toks)
        assign = self.topics.assign
        event = self.events.assign
        anns: list[Annotation] = []
        new = object.__new__
        for rec, scored, h, refs, hour in zip(partials, kws, partials.hashes, partials.refs, partials.hours):
            ann = new(Annotation)
            ann.__dict__ = rec
            rec["keywords"] = [t for t, _ in scored]
            if rec["error"] is None and rec["tokens"]:
                rec["topic_id"], rec["topic_label"] = assign(rec["id"], h, scored)
            rec["event_id"], rec["event_label"] = event(rec["id"], refs, rec["links"], rec["topic_id"],
                                                        rec["topic_label"], hour, rec["tokens"], rec["keywords"])
            anns.append(ann)
        return anns

    def analyze(self, posts: Iterable[Mapping[str, Any]]) -> list[Annotation]:
        """Annotate a batch of posts (mappings with ``id``, ``text``, optionally ``title``). Never raises on bad
        text: such posts come back with ``error`` set."""
        posts = list(posts)
        with no_gc():  # the records hold no cycles; a collector pass over each batch's fresh containers costs ~25 %
            return self.finish(self.analyze_stateless(posts))

    def iter_analyze(self, posts: Iterable[Mapping[str, Any]], batch_size: int = 512) -> Iterator[Annotation]:
        batch: list[Any] = []
        n = 0
        for post in posts:
            batch.append(post)
            if len(batch) >= batch_size:
                with no_gc():
                    anns = self.finish(self.analyze_stateless(batch, n))
                yield from anns
                n += len(batch)
                batch = []
        if batch:
            with no_gc():
                anns = self.finish(self.analyze_stateless(batch, n))
            yield from anns

    def analyze_parallel(self, posts: Iterable[Mapping[str, Any]], workers: int = 0, chunk_size: int = 2048,
                         progress: Callable[[int], None] | None = None) -> Iterator[Annotation]:
        """Annotate with ``workers`` processes, this one included (0 = one per core); yields in input order.

        Workers do the stateless work; this process applies keywords and topics in order, and analyses a chunk
        itself whenever the next result is not ready yet.
        """
        from .parallel import parallel_stateless

        chunks = parallel_stateless(self, posts, workers, chunk_size)
        while True:
            partials = next(chunks, None)
            if partials is None:
                return
            with no_gc():
                anns = self.finish(partials)
            if progress:
                progress(len(anns))
            yield from anns
