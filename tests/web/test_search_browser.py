"""检索, 帖子详情 and 事件传播路径 in Chromium: the search with filters finds the demo's 东河桥 and 园区爆炸 posts, a
feed item opens its detail page, the detail page shows the archived evidence, the event page draws its graph.
Screenshots: tests/artifacts/search_*.png, post_detail_*.png, event_*.png."""

from __future__ import annotations

import pytest

from tests.web.desk_posts import seed

pytestmark = pytest.mark.browser


@pytest.fixture
def posts(app, analyzer):
    return seed(app, analyzer)


def test_search_post_and_event(posts, live_server, page, artifacts):
    pg = page
    seen: list[str] = []  # CSP refusals and script errors on any of these pages
    pg.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    # the dashboard's search box leads to the 检索 page
    pg.goto(live_server + "/")
    pg.fill(".dash-search input[name=q]", "东河桥")
    pg.click(".dash-search button[type=submit]")
    pg.wait_for_selector("body[data-searched='1']")
    items = pg.locator("#search-results li.post")
    assert items.count() == 1 and "青山县东河桥出现裂缝" in items.first.inner_text()
    pg.screenshot(path=str(artifacts / "search_bridge_1366.png"), full_page=True)

    # 园区爆炸 with filters: platform 微博, author type 普通用户, sorted by reach
    pg.fill("#q", "园区爆炸")
    pg.select_option("select[name=platform]", "weibo")
    pg.wait_for_url("**platform=weibo**")
    pg.wait_for_selector("body[data-searched='1']")
    pg.select_option("select[name=author_type]", "user")
    pg.wait_for_url("**author_type=user**")
    pg.wait_for_selector("body[data-searched='1']")
    pg.select_option("select[name=sort]", "reach")
    pg.wait_for_url("**sort=reach**")
    pg.wait_for_selector("body[data-searched='1']")
    texts = items.all_inner_texts()
    assert len(texts) == 2 and all("园区附近刚才发生爆炸" in t for t in texts), texts
    assert "传播量 1280" in texts[0] and "传播量 860" in texts[1]  # the event's first post, then the demo's
    assert "q=%E5%9B%AD%E5%8C%BA%E7%88%86%E7%82%B8" in pg.get_attribute("#search-export", "href")
    pg.screenshot(path=str(artifacts / "search_filters_1366.png"), full_page=True)

    # the detail page of the event's first post: evidence and its hash, the event link
    pg.click(f"#search-results li[data-id='{posts['first'].id}'] a.detail")
    pg.wait_for_selector("#post-evidence .capture")
    ev = pg.inner_text("#post-evidence")
    from opinion_desk.collectors.evidence import digest

    assert digest(posts["first"].raw) in ev and "校验一致" in ev and '"mid": "5100"' in ev
    assert pg.get_attribute("#orig-link", "href") == "https://weibo.com/7000000002/5100"
    assert "谣言" in pg.inner_text("#post-analysis")
    pg.wait_for_function("document.querySelectorAll('#attach-incident option').length >= 1 && "
                         "!document.querySelector('#attach-incident').textContent.includes('加载中')")
    pg.screenshot(path=str(artifacts / "post_detail_1366.png"), full_page=True)

    # its event: the propagation graph is drawn
    pg.click("#post-event a")
    pg.wait_for_selector("body[data-drawn='1']")
    assert int(pg.get_attribute("#propagation-graph", "data-nodes")) == 8  # 7 posts and one chain node
    assert int(pg.get_attribute("#propagation-graph", "data-edges")) == 7
    assert pg.locator("#propagation-graph canvas").count() >= 1
    assert pg.locator("#propagation-time canvas").count() >= 1
    assert "城东居民" in pg.inner_text("#event-first")
    assert pg.locator("#spreaders tbody tr").first.inner_text().startswith("青山县应急管理局")
    pg.wait_for_timeout(1500)  # let the force layout settle for the screenshot
    pg.screenshot(path=str(artifacts / "event_1366.png"), full_page=True)

    # an analysed complaint says why it is negative
    wages = next(p for p in posts["demo"] if "拖欠工资" in p.text)
    pg.goto(f"{live_server}/posts/{wages.id}")
    assert "偏负面的词" in pg.inner_text("#post-analysis")
    pg.screenshot(path=str(artifacts / "post_reasons_1366.png"), full_page=True)

    # 立案 from the post page opens the new incident
    pg.goto(f"{live_server}/posts/{posts['blast'].id}")
    pg.click("#open-incident")
    pg.wait_for_url("**/incidents/*")
    assert "城东化工园区附近刚才发生爆炸" in pg.content()
    assert [m for m in seen if "Content Security Policy" in m or "Refused to" in m or m.startswith("pageerror")] == []


def test_feed_item_links_to_its_detail(posts, live_server, page):
    page.goto(live_server + "/")
    link = page.locator(f"#feed li[data-id='{posts['bridge'].id}'] a.text")
    link.wait_for()
    link.click()
    page.wait_for_url(f"**/posts/{posts['bridge'].id}")
    assert "青山县东河桥出现裂缝" in page.inner_text("#post-text")
