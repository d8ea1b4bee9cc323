from __future__ import annotations

from analyzers import Analyzer
from analyzers.dedupe import SimHasher
from analyzers.features import token_hash


def _simhash_reference(tokens: list[str]) -> int:
    """SimHash bit by bit: bit i is set when more tokens have it set than not."""
    out = 0
    for i in range(64):
        votes = sum(1 if (token_hash(t) >> i) & 1 else -1 for t in tokens)
        if votes > 0:
            out |= 1 << i
    return out


def test_batched_simhash_equals_the_bitwise_definition():
    lists = [[], ["暴雨"], ["暴雨", "暴雨", "地铁"], list("今天某市发生重大交通事故"), ["a", "b"], []] * 3
    assert SimHasher().batch(lists) == [_simhash_reference(x) for x in lists]


def _posts(fixture_posts: list[dict], copies: int) -> list[dict]:
    return [{**p, "id": f"{i}-{p['id']}"} for i in range(copies) for p in fixture_posts]


def test_parallel_equals_sequential_and_workers_share_the_user_dict(tmp_path, fixture_posts):
    d = tmp_path / "extra.txt"
    d.write_text("值班台新词 1000 n\n", encoding="utf-8")
    posts = _posts(fixture_posts, 12) + [{"id": "u", "text": "值班台新词上线"}, {"id": "bad", "text": None}]
    serial = [a.to_dict() for a in Analyzer(str(d)).analyze(posts)]
    par = Analyzer(str(d))
    got = [a.to_dict() for a in par.analyze_parallel(posts, workers=2, chunk_size=17)]
    assert got == serial
    assert "值班台新词" in got[-2]["tokens"] and got[-1]["error"]
    assert par.keywords.n_docs == Analyzer(str(d)).load().keywords.n_docs + len([x for x in got if x["tokens"]])


def test_one_chunk_of_input_gives_the_same_annotations(fixture_posts):
    posts = _posts(fixture_posts, 2)
    serial = [a.to_dict() for a in Analyzer().analyze(posts)]
    assert [a.to_dict() for a in Analyzer().analyze_parallel(posts, workers=2)] == serial  # in-process path
    seen: list[int] = []
    assert [a.to_dict() for a in Analyzer().analyze_parallel(iter(posts), workers=2, chunk_size=5,
                                                             progress=seen.append)] == serial
    assert sum(seen) == len(posts)
