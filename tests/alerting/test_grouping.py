"""One event, one message per channel: a post holding two watch words (two rules, and a rule keyed by word) is
folded within ``[alerting] group_wait`` into one message on each stand-in robot and one email, titled by the most
severe rule and summarising every match; the desk still lists each alert."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests

from .conftest import DING_SECRET, FEISHU_SECRET

WORDS = """
name: 重点关注词
type: keyword
severity: medium
query_key: keyword
channels: [dashboard, email, 值班群, 钉钉群, 飞书群]
filter:
  keywords: [爆炸, 起火]
"""
SAFETY = """
name: 安全生产
type: keyword
severity: high
channels: [dashboard, email, 值班群, 钉钉群, 飞书群]
filter:
  keywords: [化工厂]
"""


@pytest.fixture
def app_config(app_config, tmp_path, smtp_server, wecom, dingtalk, feishu):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "words.yaml").write_text(WORDS, encoding="utf-8")
    (rules / "safety.yaml").write_text(SAFETY, encoding="utf-8")
    host, port, _box = smtp_server
    app_config["rules"] = {"dir": str(rules)}
    app_config["alerting"] = {
        "smtp_host": host, "smtp_port": port, "mail_to": ["duty@example.gov.cn"], "group_wait": "2s",
        "channels": {"值班群": {"type": "wecom", "url": wecom.url},
                     "钉钉群": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET},
                     "飞书群": {"type": "feishu", "url": feishu.url, "secret": FEISHU_SECRET}}}
    return app_config


def test_a_post_with_two_watch_words_is_one_message_per_channel(live_server, ingest_headers, desk_cookie, app,
                                                                 smtp_server, wecom, dingtalk, feishu) -> None:
    item = {"id": "g-1", "text": "城南化工厂发生爆炸后起火，现场浓烟滚滚", "reposts": 300,  # reach: 重大
            "created_at": datetime.now(timezone.utc).isoformat()}
    r = requests.post(f"{live_server}/api/v1/posts", json=[item], headers=ingest_headers, timeout=10)
    assert r.status_code == 202
    _h, _p, box = smtp_server
    for robot in (wecom, dingtalk, feishu):
        assert robot.event.wait(30)
    assert box.event.wait(30)
    time.sleep(3)  # anything else would have come by now (one more group wait)
    assert [len(x.received) for x in (wecom, dingtalk, feishu)] == [1, 1, 1]
    assert len(box.messages) == 1
    md = wecom.received[0]["body"]["markdown"]["content"]
    assert "同一事件命中 3 条规则" in md and "安全生产" in md and "爆炸" in md and "起火" in md
    assert md.count("城南化工厂发生爆炸") == 1  # the post, once
    msg = box.messages[0]["msg"]
    assert msg["Subject"].startswith("【重大预警】安全生产、重点关注词")
    # the desk lists every alert, and the dashboard heard each one
    alerts = requests.get(f"{live_server}/api/v1/alerts", headers={"Cookie": f"session={desk_cookie}"},
                          timeout=10).json()
    rows = alerts["alerts"] if isinstance(alerts, dict) else alerts
    assert sorted((a["rule"], a["key"]) for a in rows) == [("安全生产", ""), ("重点关注词", "爆炸"), ("重点关注词", "起火")]
    outbox = app.desk.outbox
    assert sum(len([x for x in outbox.rows(a["id"]) if x["channel"] == "dashboard"]) for a in rows) == 3


def test_alerts_on_different_posts_are_not_folded(live_server, ingest_headers, smtp_server, wecom) -> None:
    now = datetime.now(timezone.utc).isoformat()
    items = [{"id": "g-2", "text": "城东仓库起火", "created_at": now}, {"id": "g-3", "text": "城西发生爆炸", "created_at": now}]
    r = requests.post(f"{live_server}/api/v1/posts", json=items, headers=ingest_headers, timeout=10)
    assert r.status_code == 202
    deadline = time.time() + 30
    while len(wecom.received) < 2 and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2.5)
    assert len(wecom.received) == 2
    assert all("同一事件" not in m["body"]["markdown"]["content"] for m in wecom.received)


def test_a_group_held_by_a_process_that_died_is_sent_by_the_next(app, wecom) -> None:
    """The rules holder (or a one-process desk) dies within group_wait: its held group is gone with it. The next
    one (a restart, or the worker taking the rules lease) finds the open alert with no robot message and sends it,
    once; asked again, it finds nothing missing."""
    from datetime import timedelta

    from opinion_desk.alerting.dispatch import Dispatcher
    from opinion_desk.state.alerts import Alert

    t = datetime.now(timezone.utc)
    with app.desk.state.session_scope() as s:
        s.add(Alert(id="A-held-1", rule="安全生产", rule_type="keyword", severity="high", key="", status="open",
                    reason="命中：化工厂", first_match=t, last_match=t, created_at=t, post_ids=["p-1"],
                    channels=["dashboard", "值班群"], details={"posts": [{"id": "p-1", "event_id": "e-1"}]}))
    wait = timedelta(seconds=30)
    died = Dispatcher(app.desk.outbox, app.desk.store, group_wait=wait, timers=False)
    with app.desk.state.session_scope() as s:
        died.on_alert(s.get(Alert, "A-held-1"))  # the dashboard row goes out; the robot's is held, then lost
    nxt = Dispatcher(app.desk.outbox, app.desk.store, group_wait=wait, timers=False)
    assert nxt.recover(t - timedelta(minutes=10)) == 1
    assert nxt.flush_due(datetime.now(timezone.utc) + wait) == 1
    assert nxt.recover(t - timedelta(minutes=10)) == 0  # its row is there now
    app.desk.outbox.deliver_due(wait=True)
    rows = [r for r in app.desk.outbox.rows("A-held-1") if r["channel"] == "值班群"]
    assert len(rows) == 1, rows
    deadline = time.time() + 20
    while not wecom.received and time.time() < deadline:
        time.sleep(0.2)
    assert len(wecom.received) == 1, (rows, wecom.rejected)


def test_a_burst_folded_into_one_message_keeps_the_desk_link(app, wecom) -> None:
    """Hundreds of alerts on one event fold into one message: it lists the first ten and counts the rest, so the
    robot's 4096-byte cut never takes the 打开值班台处置 link at its end."""
    from datetime import timedelta

    from opinion_desk.alerting.dispatch import Dispatcher
    from opinion_desk.state.alerts import Alert

    t = datetime.now(timezone.utc)
    d = Dispatcher(app.desk.outbox, app.desk.store, desk_url="https://desk.example.gov.cn",
                   group_wait=timedelta(seconds=30), timers=False)
    burst = [Alert(id=f"A-burst-{i:02d}", rule="讨薪", rule_type="frequency", severity="medium", key=f"网友{i}号",
                   status="open", reason="1 小时内 3 条" + "，涉及工资拖欠" * 5, first_match=t, last_match=t,
                   created_at=t, post_ids=[f"p-{i}"], channels=["dashboard", "值班群"],
                   details={"event_id": "e-burst"}) for i in range(60)]
    with app.desk.state.session_scope() as s:
        s.add_all(burst)
    for a in burst:
        d.on_alert(a)
    assert d.flush_due(t + timedelta(seconds=31)) == 1
    deadline = time.time() + 20
    while not wecom.received and time.time() < deadline:
        time.sleep(0.2)
    md = wecom.received[0]["body"]["markdown"]["content"]
    assert len(md.encode()) <= 4096 and "另有 50 条" in md and "打开值班台处置" in md
