"""Rumour score: a cue lexicon (网传, 据说, 紧急扩散, 转疯了, 求证 …) plus a logistic model over words, characters and cues,
each feature counted once per post (``count: once`` in the model's meta; see :func:`analyzers.features.once_sums`).

The score is the model's probability (0..1); the cues that fired are returned so an analyst can see why.
The post date and repost count are never features (dates leak labels in the training data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

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


# -- what a rumour is not: 诉求 (complaints, requests) and official notices; doubt replies; the reasons ----------
CLAIM_GROUPS = ("hearsay", "insider", "spread", "alarm")
TAG_THRESHOLD = 0.7  # the text score from which one post is tagged 疑似谣言 (the post-level tag)
APPEAL_THRESHOLD = 0.5  # complaint_score from which a post is a 诉求, shown as such and never as a rumour
CLAIM_SCORE = 0.5  # the cascade rule: a first post from this text score is a claim
MIN_DOUBTS, DOUBT_SHARE = 3, 0.1  # ... or one questioned by this many doubt replies, this share of its first hour
MIN_SPREAD = 3  # posts in the first hour from which a cascade is spreading


def counts_as_rumour(rumour_score: float | None, complaint_score: float | None, threshold: float = TAG_THRESHOLD,
                     appeal_threshold: float = APPEAL_THRESHOLD) -> bool:
    """Whether one post counts as a rumour post (the post-level 疑似谣言 tag, and the ``rumour`` rule's test of a
    post with repost counts of its own): its rumour score reaches ``threshold`` and it is not a 诉求
    (:func:`is_appeal`)."""
    return rumour_score is not None and rumour_score >= threshold and not is_appeal(complaint_score, appeal_threshold)


def is_appeal(complaint_score: float | None, appeal_threshold: float = APPEAL_THRESHOLD) -> bool:
    """Whether a post is a 诉求 (complaint or request: complaint_score >= ``appeal_threshold``), never a rumour."""
    return (complaint_score or 0.0) >= appeal_threshold


class AppealLexicon(CueLexicon):
    """Cues of complaints, requests, official notices and doubt replies (``resources/appeal_cues.txt``)."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path or RESOURCES / "appeal_cues.txt")

    def groups(self, text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c in self.match(text):
            out.setdefault(self.group[c], []).append(c)
        return out

    def is_doubt(self, text: str) -> bool:
        """Whether a reply or repost doubts what it answers (a ``doubt`` cue: 真的假的、求证 …)."""
        return bool(self.groups(text).get("doubt"))


def appeal_assessment(score: float, cues: Sequence[str], cue_group: dict[str, str],
                      appeal: dict[str, list[str]]) -> tuple[float, float, list[str]]:
    """(rumour_score, complaint_score, rumour_reasons) of one post from its text score, rumour cues and the
    :class:`AppealLexicon` groups. A 诉求 (complaint/request, complaint_score >= APPEAL_THRESHOLD) or an official
    notice keeps its text score in the reasons but scores at most 0.3: it is not an unverified claim."""
    n_comp = len(appeal.get("complaint", ())) + len(appeal.get("request", ()))
    complaint = min(1.0, 0.3 * n_comp + (0.2 if appeal.get("request") else 0.0))
    if appeal.get("official"):  # an official answer quoting the complaint (关于网友反映的…问题) is not a 诉求
        complaint = min(complaint, 0.3)
    claim = [c for c in cues if cue_group.get(c) in CLAIM_GROUPS]
    reasons: list[str] = []
    out = score
    if complaint >= APPEAL_THRESHOLD and not claim and not appeal.get("official"):
        out = min(score, 0.3)
        reasons.append(f"诉求类（{'、'.join((appeal.get('complaint', []) + appeal.get('request', []))[:4])}），"
                       f"不计为谣言；文本分 {score:.2f}")
    elif appeal.get("official"):
        out = min(score, 0.3)
        reasons.append(f"官方通报用语（{'、'.join(appeal['official'][:3])}），不计为谣言；文本分 {score:.2f}")
    elif score >= TAG_THRESHOLD:
        reasons.append(f"文本谣言分 {score:.2f}")
        if claim:
            reasons.append("说法线索：" + "、".join(claim[:5]))
        else:
            reasons.append("无传言/扩散线索：仅凭文本模型")
    if appeal.get("doubt"):
        reasons.append("质疑用语：" + "、".join(appeal["doubt"][:3]))
    return round(out, 4), round(complaint, 4), reasons


def cascade_assessment(text_score: float, first_hour: Sequence[str], doubt_of: Any, official: bool,
                       appeal: bool = False) -> tuple[bool, float, list[str]]:
    """(疑似谣言?, strength, reasons) of one event from its first post's rumour score, the texts of the posts of its
    first hour (reposts and replies), whether an official post answered it and whether its first post is a 诉求
    (:func:`is_appeal`). ``doubt_of(text)`` tells a doubt reply. Rule (fixed before looking at held-out cascades): a
    claim (score >= 0.5) or a claim questioned by many (>= 3 doubt replies and >= 10 % of the first hour), that
    spread (>= 3 posts in the first hour), without an official answer, and not a 诉求 (as the live rule)."""
    n = len(first_hour)
    doubts = sum(1 for t in first_hour if doubt_of(t))
    claim = is_claim(text_score, doubts, n, appeal=appeal)
    reasons = cascade_reasons(text_score, n, doubts)
    if appeal:
        reasons.append("首帖为诉求（投诉、求助、反映问题），不计为谣言")
    if official:
        reasons.append("已有官方回应")
    spread = is_spreading(n)
    if not spread:
        reasons.append(f"尚未扩散（首小时不足 {MIN_SPREAD} 条）")
    return bool(claim and spread and not official), cascade_strength(text_score, doubts, n), reasons


def cascade_reasons(text_score: float, n: int, doubts: int) -> list[str]:
    """Why an event reads as a rumour cascade: its first post's score, its first hour and the doubt replies in it."""
    ratio = doubts / n if n else 0.0
    return [f"首帖谣言分 {text_score:.2f}", f"首小时转发/评论 {n} 条", f"质疑回复 {doubts} 条（{ratio:.0%}）"]


def cascade_strength(text_score: float, doubts: int, n: int) -> float:
    """How strongly an event reads as a rumour (0..1): its first post's score, or the share of doubt replies in its
    first hour (x 2.5) when it has >= ``MIN_DOUBTS`` of them and that is higher."""
    ratio = doubts / n if n else 0.0
    return round(max(text_score, min(1.0, ratio * 2.5)) if doubts >= MIN_DOUBTS else text_score, 4)


def is_claim(text_score: float, doubts: int, n: int, claim_score: float = CLAIM_SCORE, appeal: bool = False) -> bool:
    """The claim part of :func:`cascade_assessment`: a first post scoring >= ``claim_score`` (``CLAIM_SCORE``), or
    one questioned by >= ``MIN_DOUBTS`` doubt replies that are >= ``DOUBT_SHARE`` of the ``n`` posts of its first
    hour; never a first post that is a 诉求 (``appeal``, :func:`is_appeal`)."""
    return not appeal and (text_score >= claim_score or (doubts >= MIN_DOUBTS and n > 0 and doubts / n >= DOUBT_SHARE))


def is_spreading(n: int, min_spread: int = MIN_SPREAD) -> bool:
    """The spread part of :func:`cascade_assessment`: >= ``min_spread`` (``MIN_SPREAD``) posts in the first hour."""
    return n >= min_spread
