"""Incident notices are their own kind (事件时限): a Socket.IO ``escalation`` event (not an opinion ``alert``) and
delivery to the named people -- the approvers and the routed department's contacts -- by email and by robot
@mention in each platform's documented format, checked by the strict stand-ins of tests/alerting/conftest.py."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.incidents.lifecycle import Actor, stepped_clock
from opinion_desk.incidents.service import tick_deadlines
from opinion_desk.state.users import get_user
from tests.alerting.conftest import (DING_SECRET, FEISHU_SECRET, dingtalk, feishu, smtp_server, webhook,  # noqa: F401
                                     wecom)
from tests.conftest import ensure_user

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
ROUTES = """
- department: 青山县应急管理局
  match: [人民路]
  contacts:
    - {name: 张科长, phone: "13800000001", email: zhang@qingshan.gov.cn, feishu_id: ou_zhang}
    - {name: 王干事, phone: "13800000002"}
"""


@pytest.fixture
def app_config(app_config, tmp_path, smtp_server, wecom, dingtalk, feishu):  # noqa: F811
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    host, port, _ = smtp_server
    app_config["incidents"] = {"routing_file": str(routes)}
    app_config["alerting"] = {
        "smtp_host": host, "smtp_port": port, "desk_url": "http://desk.local",
        "channels": {"值班群": {"type": "wecom", "url": wecom.url},
                     "钉钉群": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET},
                     "飞书群": {"type": "feishu", "url": feishu.url, "secret": FEISHU_SECRET}}}
    return app_config


def _leader(app):
    name = ensure_user(app, "approver")
    with app.desk.state.session_scope() as s:
        u = get_user(s, name)
        u.phone, u.email = "13900000009", "li@qingshan.gov.cn"
    return name


def test_deadline_escalation_reaches_named_people(app, live_server, desk_events, smtp_server, wecom, dingtalk,  # noqa: F811
                                                  feishu):
    _leader(app)
    got = desk_events("escalation", "alert")
    desk = app.desk.incidents
    with stepped_clock(ManualClock(T0)) as clock:
        inc = desk.open(Actor("li", "李主任", ["approver"]), title="人民路积水", level="重大")
        for robot in (wecom, dingtalk, feishu):  # the routing notice (事件分派) arrives first
            assert robot.event.wait(20)
            robot.event.clear()
        n_before = [len(r.received) for r in (wecom, dingtalk, feishu)]
        clock.advance(timedelta(hours=4))  # 80 % of the 5 h information deadline
        assert tick_deadlines(desk) == [f"{inc.id}:info:0.8"]

    events = []
    while True:
        name, data = got.get(timeout=20)
        events.append((name, data))
        if name == "escalation" and data["kind"] == "info:0.8":
            break
    assert all(name == "escalation" for name, _ in events)  # never shaped as an opinion alert
    e = events[-1][1]
    assert e["kind_zh"] == "事件时限" and e["url"] == f"/incidents/{inc.id}" and e["incident_id"] == inc.id
    assert set(e["recipients"]) == {"李主任", "张科长", "王干事"}
    assert "80%" in e["message"] and "人民路积水" in e["message"]

    for robot, n in zip((wecom, dingtalk, feishu), n_before):
        for _ in range(100):
            if len(robot.received) > n:
                break
            time.sleep(0.2)
        assert len(robot.received) > n, robot.rejected
    wc = wecom.received[-1]["body"]
    assert wc["msgtype"] == "text" and wc["text"]["content"].startswith("【事件时限】事件#")
    assert f"http://desk.local/incidents/{inc.id}" in wc["text"]["content"]
    assert sorted(wecom.mentions[-1]) == ["13800000001", "13800000002", "13900000009"]
    dt = dingtalk.received[-1]["body"]
    assert sorted(dingtalk.mentions[-1]) == ["13800000001", "13800000002", "13900000009"]  # atMobiles and @ in text
    assert dt["at"]["isAtAll"] is False
    fs = feishu.received[-1]["body"]
    assert feishu.mentions[-1] == ["ou_zhang"]  # only a person with a Feishu id can be @-ed by a custom robot
    assert "@王干事" in fs["content"]["text"]

    _h, _p, box = smtp_server
    for _ in range(100):
        if any("80%" in m["msg"].get_body(("plain",)).get_content() for m in box.messages):
            break
        time.sleep(0.2)
    mail = [m for m in box.messages if "80%" in m["msg"].get_body(("plain",)).get_content()][-1]
    assert sorted(mail["to"]) == ["li@qingshan.gov.cn", "zhang@qingshan.gov.cn"]
    assert mail["msg"]["Subject"].startswith(f"【事件时限】事件#{inc.id}「人民路积水」")


def test_escalation_list_api(app, client):
    desk = app.desk.incidents
    with stepped_clock(ManualClock(T0)) as clock:
        inc = desk.open(Actor("wang", "小王", ["duty"]), title="城南小学食堂", level="一般")
        clock.advance(timedelta(hours=49))
        tick_deadlines(desk)
    items = client.get("/api/v1/incidents/escalations").get_json()["escalations"]
    assert items[0]["incident_id"] == inc.id and items[0]["kind"] == "info:1" and items[0]["overdue"]
    assert items[0]["title"] == "城南小学食堂" and items[0]["url"] == f"/incidents/{inc.id}"


def test_webhook_gets_the_notice_and_its_people(app_config, analyzer, webhook):  # noqa: F811
    from opinion_desk import create_app, stop_background
    from opinion_desk.incidents.escalation import payload

    app_config["alerting"] = {"channels": {"hook": {"type": "webhook", "url": webhook.url}}}
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    try:
        inc = app.desk.incidents.open(Actor("li", "李主任", ["approver"]), title="人民路积水", level="重大")
        ch = app.desk.outbox.channels["hook"]
        ch.send(payload(app.config["DESK"], inc, "info:1", "【已超时】事件#1", [{"name": "张科长", "phone": "13800000001"}]))
        # opening the incident also queues its 事件分派 notice through the outbox, which may land after this one
        body = next(r["body"] for r in reversed(webhook.received)
                    if (r["body"].get("escalation") or {}).get("kind") == "info:1")
        assert body["event"] == "escalation" and body["title"].startswith("【事件时限】事件#")
        assert body["escalation"]["incident_id"] == inc.id and body["mentions"][0]["name"] == "张科长"
        assert body["text"].startswith("【事件时限】")
    finally:
        stop_background(app)
