"""帖子详情's actions in Chromium: add the post to an open incident, then mark it as the incident's official answer
(refused with the reason until the incident is acknowledged). Screenshots: tests/artifacts/post_actions_*.png."""

from __future__ import annotations

import pytest

from tests.web.desk_posts import seed

pytestmark = pytest.mark.browser


@pytest.fixture
def posts(app, analyzer):
    return seed(app, analyzer)


def test_add_to_incident_and_official_answer(posts, live_server, page, client, artifacts):
    r = client.post("/api/v1/incidents", json={"title": "城东化工园区爆炸", "level": "一般",
                                               "post_ids": [posts["first"].id]})
    assert r.status_code == 201, r.get_json()
    iid = r.get_json()["id"]
    pg = page
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/posts/{posts['blast'].id}")
    pg.wait_for_selector(f"#attach-incident option[value='{iid}']", state="attached")
    pg.select_option("#attach-incident", str(iid))
    pg.click("#add-to-incident")
    pg.locator("#action-msg.ok", has_text="已加入事件").wait_for()
    got = client.get(f"/api/v1/incidents/{iid}").get_json()
    assert posts["blast"].id in [p["id"] for p in got["posts"]]
    pg.screenshot(path=str(artifacts / "post_actions_1366.png"), full_page=True)

    pg.click("#official-answer")  # not yet acknowledged: the reason is shown
    pg.locator("#action-msg.err", has_text="请先接警").wait_for()
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge", json={}).status_code == 200
    pg.click("#official-answer")
    pg.locator("#action-msg.ok", has_text="官方回应").wait_for(timeout=60_000)
    pubs = client.get(f"/api/v1/incidents/{iid}").get_json()["publications"]
    assert [(p["channel"], p["mode"], p["url"]) for p in pubs] == [("weibo", "manual", posts["blast"].url)]

    pg.set_viewport_size({"width": 390, "height": 844})
    pg.reload()
    pg.wait_for_selector("#attach-incident option[value]", state="attached")
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    pg.screenshot(path=str(artifacts / "post_actions_390.png"), full_page=True)
    assert errors == []
