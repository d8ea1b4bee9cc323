"""A repeat match folded into an open alert (within ``realert``) through the whole app: the engine's alert book, the
dispatcher and the dashboard channel emit ``alert_updated`` on /desk (broadcast.py) to a real Socket.IO client —
the alert's id, its new count, value, last match and newest sample posts, a line in Chinese with the time in
Beijing time — and no second ``alert``, no outbox delivery (nobody is messaged)."""

from __future__ import annotations

import queue
from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post
from tests.conftest import write_rules

RULE = """
name: 重点关注词
type: keyword
severity: high
query_key: keyword
filter:
  keywords: [爆炸]
"""
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def app_config(app_config):
    write_rules(app_config, {"kw.yaml": RULE})
    return app_config


def blast(n: int, at: datetime) -> Post:
    return Post(source="weibo", source_id=f"blast-{n}", text=f"城南化工厂发生爆炸，现场第{n}条消息",
                tokens=["城南", "化工厂", "爆炸"], author=f"网友{n}", created_at=at)


def next_event(got: queue.Queue, timeout: float = 20) -> tuple[str, dict]:
    return got.get(timeout=timeout)


def test_a_merged_repeat_match_updates_the_alert_quietly(app, desk_events) -> None:
    engine = app.desk.engine
    got = desk_events("alert", "alert_updated", "alert_resolved")
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    first = blast(1, t0)
    engine.on_posts([first])
    kind, fired = next_event(got)
    assert kind == "alert" and fired["count"] == 1 and fired["title"].endswith("预警】重点关注词「爆炸」")

    second = blast(2, t0 + timedelta(minutes=1))
    engine.on_posts([second])  # the same key within realert (30 minutes): folds into the open alert
    kind, grown = next_event(got)
    assert kind == "alert_updated"
    assert grown["id"] == fired["id"] and grown["count"] == 2 and grown["kind"] == "updated"
    assert grown["status"] == "open" and grown["status_zh"] == "未平息" and grown["title"] == fired["title"]
    assert datetime.fromisoformat(grown["last_match"]) == second.created_at  # ISO 8601, as in the alert event
    shown = second.created_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    assert grown["summary"] == f"累计命中 2 次，最近一次 {shown}"  # what a person reads: Chinese, Beijing time
    assert grown["posts"][0]["id"] == second.id and "第2条消息" in grown["posts"][0]["text"]
    assert [p["id"] for p in grown["posts"]] == [second.id, first.id]  # newest first

    # one batch of three more matching posts: one update, with the last figures
    engine.on_posts([blast(n, t0 + timedelta(minutes=n)) for n in (3, 4, 5)])
    kind, grown = next_event(got)
    assert kind == "alert_updated" and grown["id"] == fired["id"] and grown["count"] == 5
    assert len(grown["posts"]) == 3 and grown["posts"][0]["id"] == blast(5, t0).id
    with pytest.raises(queue.Empty):  # nothing else: no second alert, no update per post
        next_event(got, timeout=1.5)

    rows = app.desk.outbox.rows(fired["id"])
    assert [(r["channel"], r["kind"]) for r in rows] == [("dashboard", "alert")]  # the updates message nobody
    with app.desk.state.session_scope() as s:
        from opinion_desk.state.alerts import Alert

        assert s.get(Alert, fired["id"]).count == 5
