"""Keywords: TF-IDF against an IDF table learned from the corpus the desk has seen, TextRank for long articles.

The IDF table starts from a prior shipped in ``resources/idf_prior.json.gz`` (document frequencies over the
development Weibo corpus) and is updated with every analysed post; :meth:`state` / :meth:`load_state` persist it.
"""

from __future__ import annotations

import gzip
import heapq
import json
import math
import re
from collections import Counter
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from .segmentation import RESOURCES

NOT_KEYWORD_RE = re.compile(r"^(?:[@\[]|[0-9.]+$|[a-z]$)")
LONG_TEXT_CHARS = 400  # texts at least this long (articles) get TextRank keywords
# Memory: the learned table keeps at most this many terms (about 130 bytes each: the word, its dict entry and
# counts). Past it, the terms that can never be keywords (numbers, single characters; their counts are never
# used) and those seen in only one post go, then the rarest, down to three quarters of the cap.
IDF_TERMS = 200_000
_chain = chain.from_iterable


@lru_cache(maxsize=100_000)  # a bounded cache (numbers and ids keep arriving): ~15 MB when full
def _is_candidate(tok: str) -> bool:
    """A keyword is at least two characters (single characters such as 县, 市, 人 say nothing about a post),
    not a mention or emoticon, not a bare number or letter."""
    return len(tok) >= 2 and not NOT_KEYWORD_RE.match(tok)


def term_key(t: str) -> int:
    """A stable tie-break key: the first 8 UTF-8 bytes of the term (ties between equal scores go to the larger)."""
    return int.from_bytes(t.encode("utf-8", "surrogatepass")[:8].ljust(8, b"\0"), "big") >> 1


class KeywordPrep(NamedTuple):
    """The stateless half of :meth:`KeywordExtractor.extract_batch` for a batch of token lists (built in workers).

    ``terms`` are the batch's distinct tokens (first-seen order); ``lens``/``local`` every document's tokens as
    indices into ``terms``; ``ranks`` the TextRank scores of each long document (``{}``: no candidate tokens,
    ``None``: no two distinct candidates co-occur, so TF-IDF is used).
    """

    terms: list[str]
    lens: np.ndarray
    local: np.ndarray
    ranks: dict[int, dict[str, float] | None]


def prepare(token_lists: Sequence[Sequence[str]], text_lens: Sequence[int]) -> KeywordPrep:
    """Per-document work that needs no IDF table: distinct terms, token indices, TextRank of long texts."""
    flat = list(_chain(token_lists))
    terms = list(dict.fromkeys(flat))  # distinct, first-seen order
    index = dict(zip(terms, range(len(terms))))
    local = np.fromiter(map(index.__getitem__, flat), dtype=np.int32, count=len(flat))
    lens = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    ranks = {i: textrank_ranks(toks) for i, toks in enumerate(token_lists)
             if toks and text_lens[i] >= LONG_TEXT_CHARS}
    return KeywordPrep(terms, lens, local, ranks)


def textrank_ranks(tokens: Sequence[str], window: int = 5, iters: int = 20, d: float = 0.85
                   ) -> dict[str, float] | None:
    """TextRank scores of the candidate tokens' co-occurrence graph (edges between distinct candidates less than
    ``window`` apart, weighted by how often); ``{}`` without candidates, ``None`` when no two distinct candidates
    co-occur. The power iteration runs over the edge arrays with numpy."""
    cands = [t for t in tokens if _is_candidate(t)]
    if not cands:
        return {}
    names = list(dict.fromkeys(cands))
    ids = np.fromiter(map(dict(zip(names, range(len(names)))).__getitem__, cands), dtype=np.int64, count=len(cands))
    m = len(names)
    src = np.concatenate([ids[:-k] for k in range(1, window) if k < len(ids)] or [np.zeros(0, np.int64)])
    dst = np.concatenate([ids[k:] for k in range(1, window) if k < len(ids)] or [np.zeros(0, np.int64)])
    keep = src != dst
    if not keep.any():
        return None
    key, w = np.unique(np.concatenate([src[keep] * m + dst[keep], dst[keep] * m + src[keep]]), return_counts=True)
    a, b = key // m, key % m  # edge a -> b with weight w, both directions present
    out_sum = np.bincount(a, weights=w, minlength=m)
    nodes = np.flatnonzero(out_sum)
    share = w / out_sum[a]
    rank = np.ones(m)
    for _ in range(iters):
        rank = (1 - d) + d * np.bincount(b, weights=share * rank[a], minlength=m)
    return dict(zip([names[i] for i in nodes.tolist()], rank[nodes].tolist()))


