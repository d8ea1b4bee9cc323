"""A rumour alert resolved by the official answer on the same event (issue 13: the 青山县应急管理局 debunk never
resolved the 泄洪 alert): through the app's own engine, alert book, dispatcher and outbox, the WeCom stand-in gets
the 舆情平息 message naming the official post, and the alerts API shows the alert 已平息 with the post linked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.models import Post
from tests.conftest import write_rules

RULE = """
name: 疑似谣言扩散
type: rumour
severity: high
timeframe: 1h
query_key: topic
threshold: 0.7
min_posts: 2  # the first post and 2 more in its first hour
channels: [dashboard, 值班群]
"""
T0 = datetime(2024, 7, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_config(app_config, wecom):
    write_rules(app_config, {"rumour.yaml": RULE})
    app_config["alerting"] = {"group_wait": "1s", "channels": {"值班群": {"type": "wecom", "url": wecom.url}}}
    return app_config


def rumour(minute: float, k: int) -> Post:
    return Post(source="weibo", source_id=f"r{minute}-{k}", author=f"网友{k}", author_type="user",
                text="网传青山县水库要泄洪了，下游村庄都要撤离，是真的吗？求证！", topic_id="t-flood",
                event_id="e-flood", rumour_score=0.93, repost_of="5029000000000001", created_at=T0 + timedelta(minutes=minute, seconds=k))


def test_the_debunk_on_the_same_event_resolves_the_rumour_alert(live_server, app, wecom, client) -> None:
    desk = app.desk
    clock = ManualClock(T0 + timedelta(minutes=5))
    desk.engine.clock = clock
    desk.engine.book.clock = clock
    desk.engine.on_posts([rumour(m, k) for m, k in ((0, 0), (2, 1), (4, 2))])
    [alert] = [a for a in client.get("/api/v1/alerts?status=open").get_json()["alerts"]]
    assert alert["rule"] == "疑似谣言扩散" and "尚无官方回应" in alert["reason"]
    assert wecom.event.wait(30)
    wecom.event.clear()
    clock.set(T0 + timedelta(minutes=8))
    debunk = Post(source="weibo", source_id="gov-1", author="青山县应急管理局", author_type="gov",
                  url="https://weibo.com/6000000001/Qabc", topic_id="t-other", event_id="e-flood",
                  text="经核实，青山水库运行正常，未发布泄洪通知，网传“水库泄洪全村撤离”消息不实，请勿转发。",
                  created_at=T0 + timedelta(minutes=7))
    desk.engine.on_posts([debunk])
    got = client.get(f"/api/v1/alerts/{alert['id']}").get_json()
    got = got.get("alert", got)
    assert got["status"] == "resolved" and got["status_zh"] == "已平息"
    assert got["details"]["answer"]["id"] == debunk.id and got["details"]["answer"]["url"] == debunk.url
    assert "青山县应急管理局" in got["details"]["resolved_reason"]
    assert [(r["channel"], r["kind"]) for r in desk.outbox.rows(alert["id"])][-2:] == [
        ("dashboard", "resolved"), ("值班群", "resolved")]
    assert wecom.event.wait(30)
    text = wecom.received[-1]["body"]["markdown"]["content"]
    assert "舆情平息" in text and "青山县应急管理局" in text and "网传“水库泄洪全村撤离”消息不实" in text
    assert "原文" in text and "6000000001/Qabc" in text  # the link, defanged as post text is in messages
    # the answer holds: the same rumour spreading on raises no new alert within 4 x timeframe
    clock.set(T0 + timedelta(minutes=30))
    desk.engine.on_posts([rumour(m, k) for m, k in ((25, 3), (27, 4), (29, 5))])
    desk.engine.tick()
    assert client.get("/api/v1/alerts?status=open").get_json()["alerts"] == []
