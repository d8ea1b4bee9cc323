"""The pages' scripts show times in the desk's zone (``[desk] timezone``, given to them in ``<meta name="desk-tz">``),
not the browser's: a desk on Asia/Tokyo opened in a browser set to Beijing time shows Tokyo times."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    app_config["desk"]["timezone"] = "Asia/Tokyo"
    return app_config


def test_feed_and_clock_in_the_desks_zone(live_server, page, ingest_headers):
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    assert page.evaluate("desk.tz") == "Asia/Tokyo"
    assert page.evaluate("desk.fmtTime('2026-11-10T01:00:00Z')") == "2026/11/10 10:00:00"
    assert page.locator("#clock").get_attribute("title") == "Asia/Tokyo 时间 UTC+09:00"
    item = {"id": "tz-1", "text": "东河桥检测结果公布", "author": "青山发布", "platform": "weibo",
            "created_at": "2026-11-10T01:00:00Z"}
    r = requests.post(live_server + "/api/v1/posts", json=[item], headers=ingest_headers, timeout=10)
    assert r.status_code == 202, r.text
    li = page.locator(f"#feed li[data-id='{r.json()['ids'][0]}']")
    li.wait_for(timeout=20000)
    assert li.locator(".time").inner_text() == "2026/11/10 10:00:00"
    assert "微博" in li.locator(".src").inner_text()
