from __future__ import annotations

import pickle
import re

import analyzers
from analyzers import Analyzer, Annotation

FIELDS = {"id", "tokens", "keywords", "sentiment", "sentiment_label", "simhash", "topic_id", "topic_label",
          "event_id", "event_label", "rumour_score", "rumour_cues", "rumour_reasons", "complaint_score", "hashtags",
          "mentions", "emoticons", "links", "error"}


def test_annotation_contract(analyzer, fixture_posts):
    anns = analyzer.analyze(fixture_posts)
    assert [a.id for a in anns] == [p["id"] for p in fixture_posts]
    for a in anns:
        assert isinstance(a, Annotation)
        d = a.to_dict()
        assert set(d) == FIELDS
        assert 0.0 <= a.sentiment <= 1.0 and 0.0 <= a.rumour_score <= 1.0
        assert a.sentiment_label in ("pos", "neg", "neutral")
        assert re.fullmatch(r"[0-9a-f]{16}", a.simhash)
    by = {a.id: a for a in anns}
    assert by["p1"].hashtags == ["#河南暴雨#"] and by["p1"].mentions == ["@人民日报"]
    assert by["p1"].links == ["http://t.cn/A6PG1gGq"] and by["p1"].emoticons == ["[泪]"]
    assert "暴雨" in by["p1"].tokens and by["p1"].keywords and by["p1"].topic_id
    assert {"网传", "紧急扩散", "转疯了", "求证"} <= set(by["p2"].rumour_cues)
    assert by["p2"].rumour_score > by["p3"].rumour_score
    assert by["p3"].sentiment_label == "pos"


def test_bad_input_is_annotated_not_raised(analyzer):
    posts = [{"id": "e", "text": ""}, {"id": "n", "text": None}, {"id": "i", "text": 42}, {"id": "l", "text": "http://t.cn/x"},
             {"id": "s", "text": "坏\ud800字符 暴雨"}, {"id": "big", "text": "暴雨来了。" * 20_000}, "not a mapping",
             {"id": "emo", "text": "[哈哈]"}, {"id": "trad", "text": "網傳國務院發布緊急通知"}]
    anns = analyzer.analyze(posts)
    by = {a.id: a for a in anns}
    assert by["e"].error == "empty text" and by["n"].error and "not a string" in by["i"].error
    assert by["l"].error and by["l"].links == ["http://t.cn/x"]
    assert by["s"].error is None and "暴雨" in by["s"].tokens
    assert by["big"].error is None and by["big"].keywords
    assert anns[6].error and "not a mapping" in anns[6].error
    assert by["emo"].error is None and by["emo"].emoticons == ["[哈哈]"] and by["emo"].sentiment > 0.5
    assert by["trad"].error is None and "网传" in by["trad"].rumour_cues and "国务院" in by["trad"].tokens
    import json
    for a in anns:
        json.dumps(a.to_dict(), ensure_ascii=False).encode("utf-8")  # always serialisable


def test_title_is_analysed(analyzer):
    a = analyzer.analyze([{"id": "t", "title": "情况通报", "text": "经核查，系谣言。"}])[0]
    assert "情况通报" in a.tokens


def test_module_aliases():
    a = analyzers.analyze([{"id": "x", "text": "暴雨预警"}])
    assert a[0].id == "x" and "暴雨预警" in a[0].tokens


def test_reposts_share_topic_and_near_simhash(analyzer):
    base = "【突发】某市化工园区发生爆炸，消防正在全力扑救，现场浓烟滚滚，周边居民已紧急疏散"
    anns = analyzer.analyze([{"id": "o1", "text": base}, {"id": "o2", "text": "转发 " + base + "！"},
                             {"id": "o3", "text": "今天去动物园看熊猫吃竹子，好可爱"}])
    h = [int(a.simhash, 16) for a in anns]
    assert (h[0] ^ h[1]).bit_count() <= 3
    assert anns[0].topic_id == anns[1].topic_id != anns[2].topic_id


def test_state_round_trip_keeps_topic_ids(tmp_path, fixture_posts):
    a = Analyzer()
    first = a.analyze(fixture_posts)
    path = a.save_state(tmp_path / "state.json.gz")
    b = Analyzer(state_path=str(path))
    again = b.analyze([{"id": "r" + p["id"], **{k: v for k, v in p.items() if k != "id"}} for p in fixture_posts])
    for x, y in zip(first, again):
        assert x.topic_id == y.topic_id
    assert b.keywords.n_docs == a.keywords.n_docs + len([x for x in again if x.tokens])


def test_pickle_and_parallel_match_serial(fixture_posts):
    a = Analyzer()
    a.analyze(fixture_posts[:2])
    b = pickle.loads(pickle.dumps(a))
    assert b.keywords.n_docs == a.keywords.n_docs
    posts = [{"id": f"{i}-{p['id']}", **{k: v for k, v in p.items() if k != "id"}} for i in range(30) for p in fixture_posts]
    serial = Analyzer().analyze(posts)
    par = list(Analyzer().analyze_parallel(posts, workers=2, chunk_size=50))
    assert [x.to_dict() for x in serial] == [x.to_dict() for x in par]
