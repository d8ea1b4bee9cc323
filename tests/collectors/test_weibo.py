"""Weibo collector against a strict local m.weibo.cn (mobile JSON, login cookie, since_id paging, long text)."""

from __future__ import annotations

import pytest

from opinion_desk.collectors.weibo import mblog_text
from opinion_desk.errors import CollectorError, SourceAuthError
from tests.collectors.conftest import WEIBO_COOKIE
from tests.collectors.standins import make


def timeline(weibo, cookie=WEIBO_COOKIE, **kw):
    return make("weibo", name="wb-county", credentials={"cookie": cookie}, mode="user", uids=["7000000001"],
                base_url=weibo.url, **kw)


def test_timeline_pages_long_text_reposts_and_counts(weibo):
    res = timeline(weibo).collect({})
    mids = [p.source_id for p in res.posts]
    # pinned post (old) is still taken on the first run; page 2 reached through since_id
    assert mids == ["4990000000000001", "4999000000000105", "4999000000000104", "4999000000000103",
                    "4999000000000102", "4999000000000101"]
    by = {p.source_id: p for p in res.posts}
    p1 = by["4999000000000105"]
    assert p1.text.startswith("#防汛# 【防汛提醒】") and "[加油]" in p1.text and "@某某县应急管理局" in p1.text
    assert "<" not in p1.text
    assert (p1.reposts, p1.comments, p1.likes) == (321, 12000, 1000000)
    assert p1.created_at.isoformat() == "2024-06-18T10:00:02+00:00"
    assert p1.author == "某某县发布" and p1.author_type == "gov" and p1.region == "河南" and p1.platform == "weibo"
    assert p1.url == "https://m.weibo.cn/detail/4999000000000105"
    assert p1.raw["mblog"]["bid"] == "NrA000105"
    long = by["4999000000000104"]  # isLongText: full text from statuses/extend, "全文" link gone
    assert "敬请谅解！" in long.text and "全文" not in long.text and long.comments == 655
    assert long.raw["extend"]["longTextContent"]
    rt = by["4999000000000103"]
    assert "//转发 @路人甲：化工厂附近有刺鼻气味" in rt.text and '"说是检修"' in rt.text
    assert "/statuses/extend?id=4999000000000104" in weibo.paths()
    for _path, headers in weibo.log:
        assert headers["cookie"] == WEIBO_COOKIE
    assert res.cursor["targets"] == {"uid:7000000001": "4999000000000105"}


def test_cursor_stops_at_known_posts(weibo):
    c = timeline(weibo)
    first = c.collect({})
    weibo.log.clear()
    again = c.collect(first.cursor)
    assert again.posts == []
    # page 1 only: the first non-pinned post is already known, so no paging and no long-text fetch
    assert [p.split("?")[0] for p in weibo.paths()] == ["/api/container/getIndex"]


def test_keyword_search_reads_card_groups(weibo):
    c = make("weibo", name="wb-search", credentials={"cookie": WEIBO_COOKIE}, mode="search",
             keywords=["化工厂"], base_url=weibo.url)
    res = c.collect({})
    assert [p.source_id for p in res.posts] == ["4999000000000201", "4999000000000199", "4999000000000105"]
    assert "containerid=100103type%3D61%26q%3D%E5%8C%96%E5%B7%A5%E5%8E%82" in weibo.log[0][0]
    s1, s2 = res.posts[0], res.posts[1]
    assert "网页链接(https://weibo.cn/sinaurl?u=https%3A%2F%2Fexample.com%2Fv%2F1)" in s1.text
    assert s1.author_type == "verified" and s2.author_type == "user" and "[吃惊]" in s2.text
    # page 2 is "这里还没有内容": the end, not an error
    again = c.collect(res.cursor)
    assert again.posts == []


@pytest.mark.parametrize("mode", ["json", "redirect"])
def test_expired_login_raises_an_auth_error(weibo, mode):
    weibo.login_mode = mode
    with pytest.raises(SourceAuthError) as e:
        timeline(weibo, cookie="SUB=_2A25expired").collect({})
    assert e.value.source == "wb-county" and "Cookie" in str(e.value)


def test_anti_crawl_wall_and_bad_json(weibo):
    weibo.blocked = True
    with pytest.raises(CollectorError, match="432"):
        timeline(weibo).collect({})
    weibo.blocked = False
    from tests.collectors.standins import Reply

    weibo.routes["/api/container/getIndex"] = Reply(200, b'{"ok":1,"data":{"cards":[{"card_type":9,',
                                                    {"Content-Type": "application/json"})
    with pytest.raises(CollectorError, match="not JSON"):
        timeline(weibo).collect({})


def test_a_post_with_an_unreadable_date_is_kept_and_marked(weibo):
    import json

    from tests.collectors.standins import FIXTURES, Reply

    page = json.loads((FIXTURES / "weibo_timeline_7000000001_p1.json").read_text(encoding="utf-8"))
    page["data"]["cards"][2]["mblog"]["created_at"] = "yesterday-ish"
    mid = page["data"]["cards"][2]["mblog"]["mid"]
    weibo.routes["/api/container/getIndex"] = Reply(200, json.dumps(page).encode(), {"Content-Type": "application/json"})
    res = timeline(weibo).collect({})
    bad = next(p for p in res.posts if p.source_id == mid)
    assert bad.time_unknown is True and "yesterday-ish" in " ".join(res.notes)
    assert all(not p.time_unknown for p in res.posts if p.source_id != mid)


def test_missing_cookie_is_an_option_problem():
    from opinion_desk.collectors.weibo import WeiboCollector

    probs = WeiboCollector.check_options({"mode": "user"}, {})
    assert ("uids", "mode 'user' 至少需要一个 uid") in probs
    assert any(f == "credentials" and "cookie" in r for f, r in probs)


def test_mblog_text():
    html = ('<a href="/n/张三">@张三</a> 说得对<span class="url-icon"><img alt="[哈哈]" src="x.png"></span><br />'
            '第二行 &amp; 更多 ...<a href="/status/123">全文</a>')
    assert mblog_text(html) == "@张三 说得对[哈哈]\n第二行 & 更多"
