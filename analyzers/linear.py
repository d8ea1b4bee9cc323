"""Logistic regression over hashed features (:mod:`analyzers.features`), numpy only; used by training.

NB-weighted (Wang & Manning 2012): each feature is scaled by its naive-Bayes log-count ratio before the L2-regularised
logistic fit, and the scale is folded back into the weight, so the runtime model stays one weight per bucket.
"""

from __future__ import annotations

import math
import re
from typing import Callable

import numpy as np

from .features import N_BUCKETS

EMOTICON_RE = re.compile(r"\[[\w\u4e00-\u9fff ]{1,10}\]")


def strip_emoticons(text: str) -> str:
    """``text`` without ``[表情]`` emoticons (used to evaluate without the emoticons that made the labels)."""
    return EMOTICON_RE.sub("", text)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def nb_ratio(rows: np.ndarray, buckets: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratio per bucket (0 for buckets never seen)."""
    pos = np.bincount(buckets, weights=y[rows].astype(np.float64), minlength=N_BUCKETS)
    neg = np.bincount(buckets, weights=1.0 - y[rows], minlength=N_BUCKETS)
    r = np.log((pos + alpha) / (pos.sum() + alpha * N_BUCKETS)) - np.log((neg + alpha) / (neg.sum() + alpha * N_BUCKETS))
    r[(pos + neg) == 0] = 0.0
    return r


def fit_hashed(rows: np.ndarray, buckets: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
               l2: float = 1e-6, epochs: int = 8, batch: int = 512, lr: float = 0.02, nb: bool = True,
               norm: str = "none", seed: int = 0, log: Callable[[str], None] | None = None
               ) -> tuple[np.ndarray, float]:
    """Mini-batch Adam on the L2-regularised log loss. Returns (weight per bucket, bias), NB scale folded in."""
    n = len(y)
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw = sw / sw.mean()
    scale_f = nb_ratio(rows, buckets, y) if nb else np.ones(N_BUCKETS)
    order = np.argsort(rows, kind="stable")
    cols = buckets[order]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n))]
    cnt = np.diff(indptr).astype(np.float64)
    row_scale = 1.0 / np.sqrt(np.maximum(cnt, 1.0)) if norm == "l2" else np.ones(n)
    w = np.zeros(N_BUCKETS)
    m, v = np.zeros(N_BUCKETS), np.zeros(N_BUCKETS)
    b = mb = vb = 0.0
    b1, b2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(seed)
    t = 0
    for ep in range(epochs):
        starts = rng.permutation(np.arange(0, n, batch))
        for s0 in starts:
            s1 = min(n, s0 + batch)
            lo, hi = indptr[s0], indptr[s1]
            c = cols[lo:hi]
            ro = np.repeat(np.arange(s1 - s0), np.diff(indptr[s0:s1 + 1]))
            xv = scale_f[c]
            z = np.bincount(ro, weights=w[c] * xv, minlength=s1 - s0) * row_scale[s0:s1] + b
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
            g = sw[s0:s1] * (p - y[s0:s1]) / (s1 - s0)
            gw = np.bincount(c, weights=(g * row_scale[s0:s1])[ro] * xv, minlength=N_BUCKETS) + l2 * w
            gb = g.sum()
            t += 1
            m *= b1
            m += (1 - b1) * gw
            v *= b2
            v += (1 - b2) * gw * gw
            mb = b1 * mb + (1 - b1) * gb
            vb = b2 * vb + (1 - b2) * gb * gb
            c1, c2 = 1 - b1 ** t, 1 - b2 ** t
            w -= lr * (m / c1) / (np.sqrt(v / c2) + eps)
            b -= lr * (mb / c1) / (math.sqrt(vb / c2) + eps)
        if log:
            log(f"  epoch {ep + 1}/{epochs}")
    return w * scale_f, float(b)
