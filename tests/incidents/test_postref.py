"""Manual 立案 takes a platform link or id (or the desk's own id) and finds the post; an unknown one is refused
with the reason, never an empty incident."""

from __future__ import annotations

import pytest

from opinion_desk.incidents.postref import bid_to_mid, mid_to_bid, parse
from opinion_desk.state.incidents import Incident
from tests.incidents.conftest import index, make_post

API = "/api/v1/incidents"


def test_weibo_bid_is_the_mid_in_base62():
    # a real pair from the Weibo API (shared/data/formats/weibo): mid 4645748019299849 = bid Kjc77D1jz
    assert bid_to_mid("Kjc77D1jz") == "4645748019299849"
    assert mid_to_bid("4645748019299849") == "Kjc77D1jz"
    assert parse("https://weibo.com/1234567890/Kjc77D1jz?type=comment").ids[0] == "4645748019299849"
    assert parse("m.weibo.cn/status/4645748019299849").ids[0] == "4645748019299849"
    assert parse("https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab&chksm=x#rd").kind == "wechat"


def test_open_by_platform_links_and_ids(app, login_as):
    duty = login_as("duty")
    wb, wx, other = index(app, [
        make_post(1, "青山县人民路积水", source="weibo-search", source_id="4645748019299849"),
        make_post(2, "关于人民路积水的情况说明", source="wechat-feeds", platform="wechat",
                  source_id="https://mp.weixin.qq.com/s?__biz=MzA&mid=2650&idx=1&sn=abc"),
        make_post(3, "人民路积水，车辆熄火", source="push-weibo", source_id="4649031014551911"),
    ])
    refs = ["https://weibo.com/1234567890/Kjc77D1jz",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=2650&idx=1&sn=abc&chksm=zz&scene=21#wechat_redirect",
            "4649031014551911", wb]
    r = duty.post(API, json={"title": "人民路积水", "post_ids": "\n".join(refs)})
    assert r.status_code == 201, r.get_json()
    assert sorted(p["id"] for p in r.get_json()["posts"]) == sorted([wb, wx, other])


def test_unknown_reference_is_refused_with_the_reason(app, login_as):
    duty = login_as("duty")
    index(app, [make_post(1, "青山县人民路积水", source_id="4645748019299849")])
    r = duty.post(API, json={"title": "人民路积水", "post_ids": ["https://weibo.com/1234567890/KkBtUx2dv", "p9"]})
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert "未立案" in err and "找不到帖子「https://weibo.com/1234567890/KkBtUx2dv」" in err
    assert "微博 mid 4649106427873349" in err and "找不到帖子「p9」" in err
    with app.desk.state.session_scope() as s:
        assert s.query(Incident).count() == 0  # never an empty incident


@pytest.mark.elasticsearch
def test_resolve_on_elasticsearch(es_url):
    """The same lookups on the Elasticsearch store (sources from a terms aggregation, posts by id)."""
    from opinion_desk.incidents.postref import resolve
    from opinion_desk.store.elastic import ElasticStore
    from tests.conftest import free_port

    store = ElasticStore([es_url], index_prefix=f"t-postref-{free_port()}")
    try:
        wb, wx = make_post(1, "人民路积水", source="weibo-search", source_id="4645748019299849"), \
            make_post(2, "情况说明", source="wechat-feeds", platform="wechat",
                      source_id="https://mp.weixin.qq.com/s/AbCdEf")
        assert store.index([wb, wx]).indexed == 2
        store.refresh()
        found, problems = resolve(store, ["https://weibo.com/123/Kjc77D1jz", "mp.weixin.qq.com/s/AbCdEf", wb.id])
        assert problems == [] and sorted(p.id for p in found) == sorted([wb.id, wx.id])
        found, problems = resolve(store, ["4649106427873349"])
        assert found == [] and "在 2 个信息源中没有找到" in problems[0]
    finally:
        store.delete_all()
        store.close()
