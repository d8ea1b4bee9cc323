"""The 告警 page's rule list on a fresh desk: a rule with a baseline says how much history it still needs
("基线数据不足，还需 X") instead of firing on an empty baseline; /api/v1/rules carries the same. Screenshots at
1366 and 390 px: tests/artifacts/rules_baseline_*.png."""

from __future__ import annotations


import pytest
from tests.conftest import write_rules

pytestmark = pytest.mark.browser

SURGE = "name: 负面情绪激增\ntype: sentiment_surge\ntimeframe: 10m\nreference: 6h\n"
WORDS = "name: 重点关注词\ntype: keyword\nfilter:\n  keywords: [爆炸]\n"


@pytest.fixture
def app_config(app_config):
    write_rules(app_config, {"10-surge.yaml": SURGE, "20-words.yaml": WORDS})
    return app_config


def test_fresh_rules_say_their_baseline_is_missing(app, live_server, page, artifacts) -> None:
    rules = {r["name"]: r for r in page.request.get(live_server + "/api/v1/rules").json()["rules"]}
    assert rules["负面情绪激增"]["baseline"]["message"] == "基线数据不足，还需 6小时10分钟"
    assert rules["重点关注词"]["baseline"] is None  # no baseline needed
    page.goto(live_server + "/alerts")
    item = page.locator("#rules li", has_text="负面情绪激增")
    item.wait_for(timeout=20000)
    assert "基线数据不足，还需 6小时10分钟" in item.inner_text()
    assert "基线" not in page.locator("#rules li", has_text="重点关注词").inner_text()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(artifacts / "rules_baseline_1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "rules_baseline_390.png"), full_page=True)
