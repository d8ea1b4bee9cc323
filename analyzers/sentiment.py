"""Sentiment: probability that a post is positive, and a pos / neg / neutral label with a calibrated neutral band.

An NB-weighted logistic model over hashed word uni+bigrams and character 1-3-grams (:mod:`analyzers.features`),
trained on the Weibo development data plus emoticon-stripped copies, margins divided by sqrt(#features)
(``norm: l2``; see ``resources/PROVENANCE.md``).
No snownlp import at runtime: stock ``SnowNLP(text).sentiments`` is only a baseline in :mod:`analyzers.evaluate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .features import SparseModel, TokenHashes, featurize
from .rumour import CueLexicon
from .segmentation import RESOURCES, Parsed

DEFAULT_BAND = (0.4, 0.6)


class SentimentScorer:
    def __init__(self, model_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else RESOURCES / "sentiment.npz"
        self._model: SparseModel | None = None
        self._hashes = TokenHashes()
        self._cues: CueLexicon | None = None

    @property
    def model(self) -> SparseModel | None:
        if self._model is None and self.model_path.is_file():
            self._model = SparseModel.load(self.model_path)
        return self._model

    @property
    def band(self) -> tuple[float, float]:
        m = self.model
        if m is None:
            return DEFAULT_BAND
        lo, hi = m.meta.get("neutral_band", DEFAULT_BAND)
        return float(lo), float(hi)

    def label(self, score: float) -> str:
        lo, hi = self.band
        return "pos" if score >= hi else "neg" if score < lo else "neutral"

    def labels(self, scores: np.ndarray) -> list[str]:
        lo, hi = self.band
        return np.where(scores >= hi, "pos", np.where(scores < lo, "neg", "neutral")).tolist()

    def score_batch(self, parsed: Sequence[Parsed]) -> tuple[np.ndarray, list[str]]:
        """(P(positive), labels) for parsed posts; 0.5 everywhere when no model is installed."""
        m = self.model
        if m is None or not parsed:
            scores = np.full(len(parsed), 0.5)
        else:
            if self._cues is None:
                self._cues = CueLexicon()
            cues = [self._cues.match(p.text) for p in parsed]  # the models share one feature set
            rows, buckets = featurize(parsed, cues, self._cues.group, self._hashes)
            scores = m.proba(rows, buckets, len(parsed))
        return scores, self.labels(scores)
