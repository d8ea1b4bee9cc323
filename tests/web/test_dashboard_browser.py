"""The duty officer's view: Chromium opens the dashboard, a post comes in through the ingest API, and the
live feed shows it without a reload."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

pytestmark = pytest.mark.browser


def test_post_appears_live_on_dashboard(live_server, page, ingest_headers, artifacts):
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    assert page.title().startswith("实时监测")
    assert page.locator("#volume-chart canvas").count() == 1

    text = "青山县人民路积水严重，车辆熄火，请尽快排水 <script>alert(1)</script>"
    item = {"id": "browser-1", "text": text, "author": "热心市民", "created_at": datetime.now(timezone.utc).isoformat()}
    r = requests.post(live_server + "/api/v1/posts", json=[item], headers=ingest_headers, timeout=10)
    assert r.status_code == 202, r.text
    pid = r.json()["ids"][0]

    li = page.locator(f"#feed li[data-id='{pid}']")
    li.wait_for(timeout=20000)
    # post text is shown as text, never run as HTML
    assert li.locator(".text").inner_text() == text
    assert li.locator("script").count() == 0
    assert "热心市民" in li.inner_text()
    # the post's event, named as a rule's 对象 names it (query_key: topic is the event's label)
    assert li.locator(".topic").inner_text().startswith("事件：")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
