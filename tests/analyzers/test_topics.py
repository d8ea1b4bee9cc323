"""Topic clustering: the contract, run against both implementations, and the two held equal on real posts."""

from __future__ import annotations

import json

import pytest

from analyzers import Analyzer, topics
from analyzers.topics import PyTopicClusterer, TopicClusterer

from .conftest import SHARED

IMPLS = [PyTopicClusterer, TopicClusterer]
SMALL = {"max_topics": 300, "recent_hashes": 500, "max_terms": 6, "postings": 2}  # eviction, pruning, rebuilds


def test_the_compiled_clusterer_is_built():
    assert topics.COMPILED, ("analyzers._topics was not built (no C compiler?): install gcc and rerun "
                             "`pip install -e .`; the pure-Python reference gives the same results, more slowly")


@pytest.mark.parametrize("cls", IMPLS)
def test_topics_incremental_and_state(cls):
    tc = cls(threshold=0.3)
    t1, lab = tc.assign("a", 0, [("暴雨", 2.0), ("郑州", 1.5), ("地铁", 1.0)])
    t2, _ = tc.assign("b", 0, [("暴雨", 2.0), ("郑州", 1.0)])
    t3, _ = tc.assign("c", 0, [("熊猫", 2.0), ("动物园", 1.0)])
    assert t1 == t2 != t3 and lab == "暴雨/郑州/地铁" and len(tc) == 2
    tc2 = cls(threshold=0.3)
    tc2.load_state(json.loads(json.dumps(tc.state())))
    assert tc2.assign("d", 0, [("暴雨", 1.0), ("郑州", 1.0)])[0] == t1
    assert tc.assign("e", 0, []) == ("", "") and tc.assign("f", 0, [("x", 0.0)]) == ("", "")
    assert tc.label(t3) == "熊猫/动物园" and tc.label("t-unknown") == ""


@pytest.mark.parametrize("cls", IMPLS)
def test_a_near_duplicate_joins_its_topic_without_shared_words(cls):
    tc = cls()
    tid, _ = tc.assign("a", 0xFFFF_0000_1234_5678, [("暴雨", 1.0)])
    assert tc.assign("b", 0xFFFF_0000_1234_5670, [("熊猫", 1.0)])[0] == tid  # 1 bit apart
    assert tc.assign("c", 0x0000_FFFF_1234_5678, [("动物园", 1.0)])[0] != tid  # 32 bits apart


@pytest.mark.parametrize("cls", IMPLS)
def test_topic_ids_are_stable_and_never_collide(cls):
    a, b = cls(), cls()
    ta = a.assign("post-1", 0, [("暴雨", 1.0)])[0]
    assert ta == b.assign("post-1", 0, [("暴雨", 1.0)])[0] == topics.new_topic_id("post-1")
    assert a.assign("post-1", 0, [("熊猫", 1.0)])[0] not in ("", ta)  # same post id, another topic: a fresh id


@pytest.mark.parametrize("cls", IMPLS)
def test_bad_state_is_refused_and_leaves_no_half_state(cls):
    tc = cls()
    tc.assign("a", 0, [("暴雨", 1.0)])
    dup = {"topics": [["t1", {"暴雨": 1.0}, 1, 1, "暴雨"], ["t1", {}, 1, 2, ""]]}
    with pytest.raises(ValueError, match="t1"):
        tc.load_state(dup)
    assert len(tc) == 0 and tc.assign("b", 0, [("暴雨", 1.0)])[0]


def test_the_compiled_clusterer_refuses_bad_keywords_by_position():
    tc = TopicClusterer()
    with pytest.raises(TypeError, match="keyword 1"):
        tc.assign("a", 0, [("暴雨", 1.0), (3, 1.0)])
    with pytest.raises(TypeError, match="keyword 0"):
        tc.assign("a", 0, [("暴雨",)])
    assert len(tc) == 0


def _stream(n: int) -> list[tuple[str, int, list[tuple[str, float]]]]:
    """(post id, SimHash, keywords) as the pipeline hands them to the clusterer, for real posts when present."""
    texts: list[str] = []
    path = SHARED / "sentiment_dev.jsonl"
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for _, line in zip(range(n), f)]
    from .conftest import HERE

    with open(HERE / "fixtures" / "posts.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f]
    texts += texts[: len(texts) // 4]  # reposts: near-duplicates of earlier posts
    posts = [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)]
    a = Analyzer().load()
    partials = a.analyze_stateless(posts)
    kws = a.keywords.extract_prepared(partials.prep, [r["tokens"] for r in partials])
    return [(r["id"], h, list(k)) for r, h, k in zip(partials, partials.hashes, kws) if r["tokens"]]


@pytest.mark.parametrize("opts", [{}, SMALL], ids=["defaults", "small-caps"])
def test_the_compiled_clusterer_equals_the_reference(opts):
    stream = _stream(4000)
    half = len(stream) // 2
    results = []
    for cls in (PyTopicClusterer, TopicClusterer):
        tc = cls(**opts)
        first = [tc.assign(*x) for x in stream[:half]]
        restored = cls(**opts)
        restored.load_state(json.loads(json.dumps(tc.state())))
        rest = [tc.assign(*x) for x in stream[half:]]
        after_load = [restored.assign(*x) for x in stream[half:]]
        results.append((first, rest, after_load, tc.state(), restored.state()))
    py, c = results
    for name, a, b in zip(("first half", "second half", "after load_state", "state", "restored state"), py, c):
        assert a == b, name
    assert len({t for t, _ in py[0] + py[1]}) > 50  # the stream forms many topics, not one
