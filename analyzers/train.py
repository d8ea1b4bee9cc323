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

from .features import TokenHashes, featurize, first_occurrences, once_sums, save_sparse
from .linear import fit_hashed, strip_emoticons
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


def is_validation(row_id: str, buckets: int = 8) -> bool:
    """The validation rows carved from the *training* rows (for tuning; held-out rows are never looked at)."""
    h = hashlib.sha1(f"opinion-desk-val:{row_id}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") % buckets == 0


# -- features shared with the runtime --------------------------------------------------------------------------
def featurize_texts(seg: Segmenter, cues: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, buckets) of ``texts`` exactly as the runtime computes them (:func:`analyzers.features.featurize`)."""
    hashes = TokenHashes()
    rows_l, bk_l = [], []
    for i in range(0, len(texts), 4096):
        parsed = [seg.parse(t) for t in texts[i:i + 4096]]
        r, b = featurize(parsed, [cues.match(p.text) for p in parsed], cues.group, hashes)
        rows_l.append(r + i)
        bk_l.append(b)
    if not rows_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows_l), np.concatenate(bk_l)


def predict(model: tuple[np.ndarray, float], rows: np.ndarray, buckets: np.ndarray, n: int,
            norm: str = "none", once: bool = False) -> np.ndarray:
    """P(positive) as the runtime computes it (:class:`analyzers.features.HashedModels`)."""
    w, b = model
    if once:
        z, cnt = once_sums(rows, buckets, n, w)
    else:
        z, cnt = np.bincount(rows, weights=w[buckets], minlength=n), np.bincount(rows, minlength=n)
    if norm == "l2":
        z = z / np.sqrt(np.maximum(cnt, 1.0))
    return 1.0 / (1.0 + np.exp(-np.clip(z + b, -30, 30)))


def _subset(rows: np.ndarray, buckets: np.ndarray, idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The features of rows ``idx`` (renumbered 0..len(idx)-1)."""
    new = np.full(n, -1, dtype=np.int64)
    new[idx] = np.arange(len(idx))
    m = new[rows] >= 0
    return new[rows[m]], buckets[m]


# -- sentiment ---------------------------------------------------------------------------------------------
SENT_GROUP_WEIGHT = {"usual": 6.0, "virus": 3.0, "ws100k": 1.0}
SENT_L2_GRID = (1e-6, 3e-6, 1e-5)
SENT_NORM = "l2"  # margins divided by sqrt(#features): +1.3 points mean validation accuracy over "none"
SENT_LR = 0.01


def sentiment_training_rows(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str, int, str]]:
    """(id, text, y, group) for the pos/neg rows that are not held out; rows with emoticons also appear with every
    emoticon stripped, so the model cannot lean on emoticons alone (weibo_senti_100k labels came from them)."""
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


BALANCE_SLACK = 0.05  # the pos->neg rate may exceed the neg->pos rate by at most this much, in every group


def calibrate_neutral_band(scores: np.ndarray, labels: Sequence[str],
                           groups: Sequence[str] | None = None) -> tuple[float, float]:
    """The band (lo, hi) that maximises macro-F1 of pos/neg/neutral on the given rows, among the bands whose errors
    are balanced in every group (positive posts called negative at most :data:`BALANCE_SLACK` more often than
    negative posts called positive; issue 13: everyday posts were biased negative). Without ``groups``, or when no
    band is balanced, the macro-F1 best."""
    best = (0.0, 0.5, 0.5)
    labels_a = np.asarray(labels)
    groups_a = np.asarray(groups) if groups is not None else None
    for balanced in ((True, False) if groups_a is not None else (False,)):
        best = _best_band(scores, labels_a, groups_a if balanced else None)
        if best[0] > 0:
            break
    return round(best[1], 2), round(best[2], 2)


def _best_band(scores: np.ndarray, labels_a: np.ndarray, groups_a: np.ndarray | None) -> tuple[float, float, float]:
    best = (0.0, 0.5, 0.5)
    for lo in np.arange(0.10, 0.51, 0.02):
        for hi in np.arange(0.50, 0.81, 0.02):
            pred = np.where(scores >= hi, "pos", np.where(scores < lo, "neg", "neutral"))
            if groups_a is not None and any(
                    np.mean(pred[(groups_a == g) & (labels_a == "pos")] == "neg")
                    - np.mean(pred[(groups_a == g) & (labels_a == "neg")] == "pos") > BALANCE_SLACK
                    for g in set(groups_a.tolist())):
                continue
            f1s = []
            for c in ("pos", "neg", "neutral"):
                tp = np.sum((pred == c) & (labels_a == c))
                fp = np.sum((pred == c) & (labels_a != c))
                fn = np.sum((pred != c) & (labels_a == c))
                f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
            f = float(np.mean(f1s))
            if f > best[0]:
                best = (f, float(lo), float(hi))
    return best


