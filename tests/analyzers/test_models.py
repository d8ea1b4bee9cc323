from __future__ import annotations

import json

import numpy as np
import pytest

from analyzers.dedupe import SimHasher, hamming
from analyzers.keywords import KeywordExtractor
from analyzers.features import SparseModel, TokenHashes, batch_features, hash_tokens, save_sparse, token_hash
from analyzers.linear import fit_hashed, strip_emoticons
from analyzers.rumour import CueLexicon, RumourScorer
from analyzers.segmentation import Segmenter
from analyzers.sentiment import SentimentScorer
from analyzers.train import is_held_out, sentiment_group


def test_sentiment_direction_and_band():
    seg, s = Segmenter(), SentimentScorer()
    parsed = [seg.parse(t) for t in ("太好了，非常感谢，点赞！", "气死了，垃圾，太恶心了", "今天下午三点开会")]
    scores, labels = s.score_batch(parsed)
    assert scores[0] > 0.7 and scores[1] < 0.3
    assert labels[0] == "pos" and labels[1] == "neg"
    lo, hi = s.band
    assert 0 < lo <= 0.5 <= hi < 1
    assert s.model.meta["task"] == "sentiment" and "split_seed" in s.model.meta


def test_no_snownlp_on_runtime_path():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys, analyzers; analyzers.analyze([{'id':'1','text':'网传暴雨[哈哈]'}]); "
            "print(sorted(m for m in ('snownlp', 'sklearn', 'jieba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(root)},
                         check=True)
    assert "snownlp" not in out.stdout and "sklearn" not in out.stdout


def test_rumour_cues_and_score():
    cues = CueLexicon()
    assert cues.match("网传某地紧急扩散！据说转疯了，求证") == ["网传", "紧急扩散", "据说", "转疯了", "求证"]
    r, seg = RumourScorer(), Segmenter()
    scores, fired = r.score_batch([seg.parse("网传明天全城停水停电，紧急扩散！转给家人！"),
                                   seg.parse("市气象台今日发布天气预报，明天多云")])
    assert scores[0] > scores[1]
    assert "紧急扩散" in fired[0] and fired[1] == []
    assert "date" not in json.dumps(r.model.meta["features"]).replace("no date", "")


def test_simhash_near_duplicates():
    h = SimHasher()
    a = list("今天某市发生重大交通事故造成多人受伤目前伤者已送医救治")
    b = a + ["转发"]
    c = list("熊猫宝宝在动物园里吃竹子非常可爱游客纷纷拍照")
    ha, hb, hc = h.batch([a, b, c])
    assert hamming(ha, hb) <= 6 and hamming(ha, hc) >= 20  # one added token moves a few bits, another text ~32
    assert h.batch([[]]) == [0]
    assert SimHasher().one(a) == ha  # stable across instances (not Python's salted hash)


def test_keywords_learn_idf():
    kw = KeywordExtractor(prior_path="/nonexistent")
    for _ in range(50):
        kw.observe(["通报", "今天"])
    kw.observe(["爆炸", "通报", "今天"])
    assert kw.tfidf(["今天", "爆炸", "通报"], top_k=1)[0][0] == "爆炸"
    long = ["暴雨", "地铁", "停运", "救援", "暴雨", "救援", "地铁"] * 30
    assert {"暴雨", "地铁", "救援"} & {t for t, _ in kw.textrank(long, top_k=3)}


def test_hashed_model_roundtrip(tmp_path):
    h = TokenHashes()
    toks = [["好", "赞"], ["差", "烂"]] * 20
    rows, buckets = batch_features(toks, ["".join(t) for t in toks], h)
    w, b = fit_hashed(rows, buckets, np.array([1.0, 0.0] * 20), epochs=20, batch=8, lr=0.05)
    save_sparse(tmp_path / "m.npz", w, b, {"task": "test"})
    m = SparseModel.load(tmp_path / "m.npz")
    r2, b2 = batch_features([["好"], ["烂"], []], ["好", "烂", ""], h)
    p = m.proba(r2, b2, 3)
    assert p[0] > 0.5 > p[1] and abs(p[2] - 1 / (1 + np.exp(-m.bias))) < 1e-6
    assert m.meta["task"] == "test" and (tmp_path / "m.npz").stat().st_size < 10_000


def test_a_model_from_the_old_token_hash_is_refused_by_name(tmp_path):
    path = tmp_path / "old.npz"
    meta = json.dumps({"task": "rumour", "bits": 20, "format": "opinion-desk-hashed/1"})
    np.savez_compressed(path, idx=np.zeros(1, np.uint32), w=np.zeros(1, np.float16), bias=np.float64(0),
                        meta=np.array(meta))
    with pytest.raises(ValueError, match=r"old\.npz.*opinion-desk train rumour"):
        SparseModel.load(path)


def test_token_hashes_are_stable_and_batch_independent():
    toks = ["网传", "", "a", "ab", "ba", "暴雨" * 300, "\ud800x"]
    batch = hash_tokens(toks).tolist()
    assert batch == [token_hash(t) for t in toks] == TokenHashes().array(toks).tolist()
    assert len(set(batch)) == len(batch) and batch[1] == 0
    assert token_hash("网传") == 0xD1E16BD6BA6041CD  # a fixed value: models and SimHashes depend on it


def test_char_ngrams_never_span_two_posts():
    h = TokenHashes()
    _, alone = batch_features([[]], ["ab"], h)
    _, joined = batch_features([[], []], ["a", "b"], h)
    assert len(alone) == 3 and len(joined) == 2  # a, b, ab  vs  a | b


def test_split_and_groups():
    assert is_held_out("smp2020_usual_dev_1") == is_held_out("smp2020_usual_dev_1")
    frac = np.mean([is_held_out(f"id{i}") for i in range(5000)])
    assert 0.17 < frac < 0.23
    assert sentiment_group({"id": "smp2020_virus_dev_1", "label_method": "human (SMP2020-EWECT virus)"}) == "virus"
    assert sentiment_group({"id": "ws100k_dev_1", "label_method": "distant"}) == "ws100k"
    assert strip_emoticons("好[哈哈]呀[泪]") == "好呀"
