"""Generic list pages (a GB2312 county forum): selectors, relative links, Chinese dates, pages, duplicates."""

from __future__ import annotations

import pytest

from opinion_desk.errors import CollectorError
from tests.collectors.standins import fixture_reply, make

HTML = "text/html"  # charset only in <meta>


@pytest.fixture
def forum(site):
    site.routes["/bbs/list.php"] = lambda path, q, h: fixture_reply(
        "forum_list_p2.html" if q.get("page") == ["2"] else "forum_list_p1.html", HTML)
    for t in ("thread-1", "thread-1003", "thread-1002", "thread-1001", "thread-999"):
        site.routes[f"/bbs/{t}.html"] = fixture_reply("forum_thread.html", HTML)
    return site


def test_list_pages_with_next_link_and_duplicates(forum):
    c = make("web", name="forum", url=forum.url + "/bbs/list.php", item="li.thread", title="a.t", link="a.t",
             time="span.date", summary="p.sum", next="a.next", pages=2, platform="forum", region="某某县")
    res = c.collect({})
    urls = [p.url for p in res.posts]
    assert urls == [forum.url + f"/bbs/{t}.html" for t in ("thread-1", "thread-1003", "thread-1002", "thread-1001",
                                                             "thread-999")]  # thread-1 on both pages: once
    by = {p.url.rsplit("/", 1)[1]: p for p in res.posts}
    assert by["thread-1003.html"].title == "化工厂附近的异味到底什么时候能解决&谁来管？"
    assert by["thread-1003.html"].created_at.isoformat() == "2024-06-18T11:20:00+00:00"
    assert by["thread-1003.html"].text == "楼主：这个问题已经持续一周了，希望有关部门重视。\n\n附图见下 >>"
    assert by["thread-1003.html"].raw["summary"] == "住在东大街的居民反映…"
    assert by["thread-1001.html"].raw["time_found"] is False  # no date on the list: first seen
    assert by["thread-1.html"].title == "【置顶】版规：文明发帖"
    assert res.posts[0].platform == "forum" and res.posts[0].region == "某某县"
    assert c.collect(res.cursor).posts == []


def test_layout_change_fails_the_run(forum):
    c = make("web", url=forum.url + "/bbs/list.php", item="div.post-item", fetch_full=False)
    with pytest.raises(CollectorError, match="no item matches selector 'div.post-item'"):
        c.collect({})
