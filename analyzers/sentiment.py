"""Sentiment: probability that a post is positive, and a pos / neg / neutral label with a calibrated neutral band.

A logistic model over jieba unigrams+bigrams (emoticons included as features) trained on the Weibo development data
(see ``resources/PROVENANCE.md``). No snownlp import at runtime: stock ``SnowNLP(text).sentiments`` is only used as
a baseline in :mod:`analyzers.evaluate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .linear import LinearModel, ngram_features
from .segmentation import RESOURCES, Parsed

DEFAULT_BAND = (0.4, 0.6)


class SentimentScorer:
    def __init__(self, model_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else RESOURCES / "sentiment.json.gz"
        self._model: LinearModel | None = None

    @property
    def model(self) -> LinearModel | None:
        if self._model is None and self.model_path.is_file():
            self._model = LinearModel.load(self.model_path)
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

    def score_features(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        """P(positive) for rows of n-gram features; 0.5 everywhere when no model is installed."""
        m = self.model
        if m is None:
            return np.full(len(rows), 0.5)
        return m.predict_proba(rows)

    def score_batch(self, parsed: Sequence[Parsed]) -> tuple[np.ndarray, list[str]]:
        scores = self.score_features([ngram_features(p.features) for p in parsed])
        lo, hi = self.band
        labels = ["pos" if s >= hi else "neg" if s < lo else "neutral" for s in scores.tolist()]
        return scores, labels
