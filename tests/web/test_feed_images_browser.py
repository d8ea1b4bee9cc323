"""A notice posted as a picture shows in the live feed as （图片） with a link per picture (named by its alt text),
and a post without a date of its own is flagged 时间未知: at 1366 px and 390 px, with no CSP violation."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_pictures_and_flags_in_the_feed(live_server, page, ingest_headers, artifacts, width):
    page.set_viewport_size({"width": width, "height": 900})
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    now = datetime.now(timezone.utc).isoformat()
    items = [{"id": f"pic-{width}", "text": "", "author": "某某县应急管理局", "created_at": now,
              "images": [{"url": "https://wx1.sinaimg.cn/large/006abc301a.jpg", "alt": "转移安置点分布图"},
                         {"url": "https://wx1.sinaimg.cn/large/006abc301b.jpg", "alt": ""}]},
             {"id": f"undated-{width}", "text": "东大街桥下积水很深", "author": "路人乙", "created_at": now,
              "time_unknown": True}]
    r = requests.post(live_server + "/api/v1/posts", json=items, headers=ingest_headers, timeout=10)
    assert r.status_code == 202, r.text
    pic, undated = r.json()["ids"]
    li = page.locator(f"#feed li[data-id='{pic}']")
    li.wait_for(timeout=20000)
    assert li.locator(".text").inner_text() == "（图片）"
    links = li.locator(".images a.image")
    assert links.all_inner_texts() == ["图1：转移安置点分布图", "图2"]
    assert links.first.get_attribute("href") == "https://wx1.sinaimg.cn/large/006abc301a.jpg"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    flag = page.locator(f"#feed li[data-id='{undated}'] .tag.flag")
    flag.wait_for(timeout=20000)
    assert flag.inner_text() == "时间未知"
    box = li.bounding_box()
    assert box is not None and box["width"] <= width
    page.screenshot(path=str(artifacts / f"feed_images_{width}.png"), full_page=False)
    assert violations == []


def test_a_javascript_picture_link_is_refused(client, ingest_headers):
    r = client.post("/api/v1/posts", json=[{"id": "x1", "text": "", "created_at": "2024-06-18T10:00:00+08:00",
                                            "images": [{"url": "javascript:alert(1)"}]}], headers=ingest_headers)
    body = r.get_json()
    assert body.get("accepted", 0) == 0 and "images[0]" in str(body), body
