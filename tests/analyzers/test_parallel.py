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


def test_keyword_preparation_travels_between_processes_and_matches_post_by_post():
    import pickle

    from analyzers.keywords import LONG_TEXT_CHARS, KeywordExtractor, prepare

    long = ["暴雨", "地铁", "停运", "救援", "暴雨", "救援", "地铁"] * 30
    lists = [["通报", "今天", "#暴雨#"], [], long, ["。", "1", "a"] * 9, ["爆炸", "通报", "爆炸"], long[:40]]
    lens = [30, 0, LONG_TEXT_CHARS, LONG_TEXT_CHARS, 20, LONG_TEXT_CHARS]
    one = KeywordExtractor(prior_path="/nonexistent")
    expected = []
    for toks, n in zip(lists, lens):
        if toks:
            one.observe(toks)
        expected.append(one.extract(toks, n) if toks else [])
    batch = KeywordExtractor(prior_path="/nonexistent")
    prep = pickle.loads(pickle.dumps(prepare(lists, lens)))  # as a worker sends it
    assert batch.extract_prepared(prep, lists) == expected
    assert batch.state() == one.state()
    assert KeywordExtractor(prior_path="/nonexistent").extract_batch(lists, lens) == expected
    # a long text whose candidates never co-occur falls back to TF-IDF, then against the table after the batch
    odd = [["暴雨"] * 60, ["通报", "今天"]]
    ref = KeywordExtractor(prior_path="/nonexistent")
    got = KeywordExtractor(prior_path="/nonexistent").extract_prepared(prepare(odd, [LONG_TEXT_CHARS, 9]), odd)
    assert got == ref.extract_batch(odd, [LONG_TEXT_CHARS, 9]) and got[0][0][0] == "暴雨"


def test_partials_pickle_and_plain_records_finish_alike(fixture_posts):
    import pickle

    posts = _posts(fixture_posts, 3)
    serial = [a.to_dict() for a in Analyzer().analyze(posts)]
    a = Analyzer()
    parts = pickle.loads(pickle.dumps(a.analyze_stateless(posts)))
    assert [x.to_dict() for x in a.finish(parts)] == serial
    plain = []  # records as older callers build them: no defaults, integer simhash, text_len
    for rec, h in zip(Analyzer().analyze_stateless(posts), parts.hashes):
        d = {k: v for k, v in rec.items() if v not in ([], "", None) or k in ("id", "tokens")}
        plain.append({**d, "simhash": h, "text_len": len(posts[len(plain)].get("text") or "")})
    assert [x.to_dict() for x in Analyzer().finish(plain)] == serial


def test_ramped_first_chunk_keeps_order_and_results(fixture_posts):
    posts = _posts(fixture_posts, 40)
    serial = [a.to_dict() for a in Analyzer().analyze(posts)]
    assert [a.to_dict() for a in Analyzer().analyze_parallel(posts, workers=2, chunk_size=100)] == serial


def test_this_process_shares_the_work_in_slices_and_the_order_holds(fixture_posts):
    posts = _posts(fixture_posts, 150)  # chunks of 300: this process takes slices of 64 whenever the pool is behind
    serial = [a.to_dict() for a in Analyzer().analyze(posts)]
    seen: list[int] = []
    got = [a.to_dict() for a in Analyzer().analyze_parallel(posts, workers=2, chunk_size=300, progress=seen.append)]
    assert got == serial and sum(seen) == len(posts)
