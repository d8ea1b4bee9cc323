"""Deadline clocks per level (61号/80号 defaults, configurable) and escalation pushes at fractions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from opinion_desk.config import load_config
from opinion_desk.incidents import deadlines
from opinion_desk.incidents.lifecycle import Actor
from opinion_desk.incidents.publishing import remind
from opinion_desk.incidents.service import tick_deadlines
from opinion_desk.state.incidents import Escalation, Incident
from tests.conftest import ensure_user
from tests.incidents.conftest import index, make_post

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def test_default_deadlines_follow_the_state_council_notices():
    cfg = load_config(path=None, env={})
    assert deadlines.compute(cfg, "重大", T0) == (T0 + timedelta(hours=5), T0 + timedelta(hours=24))
    assert deadlines.compute(cfg, "特别重大", T0) == (T0 + timedelta(hours=5), T0 + timedelta(hours=24))
    assert deadlines.compute(cfg, "一般", T0) == (T0 + timedelta(hours=48), None)
    cfg = load_config(path=None, env={}, overrides={"incidents": {"response_hours": 24, "major_info_hours": 3}})
    assert deadlines.compute(cfg, "较大", T0) == (T0 + timedelta(hours=24), None)
    assert deadlines.compute(cfg, "重大", T0)[0] == T0 + timedelta(hours=3)


def _age(app, iid, hours):
    """Move an incident's clocks ``hours`` into the past."""
    with app.desk.state.session_scope() as s:
        inc = s.get(Incident, iid)
        d = timedelta(hours=hours)
        inc.opened_at = inc.opened_at - d
        inc.info_due = inc.info_due - d
        if inc.press_due:
            inc.press_due = inc.press_due - d


def test_escalation_pushes_once_per_fraction_and_when_overdue(app):
    ensure_user(app, "approver")
    desk = app.desk.incidents
    inc = desk.open(Actor("li", "李主任", ["approver"]), title="人民路积水", level="重大")
    assert tick_deadlines(desk) == []
    _age(app, inc.id, 2.6)  # 52% of 5 h
    assert tick_deadlines(desk) == [f"{inc.id}:info:0.5"]
    assert tick_deadlines(desk) == []  # once
    _age(app, inc.id, 3)  # 5.6 h: overdue; 0.8 was skipped over and is not pushed separately
    assert tick_deadlines(desk) == [f"{inc.id}:info:1"]
    with app.desk.state.session_scope() as s:
        rows = s.query(Escalation).filter_by(incident_id=inc.id).order_by(Escalation.id).all()
        assert [r.kind for r in rows] == ["route", "info:0.5", "info:1"]  # routed to 应急管理局 at opening
        assert "青山县应急管理局" in rows[0].message
        assert "已超时" in rows[-1].message and "人民路积水" in rows[-1].message
        assert any(r["username"] == "test-approver" for r in rows[-1].recipients)
        assert rows[-1].delivered  # outbox channels when configured, else the dashboard
        assert s.get(Incident, inc.id).escalated == ["info:0.5", "info:0.8", "info:1"]


def test_met_deadline_is_not_escalated(app):
    desk = app.desk.incidents
    inc = desk.open(Actor("wang", "小王", ["duty"]), title="旧闻", level="一般")
    with app.desk.state.session_scope() as s:
        s.get(Incident, inc.id).first_info_at = datetime.now(timezone.utc)
    _age(app, inc.id, 50)
    assert tick_deadlines(desk) == []


def test_keep_publishing_reminder_while_the_topic_is_hot(app):
    desk = app.desk.incidents
    index(app, [make_post(1, "人民路积水还没排完", minutes_ago=1)])
    inc = desk.open(Actor("wang", "小王", ["duty"]), title="人民路积水", post_ids=[make_post(1, "x").id])
    assert inc.keywords
    with app.desk.state.session_scope() as s:
        row = s.get(Incident, inc.id)
        row.status = "published"
        row.published_at = datetime.now(timezone.utc) - timedelta(hours=2)
    assert remind(desk) == [inc.id]
    assert remind(desk) == []  # not again before remind_every_minutes
    with app.desk.state.session_scope() as s:
        assert s.query(Escalation).filter_by(incident_id=inc.id, kind="remind").count() == 1
