"""Sparse linear (logistic) models over token n-gram features, stored as small gzipped JSON files.

Runtime needs only numpy; training lives in :mod:`analyzers.train`.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

EMOTICON_RE = re.compile(r"\[[\w\u4e00-\u9fff ]{1,10}\]")


def strip_emoticons(text: str) -> str:
    """``text`` without ``[表情]`` emoticons (used to evaluate without the emoticons that made the labels)."""
    return EMOTICON_RE.sub("", text)


def ngram_features(feats: Sequence[str], bigrams: bool = True) -> list[str]:
    """Unigram and adjacent-bigram features of a token list."""
    out = list(feats)
    if bigrams and len(feats) > 1:
        out.extend([a + "|" + b for a, b in zip(feats, feats[1:])])
    return out


def char_ngrams(text: str, ns: Sequence[int] = (2,), limit: int = 1000) -> list[str]:
    """Character n-gram features of a (normalised) text, on its first ``limit`` characters."""
    t = text[:limit].lower()
    out: list[str] = []
    for n in ns:
        p = f"c{n}:"
        out.extend([p + t[i:i + n] for i in range(len(t) - n + 1)])
    return out


class LinearModel:
    """A logistic model ``p = sigmoid(bias + sum w[f])`` over string features (binary presence)."""

    def __init__(self, vocab: Sequence[str], weights: Sequence[float], bias: float, meta: dict[str, Any] | None = None):
        self.index: dict[str, int] = {f: i for i, f in enumerate(vocab)}
        # one extra zero weight at the end: every row gets it, so no row is empty for reduceat
        self.w = np.zeros(len(vocab) + 1, dtype=np.float64)
        self.w[: len(vocab)] = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.meta = dict(meta or {})
        self.pad = len(vocab)
        self.norm = self.meta.get("norm", "none")  # "l2": each row scaled by 1/sqrt(number of distinct features)

    # -- persistence ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "LinearModel":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            d = json.load(f)
        return cls(d["vocab"], d["weights"], d["bias"], d.get("meta"))

    def save(self, path: str | Path, digits: int = 4) -> None:
        vocab = [None] * self.pad
        for f, i in self.index.items():
            vocab[i] = f
        d = {"format": "opinion-desk-linear/1", "bias": round(self.bias, 6), "meta": self.meta,
             "vocab": vocab, "weights": [round(float(x), digits) for x in self.w[: self.pad]]}
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
            json.dump(d, f, ensure_ascii=False, separators=(",", ":"))

    # -- scoring -------------------------------------------------------------------------------------------
    def indices(self, feats: Sequence[str]) -> list[int]:
        get = self.index.get
        idx = [i for i in map(get, set(feats)) if i is not None]
        idx.append(self.pad)
        return idx

    def margins(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        all_idx: list[int] = []
        starts = []
        sizes = []
        get = self.index.get
        pad = self.pad
        for feats in rows:
            starts.append(len(all_idx))
            uniq = set(feats)
            sizes.append(len(uniq))
            all_idx.extend([i for i in map(get, uniq) if i is not None])
            all_idx.append(pad)
        vals = self.w[np.asarray(all_idx, dtype=np.int64)]
        m = np.add.reduceat(vals, np.asarray(starts, dtype=np.int64))
        if self.norm == "l2":
            m /= np.sqrt(np.maximum(np.asarray(sizes, dtype=np.float64), 1.0))
        return m + self.bias

    def predict_proba(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        z = np.clip(self.margins(rows), -30, 30)
        return 1.0 / (1.0 + np.exp(-z))

    def contributions(self, feats: Sequence[str], top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed this row's score most (for explanations)."""
        got = [(f, float(self.w[i])) for f in set(feats) if (i := self.index.get(f)) is not None]
        got.sort(key=lambda x: -abs(x[1]))
        return got[:top]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))
