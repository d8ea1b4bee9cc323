"""舆情简报 in Chromium at 1366 px and at 390 px (a phone): the list of briefings, the form making one for a time
range, and the briefing's own page, each without horizontal scrolling. Screenshots: tests/artifacts/briefings_*.png."""

from __future__ import annotations

from datetime import date

import pytest

from opinion_desk.briefings import period as P
from tests.briefings.conftest import BJ, briefings, seeded  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

WIDTHS = {1366: 900, 390: 844}


def _context(browser, cookie: str, width: int):
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                              viewport={"width": width, "height": WIDTHS[width]})
    ctx.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    return ctx


def no_horizontal_scroll(pg) -> None:
    over = pg.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
        return {scroll: document.documentElement.scrollWidth, width: w, wide};
    }""")
    assert over["scroll"] <= over["width"], over


@pytest.mark.parametrize("width", [1366, 390])
def test_briefings_page_and_report(app, seeded, briefings, live_server, browser, desk_cookie, artifacts, width):
    briefings.make(P.week(date(2026, 11, 24), BJ), "test-admin")
    briefings.make(P.day(date(2026, 11, 24), BJ), "system")
    ctx = _context(browser, desk_cookie, width)
    pg = ctx.new_page()
    try:
        pg.goto(live_server + "/briefings")
        rows = pg.locator("#brief-rows tbody tr")
        assert rows.count() == 2
        assert "舆情日报（2026年11月24日）" in rows.nth(0).inner_text()
        assert "定时生成" in rows.nth(0).inner_text()
        assert "2026-11-23 00:00 至 2026-11-30 00:00（北京时间）" in rows.nth(1).inner_text()
        no_horizontal_scroll(pg)
        pg.screenshot(path=str(artifacts / f"briefings_{width}.png"), full_page=True)

        # make one for an afternoon from the form
        pg.select_option("#make-form select[name=kind]", "range")
        pg.fill("#make-form input[name=from]", "2026-11-24")
        pg.fill("#make-form input[name=from_time]", "14:00")
        pg.fill("#make-form input[name=to]", "2026-11-24")
        pg.fill("#make-form input[name=to_time]", "18:00")
        pg.click("#make-form button[type=submit]")
        pg.wait_for_selector("#made")
        assert rows.count() == 3
        assert "舆情简报（2026年11月24日 14:00至2026年11月24日 18:00）" in rows.nth(0).inner_text()
        assert "测试管理员" in rows.nth(0).inner_text()  # who made it, by display name
        no_horizontal_scroll(pg)

        # the daily's own page, as the leader opens it
        href = rows.nth(1).locator("a", has_text="打开网页版").get_attribute("href")
        pg.goto(live_server + href)
        assert pg.locator(".mast").inner_text() == "舆情日报"
        assert "共监测到相关信息 128 条" in pg.locator("#overview").inner_text()
        assert pg.locator("img.chart").count() == 2
        assert pg.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert pg.locator("#events tbody tr").count() == 10
        assert pg.locator("#incidents td.res-missed").count() == 1
        no_horizontal_scroll(pg)
        pg.screenshot(path=str(artifacts / f"briefing_report_{width}.png"), full_page=True)
    finally:
        ctx.close()
