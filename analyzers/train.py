"""Training of the shipped sentiment and rumour models (numpy only; not on the runtime path).

Held-out rows are chosen by :func:`is_held_out` (a fixed hash of the row id), never trained on, and are the rows
that :mod:`analyzers.evaluate` reports on. Rebuild with ``opinion-desk train sentiment|rumour``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .linear import LinearModel, char_ngrams, ngram_features, strip_emoticons
from .segmentation import RESOURCES, Segmenter

DEFAULT_DATA_DIR = Path(os.environ.get("OPINION_DESK_WEIBO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "weibo"))
SPLIT_SEED = "opinion-desk-v1"
HELD_OUT_BUCKETS = 5  # one bucket in five (20 %) is held out


def is_held_out(row_id: str) -> bool:
    """True for the fixed 20 % of rows held out from training: ``sha1(SEED + ":" + id) % 5 == 0``."""
    h = hashlib.sha1(f"{SPLIT_SEED}:{row_id}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") % HELD_OUT_BUCKETS == 0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sentiment_group(row: dict[str, Any]) -> str:
    """``usual`` / ``virus`` (SMP2020-EWECT, human labels) or ``ws100k`` (weibo_senti_100k, emoticon labels)."""
    rid = str(row.get("id", ""))
    method = str(row.get("label_method", ""))
    if rid.startswith("smp2020_usual") or "usual" in method:
        return "usual"
    if rid.startswith("smp2020_virus") or "virus" in method:
        return "virus"
    return "ws100k"


def rumour_source(row: dict[str, Any]) -> str:
    """``ma2016`` or ``ced``: the two source sets of the rumour data."""
    return str(row.get("id", "")).split("_", 1)[0]


# -- logistic regression ---------------------------------------------------------------------------------------
def fit_logistic(rows: Sequence[Sequence[str]], y: np.ndarray, sample_weight: np.ndarray | None = None,
                 l2: float = 1e-5, iters: int = 300, lr: float = 0.05, min_df: int = 2,
                 max_features: int = 400_000, norm: str = "none",
                 log: Callable[[str], None] | None = None) -> LinearModel:
    """Full-batch Adam on the L2-regularised log loss over binary n-gram presence features."""
    df: Counter[str] = Counter()
    for r in rows:
        df.update(set(r))
    vocab = [f for f, c in df.most_common(max_features) if c >= min_df]
    index = {f: i for i, f in enumerate(vocab)}
    d = len(vocab)
    cols: list[int] = []
    starts: list[int] = []
    sizes: list[int] = []
    for r in rows:
        starts.append(len(cols))
        sizes.append(len(set(r)))
        cols.extend(i for i in {index.get(f) for f in r} if i is not None)
        cols.append(d)  # pad column (kept at zero)
    cols_a = np.asarray(cols, dtype=np.int64)
    starts_a = np.asarray(starts, dtype=np.int64)
    lens = np.diff(np.append(starts_a, len(cols_a)))
    row_of = np.repeat(np.arange(len(rows)), lens)
    scale = 1.0 / np.sqrt(np.maximum(np.asarray(sizes, dtype=np.float64), 1.0)) if norm == "l2" else np.ones(len(rows))
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones(len(rows)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw = sw / sw.sum()
    w = np.zeros(d + 1)
    b = 0.0
    m_w, v_w = np.zeros(d + 1), np.zeros(d + 1)
    m_b = v_b = 0.0
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        z = np.add.reduceat(w[cols_a], starts_a) * scale + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        g = sw * (p - y)
        gw = np.bincount(cols_a, weights=(g * scale)[row_of], minlength=d + 1) + l2 * w
        gw[d] = 0.0
        gb = g.sum()
        m_w = b1 * m_w + (1 - b1) * gw
        v_w = b2 * v_w + (1 - b2) * gw * gw
        m_b = b1 * m_b + (1 - b1) * gb
        v_b = b2 * v_b + (1 - b2) * gb * gb
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        w -= lr * (m_w / c1) / (np.sqrt(v_w / c2) + eps)
        b -= lr * (m_b / c1) / (np.sqrt(v_b / c2) + eps)
        if log and (t % 50 == 0 or t == iters):
            loss = -np.sum(sw * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))
            log(f"  iter {t}: loss {loss:.4f}")
    return LinearModel(vocab, w[:d], b, {"norm": norm})


def prune(model: LinearModel, max_features: int, min_abs: float = 1e-3) -> LinearModel:
    """Keep the ``max_features`` largest-magnitude weights (the shipped file must stay small)."""
    w = model.w[: model.pad]
    order = np.argsort(-np.abs(w))[:max_features]
    order = order[np.abs(w[order]) >= min_abs]
    inv = {i: f for f, i in model.index.items()}
    return LinearModel([inv[i] for i in order], w[order], model.bias, model.meta)


# -- feature extraction shared with the runtime --------------------------------------------------------------
def sentiment_features(seg: Segmenter, text: str) -> list[str]:
    return ngram_features(seg.parse(text).features)


def rumour_features(seg: Segmenter, cues: Any, text: str) -> list[str]:
    p = seg.parse(text)
    return ngram_features(p.features) + char_ngrams(p.text) + cues.features(p.text)


# -- sentiment ---------------------------------------------------------------------------------------------
SENT_GROUP_WEIGHT = {"usual": 6.0, "virus": 3.0, "ws100k": 1.0}


def sentiment_training_rows(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str, int, str]]:
    """(id, text, y, group) for the pos/neg rows that are not held out; ws100k rows also appear emoticon-stripped."""
    out = []
    for r in rows:
        if r.get("label") not in ("pos", "neg") or is_held_out(str(r["id"])):
            continue
        g = sentiment_group(r)
        y = 1 if r["label"] == "pos" else 0
        out.append((str(r["id"]), r["text"], y, g))
        stripped = strip_emoticons(r["text"])
        if stripped != r["text"] and stripped.strip():
            out.append((str(r["id"]) + "#noemo", stripped, y, g))
    return out


def calibrate_neutral_band(scores: np.ndarray, labels: Sequence[str]) -> tuple[float, float]:
    """The band (lo, hi) around 0.5 that maximises macro-F1 of pos/neg/neutral on the given rows."""
    best = (0.0, 0.5, 0.5)
    labels_a = np.asarray(labels)
    for lo in np.arange(0.20, 0.51, 0.02):
        for hi in np.arange(0.50, 0.81, 0.02):
            pred = np.where(scores >= hi, "pos", np.where(scores < lo, "neg", "neutral"))
            f1s = []
            for c in ("pos", "neg", "neutral"):
                tp = np.sum((pred == c) & (labels_a == c))
                fp = np.sum((pred == c) & (labels_a != c))
                fn = np.sum((pred != c) & (labels_a == c))
                f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
            f = float(np.mean(f1s))
            if f > best[0]:
                best = (f, float(lo), float(hi))
    return round(best[1], 2), round(best[2], 2)


def train_sentiment(data_dir: Path = DEFAULT_DATA_DIR, out: Path | None = None, iters: int = 300,
                    max_features: int = 150_000, log: Callable[[str], None] = print) -> Path:
    seg = Segmenter().ensure_loaded()
    rows = read_jsonl(Path(data_dir) / "sentiment_dev.jsonl")
    train = sentiment_training_rows(rows)
    log(f"sentiment: {len(train)} training rows (incl. emoticon-stripped copies), "
        f"{sum(1 for r in rows if is_held_out(str(r['id'])))} held-out rows never used")
    feats = [sentiment_features(seg, t) for _, t, _, _ in train]
    y = np.array([r[2] for r in train])
    sw = np.array([SENT_GROUP_WEIGHT[r[3]] for r in train])
    model = prune(fit_logistic(feats, y, sw, l2=1e-4, iters=iters, log=log), max_features)
    # neutral band on the training SMP rows (human labels incl. neutral)
    cal = [r for r in rows if sentiment_group(r) != "ws100k" and not is_held_out(str(r["id"]))]
    scores = model.predict_proba([sentiment_features(seg, r["text"]) for r in cal])
    lo, hi = calibrate_neutral_band(scores, [r["label"] for r in cal])
    counts = Counter(r[3] for r in train if not r[0].endswith("#noemo"))
    model.meta.update({"task": "sentiment", "neutral_band": [lo, hi], "features": "jieba uni+bigrams incl. emoticons",
                  "trained_rows": dict(counts), "augmented_rows": len(train), "split_seed": SPLIT_SEED,
                  "held_out": f"sha1(seed:id) % {HELD_OUT_BUCKETS} == 0", "date": _dt.date.today().isoformat(),
                  "source": "sentiment_dev.jsonl (weibo_senti_100k dev+test, SMP2020-EWECT usual+virus)"})
    out = Path(out or RESOURCES / "sentiment.json.gz")
    model.save(out)
    log(f"wrote {out} ({out.stat().st_size // 1024} KB, {model.pad} features, neutral band {lo}..{hi})")
    return out


# -- rumour ------------------------------------------------------------------------------------------------
def train_rumour_model(seg: Segmenter, cues: Any, rows: Sequence[dict[str, Any]], iters: int = 300,
                       max_features: int = 150_000, calibrate_folds: int = 5, log: Callable[[str], None] | None = None) -> LinearModel:
    """Fit on ``rows`` (text only: the date and repost count are never features)."""
    feats = [rumour_features(seg, cues, r["text"]) for r in rows]
    y = np.array([1 if r["label"] == "rumour" else 0 for r in rows])
    fit = lambda X, yy: fit_logistic(X, yy, l2=1e-5, iters=iters, min_df=1, norm="l2")  # noqa: E731
    threshold = 0.5
    if calibrate_folds:
        # choose the F1-best threshold on out-of-fold scores, then shift the bias so that it sits at 0.5
        fold = np.array([int(hashlib.sha1(f"thr:{r['id']}".encode()).hexdigest(), 16) % calibrate_folds for r in rows])
        oof = np.zeros(len(rows))
        for k in range(calibrate_folds):
            tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            oof[te] = fit([feats[i] for i in tr], y[tr]).predict_proba([feats[i] for i in te])
        best = (-1.0, 0.5)
        for thr in np.arange(0.15, 0.66, 0.025):
            pred = oof >= thr
            tp = float(np.sum(pred & (y == 1)))
            f1 = 2 * tp / max(1.0, float(pred.sum() + y.sum()))
            best = max(best, (f1, float(thr)))
        threshold = best[1]
        if log:
            log(f"  out-of-fold F1 {best[0]:.3f} at threshold {threshold:.3f}: bias shifted to put it at 0.5")
    model = prune(fit(feats, y), max_features)
    model.bias -= math.log(threshold / (1 - threshold))
    model.meta["calibrated_threshold"] = round(threshold, 3)
    return model


def train_rumour(data_dir: Path = DEFAULT_DATA_DIR, out: Path | None = None, iters: int = 300,
                 log: Callable[[str], None] = print) -> Path:
    from .rumour import CueLexicon

    seg = Segmenter().ensure_loaded()
    cues = CueLexicon()
    rows = read_jsonl(Path(data_dir) / "rumour_dev.jsonl")
    train = [r for r in rows if not is_held_out(str(r["id"]))]
    log(f"rumour: {len(train)} training rows, {len(rows) - len(train)} held out")
    model = train_rumour_model(seg, cues, train, iters=iters, log=log)
    model.meta.update({"task": "rumour", "features": "jieba uni+bigrams, char bigrams, cue lexicon; no date, no repost count",
                  "trained_rows": dict(Counter(rumour_source(r) + ":" + r["label"] for r in train)),
                  "split_seed": SPLIT_SEED, "held_out": f"sha1(seed:id) % {HELD_OUT_BUCKETS} == 0",
                  "date": _dt.date.today().isoformat(), "source": "rumour_dev.jsonl (Ma et al. 2016, CED)"})
    out = Path(out or RESOURCES / "rumour.json.gz")
    model.save(out)
    log(f"wrote {out} ({out.stat().st_size // 1024} KB, {model.pad} features)")
    return out


# -- IDF prior ---------------------------------------------------------------------------------------------
def train_idf(data_dir: Path = DEFAULT_DATA_DIR, out: Path | None = None, min_df: int = 3,
              log: Callable[[str], None] = print) -> Path:
    """Document frequencies over every text of the development data (unsupervised: no labels are used)."""
    from .keywords import build_idf_prior

    seg = Segmenter().ensure_loaded()
    toks = []
    for name in ("sentiment_dev.jsonl", "rumour_dev.jsonl"):
        toks.extend(seg.parse(r["text"]).tokens for r in read_jsonl(Path(data_dir) / name))
    out = build_idf_prior(toks, out or RESOURCES / "idf_prior.json.gz", min_df=min_df)
    log(f"wrote {out} ({Path(out).stat().st_size // 1024} KB) from {len(toks)} documents")
    return Path(out)
