"""Events: reposts and replies with their original, //@ chains, shared links, then content (issue 13)."""

from __future__ import annotations

import pickle

from analyzers import Analyzer
from analyzers.events import EventGrouper, refs_of


def test_reposts_join_their_original_whatever_they_say():
    a = Analyzer()
    anns = a.analyze([
        {"id": "r", "mid": "M1", "text": "紧急扩散！青山水库今晚泄洪，下游赶紧转移"},
        {"id": "x", "mid": "M2", "repost_of": "M1", "text": "转发微博"},
        {"id": "y", "mid": "M3", "repost_of": "M1", "reply_to": "M2", "text": ""},  # empty: no topic, still the event
        {"id": "z", "mid": "M4", "text": "今天的晚霞真好看[哈哈]"},
    ])
    by = {x.id: x for x in anns}
    assert by["r"].event_id and by["x"].event_id == by["r"].event_id == by["y"].event_id
    assert by["y"].error == "empty text"
    assert by["z"].event_id != by["r"].event_id
    assert by["r"].event_label


def test_a_repost_seen_before_its_original_founds_the_same_event():
    a = Analyzer()
    first = a.analyze([{"id": "x", "mid": "M2", "repost_of": "M1", "text": "真的假的？"}])[0]
    orig = a.analyze([{"id": "r", "mid": "M1", "text": "网传明天全县停课，转起来"}])[0]
    assert orig.event_id == first.event_id


def test_weibo_chain_and_shared_link_join_the_original():
    a = Analyzer()
    anns = a.analyze([
        {"id": "r", "text": "县医院新门诊楼下月启用，挂号方式有变化"},
        {"id": "c", "text": "终于！//@某网友: 县医院新门诊楼下月启用，挂号方式有变化"},
        {"id": "u1", "text": "看这个 http://t.cn/A6abcdE"},
        {"id": "u2", "text": "完全不同的话 http://t.cn/A6abcdE"},
    ])
    by = {x.id: x for x in anns}
    assert by["c"].event_id == by["r"].event_id
    assert by["u1"].event_id == by["u2"].event_id != by["r"].event_id


def test_event_ids_are_stable_across_a_saved_state(tmp_path):
    a = Analyzer()
    e1 = a.analyze([{"id": "r", "mid": "M1", "text": "紧急扩散！青山水库今晚泄洪"}])[0].event_id
    path = a.save_state(tmp_path / "s.json.gz")
    b = Analyzer(state_path=str(path))
    assert b.analyze([{"id": "x", "repost_of": "M1", "text": "转发"}])[0].event_id == e1
    info = b.events.info(e1)
    assert info["size"] == 2 and info["first_post"] == "r"
    c = pickle.loads(pickle.dumps(b))
    assert c.events.info(e1)["size"] == 2


def test_grouper_memory_is_bounded():
    g = EventGrouper(max_events=100, max_keys=300)
    for i in range(2000):
        g.assign(f"p{i}", refs_of({"mid": f"m{i}", "text": f"帖子{i}号的内容足够长"}), [], "", "")
    assert len(g) <= 110 and len(g.keys) <= 300