class KeywordExtractor:
    """TF-IDF and TextRank keywords with an online document-frequency table.

    The table is a term -> id dict plus a numpy count array; :meth:`extract_batch` observes and scores a whole
    batch at once with the exact result of observing and extracting post by post.
    """

    def __init__(self, top_k: int = 5, prior_path: str | Path | None = None, max_terms: int = IDF_TERMS) -> None:
        self.top_k = top_k
        self.prior_path = Path(prior_path) if prior_path else RESOURCES / "idf_prior.json.gz"
        self.max_terms = max_terms
        self.n_docs = 0
        self._reset({})
        self._loaded = False

    def _reset(self, df: dict[str, int]) -> None:
        self.terms: list[str] = list(df)
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(self.terms)}
        self._df = np.zeros(max(1024, 2 * len(df)), dtype=np.int64)
        self._df[: len(df)] = np.fromiter(df.values(), dtype=np.int64, count=len(df))
        self._cand = np.zeros(len(self._df), dtype=bool)
        self._boost = np.ones(len(self._df))
        self._thash = np.zeros(len(self._df), dtype=np.int64)
        self._annotate(0)

    def _annotate(self, start: int) -> None:
        """Candidate flag, hashtag boost and a stable tie-break key for the terms from ``start`` on."""
        new = self.terms[start:]
        end = start + len(new)
        self._cand[start:end] = list(map(_is_candidate, new))
        self._boost[start:end] = [1.5 if t[0] == "#" else 1.0 for t in new]
        self._thash[start:end] = list(map(term_key, new))

    def _grow(self, start: int) -> None:
        """Make room in the per-term arrays for the terms added from ``start`` on, and annotate them."""
        if len(self.terms) > len(self._df):
            grow = max(len(self.terms), 2 * len(self._df)) - len(self._df)
            self._df = np.concatenate([self._df, np.zeros(grow, dtype=np.int64)])
            self._cand = np.concatenate([self._cand, np.zeros(grow, dtype=bool)])
            self._boost = np.concatenate([self._boost, np.ones(grow)])
            self._thash = np.concatenate([self._thash, np.zeros(grow, dtype=np.int64)])
        self._annotate(start)

    def _ids(self, toks: Sequence[str]) -> list[int]:
        """Global ids of ``toks``, adding the terms not seen before (in first-seen order)."""
        ids = list(map(self.vocab.get, toks))
        if None in ids:
            start = len(self.terms)
            new = list(dict.fromkeys([t for t, i in zip(toks, ids) if i is None]))
            self.vocab.update(zip(new, range(start, start + len(new))))
            self.terms += new
            self._grow(start)
            ids = list(map(self.vocab.get, toks))
        return ids

    @property
    def df(self) -> dict[str, int]:
        self._ensure()
        d = self._df
        return {t: int(d[i]) for i, t in enumerate(self.terms) if d[i] > 0}

    def _ensure(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.prior_path.is_file():
            with gzip.open(self.prior_path, "rt", encoding="utf-8") as f:
                d = json.load(f)
            self._reset({str(t): int(c) for t, c in d["df"].items()})
            self.n_docs = int(d["n_docs"])

    # -- state -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        self._ensure()
        return {"n_docs": self.n_docs, "df": self.df}

    def load_state(self, state: dict[str, Any]) -> None:
        self._reset({str(k): int(v) for k, v in state.get("df", {}).items()})
        self.n_docs = int(state.get("n_docs", 0))
        self._loaded = True

    def _prune(self) -> None:
        """Bound the table (see :data:`IDF_TERMS`): past ``max_terms`` keep only keyword candidates seen in more than
        one post, and of those at most three quarters of the cap, the most frequent (ties: the earliest seen).
        Scores of the terms kept are unchanged; a dropped term seen again counts from zero."""
        v = len(self.terms)
        if v <= self.max_terms:
            return
        d = self._df[:v]
        keep = np.flatnonzero((d > 1) & self._cand[:v])
        low = max(1, self.max_terms * 3 // 4)
        if len(keep) > low:
            keep = np.sort(keep[np.argsort(-d[keep], kind="stable")[:low]])
        terms = self.terms
        self._reset(dict(zip([terms[i] for i in keep.tolist()], d[keep].tolist())))

    def observe(self, tokens: Sequence[str]) -> None:
        """Count one document in the IDF table."""
        self._ensure()
        ids = self._ids(list(tokens))
        self._df[np.unique(np.asarray(ids, dtype=np.int64))] += 1
        self.n_docs += 1
        self._prune()

    def idf(self, tok: str) -> float:
        i = self.vocab.get(tok)
        c = int(self._df[i]) if i is not None else 0
        return math.log((self.n_docs + 1) / (c + 1)) + 1.0

    # -- extraction --------------------------------------------------------------------------------------
    def tfidf(self, tokens: Sequence[str], top_k: int | None = None) -> list[tuple[str, float]]:
        self._ensure()
        tf = Counter(t for t in tokens if _is_candidate(t))
        if not tf:
            return []
        idf = self.idf
        scored = [(c * idf(t) * (1.5 if t[0] == "#" else 1.0), t) for t, c in tf.items()]
        best = heapq.nlargest(top_k or self.top_k, scored)
        return [(t, round(s, 4)) for s, t in best]

    def _map(self, prep: KeywordPrep) -> np.ndarray:
        """Global ids of the batch's distinct terms, adding the new ones."""
        gid = self._ids(prep.terms)
        return np.fromiter(gid, dtype=np.int64, count=len(gid))

    def extract_batch(self, token_lists: Sequence[Sequence[str]], text_lens: Sequence[int]
                      ) -> list[list[tuple[str, float]]]:
        """Observe each non-empty token list in order and return its keywords (TF-IDF, or TextRank for long
        texts), exactly as :meth:`observe` + :meth:`extract` post by post would, in a few numpy passes. (One
        exception: a long text whose candidates never co-occur falls back to TF-IDF against the table after the
        batch.)"""
        return self.extract_prepared(prepare(token_lists, text_lens), token_lists)

    def extract_prepared(self, prep: KeywordPrep, token_lists: Sequence[Sequence[str]]
                         ) -> list[list[tuple[str, float]]]:
        """:meth:`extract_batch` from its stateless half (:func:`prepare`, possibly computed elsewhere)."""
        self._ensure()
        n = len(prep.lens)
        out: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        nz = prep.lens > 0
        if not nz.any():
            return out
        docs = np.flatnonzero(nz).tolist()
        lens = prep.lens[nz]
        ids = self._map(prep)[prep.local]
        doc = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
        v = len(self.terms)
        key, tf = np.unique(doc * v + ids, return_counts=True)  # sorted by (doc, term)
        pd, pt = key // v, key % v
        # document frequency each (doc, term) pair sees: the count before the batch + its rank among the docs
        order = np.argsort(pt, kind="stable")  # by term, then doc
        st = pt[order]
        first = np.flatnonzero(np.r_[True, st[1:] != st[:-1]])
        rank = np.arange(len(st)) - np.repeat(first, np.diff(np.r_[first, len(st)])) + 1
        df_at = np.empty(len(st), dtype=np.int64)
        df_at[order] = self._df[st] + rank
        n_at = self.n_docs + pd + 1
        self._df[: v] += np.bincount(pt, minlength=v)[: v]
        self.n_docs += len(docs)
        score = tf * (np.log(n_at + 1.0) - np.log(df_at + 1.0) + 1.0) * self._boost[pt]
        ok = self._cand[pt]
        pos = {i: k for k, i in enumerate(docs)}
        long_docs = {pos[i]: i for i in prep.ranks}
        if long_docs:
            ok &= ~np.isin(pd, np.fromiter(long_docs, dtype=np.int64))
        sel = np.flatnonzero(ok)
        sd, ss, sh = pd[sel], score[sel], self._thash[pt[sel]]
        o = np.lexsort((-sh, -ss, sd))
        sd, sel = sd[o], sel[o]
        first = np.flatnonzero(np.r_[True, sd[1:] != sd[:-1]])
        within = np.arange(len(sd)) - np.repeat(first, np.diff(np.r_[first, len(sd)]))
        keep = within < self.top_k
        terms = self.terms
        for d, t, s in zip(sd[keep].tolist(), pt[sel[keep]].tolist(), np.round(score[sel[keep]], 4).tolist()):
            out[docs[d]].append((terms[t], s))
        for k, i in long_docs.items():
            ranks = prep.ranks[i]
            if ranks is None:
                out[i] = self.tfidf(token_lists[i])
                continue
            m = pd == k
            local = dict(zip(pt[m].tolist(), df_at[m].tolist()))
            nk = int(n_at[np.flatnonzero(m)[0]])
            out[i] = self._rank_keywords(ranks, lambda t: math.log(
                (nk + 1) / (local.get(self.vocab.get(t, -1), 0) + 1)) + 1.0)
        self._prune()
        return out

    def _rank_keywords(self, rank: dict[str, float], idf: Any, top_k: int | None = None
                       ) -> list[tuple[str, float]]:
        scored = [(r * idf(n), n) for n, r in rank.items()]  # weight by idf: corpus-common words do not win
        best = heapq.nlargest(top_k or self.top_k, scored)
        return [(t, round(s, 4)) for s, t in best]

    def textrank(self, tokens: Sequence[str], top_k: int | None = None, window: int = 5,
                 iters: int = 20, d: float = 0.85, idf: Any = None) -> list[tuple[str, float]]:
        """TextRank over the co-occurrence graph of candidate tokens (for articles)."""
        rank = textrank_ranks(tokens, window, iters, d)
        if rank is None:
            return self.tfidf(tokens, top_k)
        if not rank:
            return []
        self._ensure()
        return self._rank_keywords(rank, idf or self.idf, top_k)

    def extract(self, tokens: Sequence[str], text_len: int) -> list[tuple[str, float]]:
        if text_len >= LONG_TEXT_CHARS:
            return self.textrank(tokens)
        return self.tfidf(tokens)


def build_idf_prior(token_lists: Sequence[Sequence[str]], out: str | Path, min_df: int = 3) -> Path:
    """Write the shipped IDF prior from a corpus of token lists (only terms seen in >= ``min_df`` documents)."""
    df: Counter[str] = Counter()
    for toks in token_lists:
        df.update(set(toks))
    d = {"n_docs": len(token_lists), "df": {t: c for t, c in df.most_common() if c >= min_df}}
    out = Path(out)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(d, f, ensure_ascii=False, separators=(",", ":"))
    return out
