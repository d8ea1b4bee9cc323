"""Rumour score: a cue lexicon (网传, 据说, 紧急扩散, 转疯了, 求证 …) plus a logistic model over words, characters and cues,
each feature counted once per post (``count: once`` in the model's meta; see :func:`analyzers.features.once_sums`).

The score is the model's probability (0..1); the cues that fired are returned so an analyst can see why.
The post date and repost count are never features (dates leak labels in the training data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .features import SparseModel, TokenHashes, cue_features, featurize
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
        return list(dict.fromkeys(self.regex.findall(text.lower())))

    def features(self, text: str, cues: Sequence[str] | None = None) -> list[str]:
        return cue_features(self.match(text) if cues is None else cues, self.group)


class RumourScorer:
    """Scores parsed posts; loads its model lazily from ``resources/rumour.npz``."""

    def __init__(self, model_path: str | Path | None = None, cue_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else RESOURCES / "rumour.npz"
        self.cues = CueLexicon(cue_path)
        self._model: SparseModel | None = None
        self._hashes = TokenHashes()

    @property
    def model(self) -> SparseModel | None:
        if self._model is None and self.model_path.is_file():
            self._model = SparseModel.load(self.model_path)
        return self._model

    def score_batch(self, parsed: Sequence[Parsed]) -> tuple[np.ndarray, list[list[str]]]:
        """(scores, cues per post). Without a model file, a cue-count heuristic gives the score."""
        cues = [self.cues.match(p.text) for p in parsed]
        model = self.model
        if model is None or not parsed:
            return np.array([min(1.0, 0.2 * len(c)) for c in cues]), cues
        rows, buckets = featurize(parsed, cues, self.cues.group, self._hashes)
        return model.proba(rows, buckets, len(parsed)), cues
