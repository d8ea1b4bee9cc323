"""Rumour score: a cue lexicon (网传, 据说, 紧急扩散, 转疯了, 求证 …) plus a logistic model over words and cues.

The score is the model's probability (0..1); the cues that fired are returned so an analyst can see why.
The post date and repost count are never features (dates leak labels in the training data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .linear import LinearModel, char_ngrams, ngram_features
from .segmentation import RESOURCES, Parsed


class CueLexicon:
    """Cue phrases grouped by kind (hearsay, spread, alarm, verify, insider, debunk)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else RESOURCES / "rumour_cues.txt"
        self.group: dict[str, str] = {}
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                cue, _, grp = line.partition("\t")
                self.group[cue.strip().lower()] = grp.strip() or "other"
        alts = sorted(self.group, key=len, reverse=True)
        self.regex = re.compile("|".join(re.escape(c) for c in alts)) if alts else re.compile(r"(?!x)x")

    def match(self, text: str) -> list[str]:
        """The distinct cues in ``text`` (already normalised), in order of first appearance."""
        seen: dict[str, None] = {}
        for m in self.regex.finditer(text.lower()):
            seen.setdefault(m.group(), None)
        return list(seen)

    def features(self, text: str, cues: Sequence[str] | None = None) -> list[str]:
        cues = self.match(text) if cues is None else cues
        out = ["cue:" + c for c in cues]
        out.extend({"cuegroup:" + self.group[c] for c in cues})
        out.append(f"ncues:{min(len(cues), 3)}")
        return out


class RumourScorer:
    """Scores parsed posts; loads its model lazily from ``resources/rumour.json.gz``."""

    def __init__(self, model_path: str | Path | None = None, cue_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else RESOURCES / "rumour.json.gz"
        self.cues = CueLexicon(cue_path)
        self._model: LinearModel | None = None

    @property
    def model(self) -> LinearModel | None:
        if self._model is None and self.model_path.is_file():
            self._model = LinearModel.load(self.model_path)
        return self._model

    def score_batch(self, parsed: Sequence[Parsed], bigram_feats: Sequence[list[str]] | None = None
                    ) -> tuple[np.ndarray, list[list[str]]]:
        """(scores, cues per post). Without a model file, a cue-count heuristic gives the score."""
        cues = [self.cues.match(p.text) for p in parsed]
        model = self.model
        if model is None:
            return np.array([min(1.0, 0.2 * len(c)) for c in cues]), cues
        if bigram_feats is None:
            bigram_feats = [ngram_features(p.features) for p in parsed]
        rows = [bf + char_ngrams(p.text) + self.cues.features(p.text, c) for bf, p, c in zip(bigram_feats, parsed, cues)]
        return model.predict_proba(rows), cues
