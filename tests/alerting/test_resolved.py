"""The resolved notice (舆情平息) through the whole app: the engine on an injected clock resolves a spike after its
hold-down, the dispatcher queues a ``resolved`` delivery, and the dashboard channel emits ``alert_resolved`` on
/desk (broadcast.py) to a real Socket.IO client — once, after the ``alert`` of the same alert."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.models import Post
from tests.conftest import write_rules

SPIKE = """
name: 积水声量突增
type: spike
timeframe: 10m
spike_height: 3
threshold_cur: 5
resolve_after: 15m
filter:
  keywords: [积水]
"""
T0 = datetime(2024, 7, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_config(app_config):
    write_rules(app_config, {"spike.yaml": SPIKE})
    return app_config


def flood(minute: float, n: int) -> list[Post]:
    return [Post(source="weibo", source_id=f"{minute}-{k}", text="人民路积水", tokens=["人民路", "积水"],
                 created_at=T0 + timedelta(minutes=minute, seconds=k)) for k in range(n)]


def test_spike_resolves_and_the_desk_hears_it(app, desk_events) -> None:
    engine = app.desk.engine
    clock = ManualClock(T0)
    engine.clock = clock  # the engine's time source is injectable; the alert book keeps the same clock
    engine.book.clock = clock
    got = desk_events("alert", "alert_resolved")
    engine.on_posts(flood(0, 1))
    for m in range(1, 25):
        clock.set(T0 + timedelta(minutes=m))
        engine.tick()
    clock.set(T0 + timedelta(minutes=25))
    engine.on_posts(flood(24, 8))  # 8 posts in the last 10 minutes against 0 before: fires at once
    kind, fired = got.get(timeout=30)
    assert kind == "alert" and fired["title"] == "【较大预警】积水声量突增" and fired["kind"] == "alert"
    heard_at = None
    for m in range(26, 60):
        clock.set(T0 + timedelta(minutes=m))
        if engine.tick() and heard_at is None:
            heard_at = m
    # below the threshold from minute 34 (the flood's bucket left the window); 15 minutes later: resolved
    assert heard_at == 49
    kind, calm = got.get(timeout=30)
    assert kind == "alert_resolved" and calm["id"] == fired["id"] and calm["kind"] == "resolved"
    assert calm["title"] == "【舆情平息】积水声量突增" and calm["status"] == "resolved"
    assert calm["details"]["resolved_reason"] == "已连续15分钟低于阈值，舆情平息"
    assert calm["resolved_at"].startswith("2024-07-01T00:49")
    outbox = app.desk.outbox
    # one notice, not one per tick
    assert [(r["channel"], r["kind"]) for r in outbox.rows(fired["id"])] == [("dashboard", "alert"),
                                                                               ("dashboard", "resolved")]
