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
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

from .segmentation import RESOURCES

NOT_KEYWORD_RE = re.compile(r"^(?:[@\[]|[0-9.]+$|[a-z]$)")
LONG_TEXT_CHARS = 400  # texts at least this long (articles) get TextRank keywords


_CAND_CACHE: dict[str, bool] = {}


def _is_candidate(tok: str) -> bool:
    ok = _CAND_CACHE.get(tok)
    if ok is None:
        ok = not (len(tok) < 2 and not ("\u4e00" <= tok <= "\u9fff")) and not NOT_KEYWORD_RE.match(tok)
        if len(_CAND_CACHE) > 300_000:
            _CAND_CACHE.clear()
        _CAND_CACHE[tok] = ok
    return ok


class KeywordExtractor:
    """TF-IDF and TextRank keywords with an online document-frequency table."""

    def __init__(self, top_k: int = 5, prior_path: str | Path | None = None, max_terms: int = 400_000) -> None:
        self.top_k = top_k
        self.prior_path = Path(prior_path) if prior_path else RESOURCES / "idf_prior.json.gz"
        self.max_terms = max_terms
        self.df: dict[str, int] = {}
        self.n_docs = 0
        self._loaded = False

    def _ensure(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.prior_path.is_file():
            with gzip.open(self.prior_path, "rt", encoding="utf-8") as f:
                d = json.load(f)
            n = int(d["n_docs"])
            for t, c in d["df"].items():
                self.df[t] = self.df.get(t, 0) + int(c)
            self.n_docs += n

    # -- state -------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        self._ensure()
        return {"n_docs": self.n_docs, "df": self.df}

    def load_state(self, state: dict[str, Any]) -> None:
        self.df = {str(k): int(v) for k, v in state.get("df", {}).items()}
        self.n_docs = int(state.get("n_docs", 0))
        self._loaded = True

    def observe(self, tokens: Sequence[str]) -> None:
        """Count one document in the IDF table."""
        self._ensure()
        df = self.df
        for t in set(tokens):
            df[t] = df.get(t, 0) + 1
        self.n_docs += 1
        if len(df) > self.max_terms:
            self.df = {t: c for t, c in df.items() if c > 1}

    def idf(self, tok: str) -> float:
        return math.log((self.n_docs + 1) / (self.df.get(tok, 0) + 1)) + 1.0

    # -- extraction --------------------------------------------------------------------------------------
    def tfidf(self, tokens: Sequence[str], top_k: int | None = None) -> list[tuple[str, float]]:
        self._ensure()
        tf = Counter(t for t in tokens if _is_candidate(t))
        if not tf:
            return []
        logn = math.log(self.n_docs + 1)
        get = self.df.get
        scored = [(c * (logn - math.log(get(t, 0) + 1) + 1.0) * (1.5 if t[0] == "#" else 1.0), t)
                  for t, c in tf.items()]
        best = heapq.nlargest(top_k or self.top_k, scored)
        return [(t, round(s, 4)) for s, t in best]

    def textrank(self, tokens: Sequence[str], top_k: int | None = None, window: int = 5,
                 iters: int = 20, d: float = 0.85) -> list[tuple[str, float]]:
        """TextRank over the co-occurrence graph of candidate tokens (for articles)."""
        cands = [t for t in tokens if _is_candidate(t)]
        if not cands:
            return []
        graph: dict[str, Counter[str]] = defaultdict(Counter)
        for i, a in enumerate(cands):
            for b in cands[i + 1: i + window]:
                if a != b:
                    graph[a][b] += 1
                    graph[b][a] += 1
        if not graph:
            return self.tfidf(tokens, top_k)
        rank = {n: 1.0 for n in graph}
        out_sum = {n: sum(e.values()) for n, e in graph.items()}
        for _ in range(iters):
            rank = {n: (1 - d) + d * sum(w / out_sum[m] * rank[m] for m, w in graph[n].items()) for n in graph}
        # weight by idf so that corpus-common words do not win
        self._ensure()
        scored = [(r * self.idf(n), n) for n, r in rank.items()]
        best = heapq.nlargest(top_k or self.top_k, scored)
        return [(t, round(s, 4)) for s, t in best]

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
