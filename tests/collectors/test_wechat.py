"""WeChat official-account articles through a wewe-rss style bridge feed plus the article pages."""

from __future__ import annotations

from tests.collectors.standins import FIXTURES, Reply, fixture_reply, make


def test_bridge_feed_plus_article_pages(site):
    site.routes["/feeds/MP_WXS_3000000001.atom"] = fixture_reply("wewe_rss_feed.atom", "application/atom+xml; charset=utf-8")
    site.routes["/s/Xk2vLq8mTnRw0aBcDeF1gH"] = fixture_reply("wechat_article.html", "text/html; charset=utf-8")
    site.routes["/s/Zq9wErTy0uIoPaSdFgHj2k"] = fixture_reply("wechat_expired.html", "text/html; charset=utf-8")
    c = make("wechat", name="wx-county", url=site.url + "/feeds/MP_WXS_3000000001.atom")
    res = c.collect({})
    assert len(res.posts) == 2
    art, gone = res.posts
    assert art.platform == "wechat" and art.author == "某某县发布"
    assert art.title == "关于县城区临时停水的通知"
    assert "东大街、人民路沿线区域暂停供水" in art.text and "储水准备 & 合理安排生活" in art.text
    assert art.url == site.url + "/s/Xk2vLq8mTnRw0aBcDeF1gH"
    assert art.raw["biz"] == "MzAwMDAwMDAwMQ==" and "js_content" not in art.raw["article_html"]
    # the deleted article keeps the bridge's title, and the run says what happened
    assert gone.title == "防汛知识 & 安全提示" and gone.text == "防汛知识 & 安全提示"
    assert gone.raw["article_gone"] == "该内容已被发布者删除"
    assert any("该内容已被发布者删除" in n for n in res.notes)
    assert c.collect(res.cursor).posts == []


def test_wechat_feeds_bridge_rss(site, shared_dir):
    """The real wechat-feeds bridge output (read from ../shared, not copied into the repo)."""
    body = (shared_dir / "data/formats/wechat/wechat-feeds__renminribao_MjM5MjAxNDM4MA==.xml").read_bytes()
    site.routes["/rmrb.xml"] = Reply(200, body, {"Content-Type": "application/xml"})
    c = make("wechat", url=site.url + "/rmrb.xml", fetch_full="never")
    res = c.collect({})
    assert len(res.posts) == 13
    assert res.posts[0].author == "人民日报" and res.posts[0].title == "状态不错！"
    assert res.posts[0].created_at.isoformat() == "2021-06-17T02:43:35+00:00"


def test_article_parser_on_a_real_page(shared_dir):
    from opinion_desk.collectors.wechat import parse_article

    page = (shared_dir / "data/formats/wechat/wechatsogou__article_huashangbao_2018-04-06.html").read_text(encoding="utf-8")
    art = parse_article(page)
    assert art["nickname"] == "华商报" and art["title"] == "4月6日周五【新闻速览一分钟】"
    assert art["biz"] == "ODUzMjkwMzYx" and art["created_at"].timestamp() == 1522968980
    expired = (shared_dir / "data/formats/wechat/wechatsogou__article_expired.html").read_text(encoding="utf-8")
    assert parse_article(expired) == {"gone": "链接已过期"}
    assert (FIXTURES / "wechat_expired.html").exists()
