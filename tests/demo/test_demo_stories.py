"""The demo's stories (opinion_desk/demo/posts.jsonl) through the real desk with the shipped rules, as
`opinion-desk demo` replays them (issue 13, check 2): alerts at varied levels (一般/较大/重大), no rumour alert on a
complaint, every rumour resolved (已平息) by its official post, the school-closure rumour one alert."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from analyzers import Analyzer
from opinion_desk import create_app, stop_background
from opinion_desk.collectors.base import SourceSpec
from opinion_desk.collectors.replay import ReplayCollector
from tests.conftest import ensure_user, login_client, make_test_config

RULES = Path(__file__).resolve().parents[2] / "rules"
LOOPS = 3  # the file three times over, as about 3 minutes of `opinion-desk demo`


@pytest.fixture
def alerts(tmp_path):
    app = create_app(make_test_config(tmp_path, rules={"dir": str(RULES)}), analyzer_factory=lambda: Analyzer())
    try:
        replay = ReplayCollector(SourceSpec(name="demo", type="replay", options={"batch": 2}))
        cursor: dict = {}
        for _ in range(LOOPS * len(replay.items) // 2):
            got = replay.collect(cursor)
            cursor = got.cursor
            app.desk.pipeline.process(got.posts)
        assert cursor == {"line": len(replay.items), "loop": LOOPS - 1}
        client = login_client(app, ensure_user(app, "admin"))
        yield client.get("/api/v1/alerts?limit=500").get_json()["alerts"]
    finally:
        stop_background(app)
        app.desk.close()


def by_rule(alerts: list[dict], rule: str) -> list[dict]:
    return [a for a in alerts if a["rule"] == rule]


def test_the_demo_alerts_at_varied_levels_and_its_rumours_calm_down(alerts):
    rumours = by_rule(alerts, "疑似谣言扩散")
    levels = {a["key"]: a["severity"] for a in rumours}
    # three rumours, one alert each, whatever the loops: 泄洪 (1,200 reposts at once) 重大, the 城南小学 food rumour
    # (5 posts, 46 reposts at most) 较大, the 停课 rumour caught early (5 posts, 15 reposts) 一般
    assert len(rumours) == 3, [(a["key"], a["reason"]) for a in rumours]
    assert sorted(levels.values()) == ["high", "low", "medium"]
    by_story = {next(w for w in ("泄洪", "城南", "停课") if w in a["key"] + a["reason"]): a for a in rumours}
    assert (by_story["泄洪"]["severity"], by_story["城南"]["severity"], by_story["停课"]["severity"]) == (
        "high", "medium", "low")
    # each resolved by its official post (平息, the answer named)
    answers = {"泄洪": "青山县应急管理局", "城南": "青山县教育局", "停课": "青山县教育局"}
    for story, a in by_story.items():
        assert a["status"] == "resolved", (story, a)
        assert a["details"]["resolved_by"] == "official_answer" and a["details"]["answer"]["author"] == answers[story]
    # no rumour alert on a complaint (诉求): its posts are 投诉、求助、反映问题
    complaints = ("停车", "拖欠工资", "物业", "挂号", "路灯")
    assert not [a for a in rumours if any(w in a["key"] + a["reason"] for w in complaints)]
    # the watch words: the explosion (860 reposts) 重大, the 拆迁 question (one post) 一般
    words = {a["key"]: a["severity"] for a in by_rule(alerts, "重点关注词")}
    assert words == {"爆炸": "high", "拆迁": "low"}
    assert Counter(a["severity"] for a in alerts)["critical"] == 0
