"""Every page at 1366 px and at 390 px (a phone): no horizontal scrolling (``document.scrollingElement.scrollWidth
<= window.innerWidth``). Screenshots: tests/artifacts/width_<page>_<width>.png."""

from __future__ import annotations

import pytest

from tests.web.desk_posts import EVENT, seed

pytestmark = pytest.mark.browser

HEIGHTS = {1366: 900, 390: 844}


@pytest.fixture
def pages(app, analyzer, client):
    from datetime import datetime, timezone

    from opinion_desk.state.alerts import Alert

    posts = seed(app, analyzer)
    t = datetime.now(timezone.utc)
    with app.desk.state.session_scope() as s:  # a long alert row, as the 告警 page shows them
        s.add(Alert(id="A-20261126-0001", rule="负面激增-城东化工园区及周边区域", rule_type="frequency", severity="critical",
                    key="城东化工园区附近刚才发生爆炸浓烟很大窗户都在震有没有人知道什么情况", status="open",
                    reason="10 分钟内负面信息 35 条，超过阈值 20 条（近 1 小时基线 3 条）", first_match=t, last_match=t,
                    created_at=t, count=35, post_ids=[posts["blast"].id], duty={}, channels=[], details={}))
    r = client.post("/api/v1/incidents", json={"title": "城东化工园区闪爆", "post_ids": [posts["blast"].id]})
    assert r.status_code == 201, r.get_json()
    return {"dashboard": "/", "alerts": "/alerts", "sources": "/sources", "incidents": "/incidents",
            "incident": f"/incidents/{r.get_json()['id']}", "search": "/search?q=%E5%9B%AD%E5%8C%BA%E7%88%86%E7%82%B8",
            "post": f"/posts/{posts['first'].id}", "event": f"/events/{EVENT}", "briefings": "/briefings",
            "account": "/account/password"}


@pytest.mark.parametrize("width", [1366, 390])
def test_no_page_scrolls_sideways(pages, live_server, browser, desk_cookie, artifacts, width):
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                              viewport={"width": width, "height": HEIGHTS[width]})
    ctx.add_cookies([{"name": "session", "value": desk_cookie, "domain": "127.0.0.1", "path": "/"}])
    pg = ctx.new_page()
    too_wide = {}
    try:
        for name, path in pages.items():
            pg.goto(live_server + path, wait_until="load")
            pg.wait_for_timeout(700)  # the pages fill themselves from the API
            got = pg.evaluate("""() => {
                const w = window.innerWidth, se = document.scrollingElement;
                const wide = [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > w + 1 && e.offsetParent !== null)
                    .slice(0, 6).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
                return {scroll: se.scrollWidth, inner: w, wide};
            }""")
            pg.screenshot(path=str(artifacts / f"width_{name}_{width}.png"), full_page=True)
            if got["scroll"] > got["inner"]:
                too_wide[name] = got
    finally:
        ctx.close()
    assert not too_wide, too_wide
