"""The sources page shows how many posts were refused for good (被拒帖子) and where they are kept (issue 15)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opinion_desk.models import Post

pytestmark = pytest.mark.browser


def test_refused_posts_are_counted_on_the_sources_page(app, live_server, page, artifacts):
    pipeline = app.desk.pipeline
    odd = [Post(source="rss-x", source_id=f"y{i}", text="来自未来", created_at=datetime(3000, 1, 1, tzinfo=timezone.utc))
           for i in range(3)]
    assert pipeline.process(odd).rejected == 3
    page.goto(live_server + "/sources")
    item = page.locator("#src-rejected")
    assert item.inner_text().replace("\n", "") == "被拒帖子3"
    assert "opinion-desk rejected retry" in item.get_attribute("title")
    assert "nz" in item.locator("b").get_attribute("class")
    page.screenshot(path=str(artifacts / "sources-rejected-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("#src-rejected").is_visible()
    page.screenshot(path=str(artifacts / "sources-rejected-390.png"), full_page=True)
