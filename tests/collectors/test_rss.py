"""RSS/Atom collector against a local site serving feeds in the real formats (GB2312 gov feed, Atom news)."""

from __future__ import annotations

import pytest

from opinion_desk.errors import CollectorError
from tests.collectors.standins import Reply, fixture_reply, make

GOV_HTML = "text/html"  # the gov article page declares gbk only in its <meta>


@pytest.fixture
def gov(site):
    site.routes["/rss.xml"] = fixture_reply("gov_rss_gb2312.xml", "text/xml")  # no charset: the XML decl says gb2312
    site.routes["/zwgk/tzgg/202406/t20240618_1001.html"] = fixture_reply("gov_article_gbk.html", GOV_HTML)
    site.routes["/zwgk/tzgg/202406/t20240616_0999.html"] = fixture_reply("gov_article_gbk.html", GOV_HTML)
    return site


def test_gb2312_feed_with_relative_links_odd_dates_entities_and_duplicates(gov):
    c = make("rss", url=gov.url + "/rss.xml", region="某某县", author_type="gov")
    res = c.collect({})
    posts = {p.url: p for p in res.posts}
    # the repeated item (same link, no guid) is taken once
    assert len(res.posts) == 3
    water = posts[gov.url + "/zwgk/tzgg/202406/t20240618_1001.html"]
    assert water.title == "关于县城区临时停水的通知"
    # the summary ended in "…": the full article was fetched from the GBK page, boilerplate left out
    assert "东大街、人民路沿线区域暂停供水" in water.text and "版权所有" not in water.text
    assert "0000-1234567" in water.text
    # "2018-09-18 14:38:10"-style dates are China Standard Time
    assert water.created_at.isoformat() == "2024-06-18T06:38:10+00:00"
    assert water.author == "县水务局" and water.region == "某某县" and water.author_type == "gov"
    assert water.raw["entry"]["title"] == "关于县城区临时停水的通知" and "article_html" in water.raw
    # HTML entities in the title
    health = posts[gov.url + "/zwgk/tzgg/202406/t20240617_1000.html"]
    assert health.title == '县卫健委"健康义诊"进乡村活动 & 通知'
    # its article page is gone (404): the feed's summary is kept and the run notes it
    assert "健康义诊进乡村" in health.text and health.raw["article_error"]
    assert any("t20240617_1000" in n for n in res.notes)
    # a link relative to the feed URL; no date: first seen, and marked
    flood = posts[gov.url + "/zwgk/tzgg/202406/t20240616_0999.html"]
    assert flood.time_unknown is True


def test_cursor_skips_seen_items_across_runs(gov):
    c = make("rss", url=gov.url + "/rss.xml", fetch_full="never")
    first = c.collect({})
    assert len(first.posts) == 3
    again = c.collect(first.cursor)
    assert again.posts == []
    assert again.cursor["seen"] == first.cursor["seen"]


def test_atom_content_is_used_without_fetching(site):
    site.routes["/atom.xml"] = fixture_reply("news_atom.xml", "application/atom+xml; charset=utf-8")
    c = make("rss", url=site.url + "/atom.xml", keywords=["化工厂"])
    res = c.collect({})
    assert [p.title for p in res.posts] == ["化工厂附近居民反映异味 县生态环境局回应"]
    p = res.posts[0]
    assert p.text.startswith("近日，有居民反映化工厂附近出现刺鼻异味。") and "<p>" not in p.text
    assert p.author == "本报记者 王某" and p.created_at.isoformat() == "2024-06-18T07:30:00+00:00"
    assert site.paths() == ["/atom.xml"]  # the content was long enough: no article fetch


def test_malformed_feed_fails_the_run_with_the_reason(site):
    site.routes["/bad.xml"] = fixture_reply("malformed.xml", "application/rss+xml")
    c = make("rss", name="bad-feed", url=site.url + "/bad.xml")
    with pytest.raises(CollectorError) as e:
        c.collect({})
    assert e.value.source == "bad-feed" and "malformed feed" in str(e.value) and "line" in str(e.value)


def test_html_instead_of_a_feed_fails(site):
    site.routes["/notfeed"] = Reply(200, "<html><body>网站维护中</body></html>".encode(), {"Content-Type": "text/html"})
    with pytest.raises(CollectorError, match="not an RSS or Atom feed|malformed"):
        make("rss", url=site.url + "/notfeed").collect({})


def test_http_error_and_hanging_site_fail_with_the_reason(site):
    site.routes["/gone.xml"] = Reply(503, b"busy", {"Content-Type": "text/plain"})
    with pytest.raises(CollectorError, match="HTTP 503"):
        make("rss", url=site.url + "/gone.xml").collect({})
    site.routes["/slow.xml"] = Reply(200, b"<rss>" + b" " * 200 + b"</rss>", {"Content-Type": "text/xml"}, trickle=0.05)
    with pytest.raises(CollectorError, match="cut off|timed out"):
        make("rss", url=site.url + "/slow.xml", timeout=0.5).collect({})
