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


def test_an_official_notice_in_other_words_joins_the_rumour_it_answers():
    """The demo's 城南小学 food rumour and the 教育局 情况通报 landed in two events: the notice's top keywords are its
    formal words (不适、送检、抽样…), so the topic similarity missed it, though it names the school and the matter."""
    a = Analyzer()
    anns = a.analyze([
        {"id": "r", "text": "紧急扩散！听说城南小学食堂有学生吃坏肚子，好多家长都去学校了"},
        {"id": "o", "text": "今天去县图书馆新馆，环境真好，还有自习区，点赞"},
        {"id": "n", "text": "关于城南小学部分学生身体不适的情况通报：经初步调查，系个别学生肠胃不适，已送医观察，"
                            "均无大碍，食堂已暂停供餐并抽样送检。"},
        {"id": "x", "text": "城东化工园区刚才发生爆炸，浓烟很大，窗户都在震"},
        {"id": "y", "text": "【警情通报】城东某小区发生一起纠纷，一人受伤送医，涉事人员已被控制"},
    ])
    by = {x.id: x for x in anns}
    assert by["n"].topic_id != by["r"].topic_id  # the topics still differ: the event is what joins them
    assert by["n"].event_id == by["r"].event_id != by["o"].event_id
    assert by["y"].event_id != by["x"].event_id  # one shared word (城东) is not the same event
    assert a.events.info(by["r"].event_id)["size"] == 2


def test_anchors_survive_a_saved_state_and_stay_bounded(tmp_path):
    a = Analyzer()
    e = a.analyze([{"id": "r", "text": "紧急扩散！听说城南小学食堂有学生吃坏肚子，好多家长都去学校了"}])[0].event_id
    b = Analyzer(state_path=str(a.save_state(tmp_path / "s.json.gz")))
    n = b.analyze([{"id": "n", "text": "关于城南小学部分学生身体不适的情况通报：经初步调查，系个别学生肠胃不适，"
                                       "食堂已暂停供餐并抽样送检。"}])[0]
    assert n.event_id == e
    g = EventGrouper()
    for i in range(3 * 8):  # a term points at its 8 most recently founded events only
        g.assign(f"p{i}", refs_of({"text": f"帖子{i}"}), [], f"t{i}", "", keywords=["县城", f"词{i}", f"字{i}"])
    assert len(g.by_term["县城"]) == 8
    eid, _ = g.assign("q", refs_of({"text": "q"}), [], "tq", "", words=["县城", "词23", "字23"])
    assert eid == g.assign("p23", refs_of({"text": "帖子23"}), [], "t23", "")[0]
    eid0, _ = g.assign("q0", refs_of({"text": "q0"}), [], "tq0", "", words=["县城", "词0", "字0"])
    assert eid0 != g._get("c:t0")  # its anchors fell out of the 县城 posting; 2 of 3 named is not enough