def _shuffled(items: list[Any], seed: str) -> list[Any]:
    return sorted(items, key=lambda r: hashlib.md5(f"{seed}:{r[0]}".encode()).digest())


def train_sentiment(data_dir: Path = DEFAULT_DATA_DIR, out: Path | None = None, epochs: int = 10,
                    max_features: int = 300_000, l2: float | None = None, log: Callable[[str], None] = print) -> Path:
    """Tune L2 on a validation split of the training rows, calibrate the neutral band there, refit on all of them."""
    from .rumour import CueLexicon

    seg, cues = Segmenter().ensure_loaded(), CueLexicon()
    rows = read_jsonl(Path(data_dir) / "sentiment_dev.jsonl")
    train = _shuffled(sentiment_training_rows(rows), "sent")
    log(f"sentiment: {len(train)} training rows (incl. emoticon-stripped copies), "
        f"{sum(1 for r in rows if is_held_out(str(r['id'])))} held-out rows never used")
    n = len(train)
    fr, fb = featurize_texts(seg, cues, [t for _, t, _, _ in train])
    y = np.array([r[2] for r in train], dtype=np.float64)
    sw = np.array([SENT_GROUP_WEIGHT[r[3]] for r in train])
    val = np.array([is_validation(r[0].split("#")[0]) for r in train])
    tr_i, va_i = np.flatnonzero(~val), np.flatnonzero(val)
    tr_r, tr_b = _subset(fr, fb, tr_i, n)
    va_r, va_b = _subset(fr, fb, va_i, n)
    grid = (l2,) if l2 is not None else SENT_L2_GRID
    best = (-1.0, grid[0], None)
    groups = np.array([r[3] + ("/noemo" if r[0].endswith("#noemo") else "") for r in train])[va_i]
    for lam in grid:
        mdl = fit_hashed(tr_r, tr_b, y[tr_i], sw[tr_i], l2=lam, epochs=epochs, lr=SENT_LR, norm=SENT_NORM)
        p = predict(mdl, va_r, va_b, len(va_i), norm=SENT_NORM)
        accs = {g: float(np.mean((p[groups == g] >= 0.5) == (y[va_i][groups == g] == 1))) for g in
                ("usual", "virus", "ws100k/noemo")}
        score = float(np.mean(list(accs.values())))
        log(f"  l2 {lam:g}: validation accuracy " + ", ".join(f"{g} {a:.4f}" for g, a in accs.items()))
        if score > best[0]:
            best = (score, lam, mdl)
    lam, tuned = best[1], best[2]
    # neutral band: validation SMP rows incl. neutral, scored by the tuning model that did not see them
    cal = [r for r in rows if sentiment_group(r) != "ws100k" and not is_held_out(str(r["id"]))
           and is_validation(str(r["id"]))]
    cr, cb = featurize_texts(seg, cues, [r["text"] for r in cal])
    lo, hi = calibrate_neutral_band(predict(tuned, cr, cb, len(cal), norm=SENT_NORM), [r["label"] for r in cal],
                                    [sentiment_group(r) for r in cal])
    log(f"  chose l2 {lam:g}; neutral band {lo}..{hi}; refitting on all {n} training rows")
    w, b = fit_hashed(fr, fb, y, sw, l2=lam, epochs=epochs, lr=SENT_LR, norm=SENT_NORM)
    counts = Counter(r[3] for r in train if not r[0].endswith("#noemo"))
    meta = {"task": "sentiment", "neutral_band": [lo, hi], "norm": SENT_NORM, "l2": lam, "epochs": epochs,
            "lr": SENT_LR,
            "features": "NB-weighted hashed word uni+bigrams, char 1-3-grams, cue features (emoticons as words)",
            "trained_rows": dict(counts), "augmented_rows": n, "group_weights": SENT_GROUP_WEIGHT,
            "split_seed": SPLIT_SEED, "held_out": f"sha1(seed:id) % {HELD_OUT_BUCKETS} == 0",
            "date": _dt.date.today().isoformat(),
            "source": "sentiment_dev.jsonl (weibo_senti_100k dev+test, SMP2020-EWECT usual+virus)"}
    out = Path(out or RESOURCES / "sentiment.npz")
    kept = save_sparse(out, w, b, meta, max_features)
    log(f"wrote {out} ({out.stat().st_size // 1024} KB, {kept} weights, neutral band {lo}..{hi})")
    return out


