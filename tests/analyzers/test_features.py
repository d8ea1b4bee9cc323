"""Counting a feature once per post: the compiled first_occurrences and once_sums against their numpy references,
and the models that use them (``count: once`` in a model's meta)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyzers import features
from analyzers.features import (HashedModels, TokenHashes, _first_occurrences_np, _once_sums_np, batch_features,
                                first_occurrences, once_sums)

from .conftest import SHARED


def test_the_compiled_first_occurrences_is_built():
    assert features.COMPILED, ("analyzers._features was not built (no C compiler?): install gcc and rerun "
                               "`pip install -e .`; the numpy reference gives the same results, more slowly")


def _both(rows, buckets, n):
    rows, buckets = np.asarray(rows, dtype=np.int64), np.asarray(buckets, dtype=np.int64)
    got = first_occurrences(rows, buckets, n)
    assert got.dtype == bool and got.tolist() == _first_occurrences_np(rows, buckets, n).tolist()
    w = np.random.default_rng(len(rows)).standard_normal(int(buckets.max(initial=0)) + 1).astype(np.float32)
    sums, counts = once_sums(rows, buckets, n, w)
    ref_sums, ref_counts = _once_sums_np(rows, buckets, n, w)
    assert sums.tobytes() == ref_sums.tobytes() and counts.tolist() == ref_counts.tolist()  # bit for bit
    return got.tolist()


def test_the_first_of_each_pair_in_each_post_is_kept():
    # post 1 is empty; rows come in unsorted runs, as batch_features emits them (words, then characters, ...)
    rows = [0, 0, 2, 2, 0, 2, 0, 2, 3]
    buckets = [7, 9, 7, 7, 7, 9, 9, 9, 7]
    assert _both(rows, buckets, 4) == [True, True, True, False, False, True, False, False, True]
    assert _both([], [], 0) == [] and _both([], [], 3) == []


def test_compiled_equals_reference_on_random_pairs():
    rng = np.random.default_rng(7)
    for n, m, nb in ((1, 500, 3), (50, 5000, 40), (300, 20000, 1 << 20), (5, 3000, 2)):
        rows = rng.integers(0, n, m)
        buckets = rng.integers(0, nb, m)
        _both(rows, buckets, n)


def test_compiled_equals_reference_on_real_posts(fixture_posts):
    texts = [p["text"] for p in fixture_posts]
    path = SHARED / "sentiment_dev.jsonl"
    if path.is_file():  # ../shared where present: a few thousand real Weibo posts as well
        with open(path, encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for _, line in zip(range(3000), f)]
    toks = [list(t[:50]) for t in texts]
    rows, buckets = batch_features(toks, texts, TokenHashes())
    kept = _both(rows, buckets, len(texts))
    assert 0.5 < np.mean(kept) < 1.0  # posts repeat characters and words: some pairs go


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"rows\[1\] = 5 is outside 0\.\.1"):
        features._compiled.first_occurrences(np.array([0, 5]), np.array([1, 2]), 2)
    with pytest.raises(ValueError, match="differ in length"):
        features._compiled.first_occurrences(np.array([0, 1]), np.array([1]), 2)
    with pytest.raises(TypeError, match="int64"):
        features._compiled.first_occurrences(np.array([0, 1], dtype=np.int32), np.array([1, 2]), 2)
    with pytest.raises(ValueError, match="0..1"):
        _first_occurrences_np(np.array([0, 2]), np.array([1, 2]), 2)
    w = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"buckets\[1\] = 3 is outside the 3 weights"):
        features._compiled.once_sums(np.array([0, 1]), np.array([1, 3]), 2, w)
    with pytest.raises(TypeError, match="float32"):
        features._compiled.once_sums(np.array([0, 1]), np.array([1, 2]), 2, w.astype(np.float64))


def test_a_count_once_model_sums_each_feature_once():
    idx = np.array([3, 5])
    model = {"idx": idx, "w": np.array([1.0, 2.0], dtype=np.float32), "bias": 0.0, "meta": {"norm": "l2"}}
    once = dict(model, meta={"norm": "l2", "count": "once"})
    hm = HashedModels([model, once])
    rows, buckets = np.array([0, 0, 0, 1]), np.array([3, 3, 5, 5])
    m = hm.margins(rows, buckets, 2)
    assert m[0, 0] == pytest.approx((1 + 1 + 2) / np.sqrt(3))  # term counts
    assert m[0, 1] == pytest.approx((1 + 2) / np.sqrt(2))  # each bucket once, and the norm counts it once
    assert m[1].tolist() == pytest.approx([2.0, 2.0])