# -- rumour ------------------------------------------------------------------------------------------------
RUMOUR_L2 = 1e-5
# each feature counted once per post, no NB scaling: 5-fold CV F1 on training rows 0.844 against 0.833 for the
# sentiment recipe (term counts, NB-scaled); see resources/PROVENANCE.md
RUMOUR_ONCE = True
RUMOUR_NB = False


def train_rumour_model(seg: Segmenter, cues: Any, rows: Sequence[dict[str, Any]], epochs: int = 30,
                       l2: float = RUMOUR_L2, calibrate_folds: int = 5, log: Callable[[str], None] | None = None
                       ) -> tuple[np.ndarray, float, float]:
    """Fit on ``rows`` (text only: the date and repost count are never features). Returns (weights, bias,
    threshold), the bias already shifted so that the out-of-fold F1-best threshold sits at 0.5."""
    rows = _shuffled([(str(r["id"]), r) for r in rows], "rum")
    rows = [r for _, r in rows]
    n = len(rows)
    fr, fb = featurize_texts(seg, cues, [r["text"] for r in rows])
    if RUMOUR_ONCE:
        keep = first_occurrences(fr, fb, n)
        fr, fb = fr[keep], fb[keep]
    y = np.array([1.0 if r["label"] == "rumour" else 0.0 for r in rows])
    fit = lambda r, b, yy: fit_hashed(r, b, yy, l2=l2, epochs=epochs, batch=128, nb=RUMOUR_NB,  # noqa: E731
                                      norm="l2")
    threshold = 0.5
    if calibrate_folds:
        fold = np.array([int(hashlib.sha1(f"thr:{r['id']}".encode()).hexdigest(), 16) % calibrate_folds for r in rows])
        oof = np.zeros(n)
        for k in range(calibrate_folds):
            tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            m = fit(*_subset(fr, fb, tr, n), y[tr])
            oof[te] = predict(m, *_subset(fr, fb, te, n), len(te), norm="l2")
        best = (-1.0, 0.5)
        for thr in np.arange(0.15, 0.66, 0.025):
            pred = oof >= thr
            tp = float(np.sum(pred & (y == 1)))
            f1 = 2 * tp / max(1.0, float(pred.sum() + y.sum()))
            best = max(best, (f1, float(thr)))
        threshold = best[1]
        if log:
            log(f"  out-of-fold F1 {best[0]:.3f} at threshold {threshold:.3f}: bias shifted to put it at 0.5")
    w, b = fit(fr, fb, y)
    return w, b - math.log(threshold / (1 - threshold)), threshold


def train_rumour(data_dir: Path = DEFAULT_DATA_DIR, out: Path | None = None, epochs: int = 30,
                 log: Callable[[str], None] = print) -> Path:
    from .rumour import CueLexicon

    seg = Segmenter().ensure_loaded()
    cues = CueLexicon()
    rows = read_jsonl(Path(data_dir) / "rumour_dev.jsonl")
    train = [r for r in rows if not is_held_out(str(r["id"]))]
    log(f"rumour: {len(train)} training rows, {len(rows) - len(train)} held out")
    w, b, thr = train_rumour_model(seg, cues, train, epochs=epochs, log=log)
    meta = {"task": "rumour", "norm": "l2", "count": "once" if RUMOUR_ONCE else "tf", "nb": RUMOUR_NB,
            "l2": RUMOUR_L2, "epochs": epochs, "calibrated_threshold": round(thr, 3),
            "features": "hashed word uni+bigrams, char 1-3-grams, cue lexicon, each once per post"
                        + (", NB-weighted" if RUMOUR_NB else "") + "; no date, no repost count",
            "trained_rows": dict(Counter(rumour_source(r) + ":" + r["label"] for r in train)),
            "split_seed": SPLIT_SEED, "held_out": f"sha1(seed:id) % {HELD_OUT_BUCKETS} == 0",
            "date": _dt.date.today().isoformat(), "source": "rumour_dev.jsonl (Ma et al. 2016, CED)"}
    out = Path(out or RESOURCES / "rumour.npz")
    kept = save_sparse(out, w, b, meta, 200_000)
    log(f"wrote {out} ({out.stat().st_size // 1024} KB, {kept} weights)")
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
