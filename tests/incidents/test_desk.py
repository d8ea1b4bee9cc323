"""Desk actions beyond the main path: assign to a user and/or department, change the level (deadlines
recomputed, lowering needs an approver), and opening an incident that began earlier (clocks from then)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.errors import IncidentError
from opinion_desk.incidents.audit import verify_chain
from opinion_desk.incidents.lifecycle import Actor
from opinion_desk.incidents.service import tick_deadlines
from opinion_desk.state.incidents import Incident, aware
from tests.conftest import ensure_user

API = "/api/v1/incidents"


def _open(c, **kw):
    r = c.post(API, json={"title": kw.pop("title", "青山县人民路积水"), "level": kw.pop("level", "一般"), **kw})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _payload(inc, action):
    return [e["payload"] for e in inc["timeline"] if e["action"] == action][-1]


def test_assign_to_a_user_and_a_department_of_the_table(app, login_as):
    duty = login_as("duty")
    ensure_user(app, "approver")
    ensure_user(app, "analyst")
    inc = _open(duty)
    assert inc["department"] == "青山县应急管理局"
    r = duty.post(f"{API}/{inc['id']}/assign", json={"version": inc["version"], "assignee": "test-approver",
                                                     "department": "青山县教育局"})
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert d["assignee"] == "test-approver" and d["assignee_name"] == "李主任"
    assert d["department"] == "青山县教育局" and d["contacts"] == [{"name": "李老师", "email": "li@qingshan.gov.cn"}]
    assert d["version"] == inc["version"] + 1
    p = _payload(d, "assign")
    assert p["old_department"] == "青山县应急管理局" and p["department"] == "青山县教育局" and p["from_table"] is True
    assert p["old_assignee"] == "test-duty" and p["assignee"] == "test-approver"
    # a department outside the table is kept as typed, without contacts; the assignee stays
    d = duty.post(f"{API}/{inc['id']}/assign", json={"version": d["version"], "department": "白沙乡人民政府"}).get_json()
    assert d["department"] == "白沙乡人民政府" and d["contacts"] == [] and d["assignee"] == "test-approver"


def test_assign_refusals(app, login_as):
    duty = login_as("duty")
    ensure_user(app, "analyst")
    inc = _open(duty)
    url = f"{API}/{inc['id']}/assign"
    r = login_as("analyst").post(url, json={"assignee": "test-duty"})
    assert r.status_code == 403 and "值班员" in r.get_json()["error"]
    r = duty.post(url, json={"assignee": "test-analyst"})
    assert r.status_code == 400 and "不能承办" in r.get_json()["error"]
    assert duty.post(url, json={"assignee": "nobody"}).status_code == 400
    assert duty.post(url, json={}).status_code == 400
    r = duty.post(url, json={"version": 99, "assignee": "test-duty"})
    assert r.status_code == 409 and r.get_json()["yours"]["assignee"] == "test-duty"


def test_raising_the_level_recomputes_the_deadlines_from_the_opening(app, login_as):
    duty, boss = login_as("duty"), login_as("approver")
    inc = _open(duty, level="一般")
    opened = datetime.fromisoformat(inc["opened_at"])
    assert [c["name"] for c in inc["clocks"]] == ["info"]
    # a major level starts the clocks of a major emergency: only an approver raises to it (issue 13)
    r = duty.post(f"{API}/{inc['id']}/level", json={"version": inc["version"], "level": "重大"})
    assert r.status_code == 403 and "审核领导" in r.get_json()["error"]
    r = duty.post(f"{API}/{inc['id']}/level", json={"version": inc["version"], "level": "较大"})
    assert r.status_code == 200, r.get_json()
    inc = r.get_json()
    r = boss.post(f"{API}/{inc['id']}/level", json={"version": inc["version"], "level": "重大"})
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert d["level"] == "重大" and d["major"]
    assert datetime.fromisoformat(d["info_due"]) == opened + timedelta(hours=5)
    assert datetime.fromisoformat(d["press_due"]) == opened + timedelta(hours=24)
    assert [c["label"] for c in d["clocks"]] == ["发布权威信息", "举行新闻发布会"]
    p = _payload(d, "level")
    assert p["old"] == "较大" and p["level"] == "重大"
    assert [e for e in d["timeline"] if e["action"] == "level"][-1]["actor"] == "test-approver"  # audited
    assert datetime.fromisoformat(p["info_due"]) == opened + timedelta(hours=5) and p["old_press_due"] is None
    r = duty.post(f"{API}/{inc['id']}/level", json={"version": d["version"], "level": "重大"})
    assert r.status_code == 400 and "已是" in r.get_json()["error"]
    assert duty.post(f"{API}/{inc['id']}/level", json={"level": "超级"}).status_code == 400


def test_only_an_approver_opens_at_a_major_level(app, login_as):
    """重大 starts the 5 h / 24 h clocks (press conference included): a duty officer opens at a lower level."""
    duty, boss = login_as("duty"), login_as("approver")
    r = duty.post(API, json={"title": "人民路积水", "level": "重大"})
    assert r.status_code in (400, 403) and "审核领导" in r.get_json()["error"]
    assert _open(boss, level="重大")["level"] == "重大"


def test_lowering_the_level_needs_an_approver(app, login_as):
    duty, boss = login_as("duty"), login_as("approver")
    inc = _open(boss, level="重大")
    r = duty.post(f"{API}/{inc['id']}/level", json={"version": inc["version"], "level": "一般"})
    assert r.status_code == 403 and "审核领导" in r.get_json()["error"]
    assert duty.get(f"{API}/{inc['id']}").get_json()["level"] == "重大"
    r = boss.post(f"{API}/{inc['id']}/level", json={"version": inc["version"], "level": "一般"})
    assert r.status_code == 200
    d = r.get_json()
    assert d["level"] == "一般" and d["press_due"] is None and len(d["clocks"]) == 1
    with app.desk.state.session_scope() as s:
        assert verify_chain(s).ok


def test_level_change_resets_escalations_for_the_new_clock(app):
    ensure_user(app, "approver")
    desk = app.desk.incidents
    duty = Actor("test-duty", "值班员小王", ["duty"])
    inc = desk.open(duty, title="人民路积水", level="一般", opened_at=datetime.now(timezone.utc) - timedelta(hours=30))
    assert tick_deadlines(desk) == [f"{inc.id}:info:0.5"]  # 30 of 48 h
    boss = Actor("test-approver", "审核领导", ["approver"])  # only an approver raises to a major level
    desk.set_level(inc.id, boss, None, "重大")  # now 30 h past a 5 h deadline and 6 h past the 24 h one
    with app.desk.state.session_scope() as s:
        assert s.get(Incident, inc.id).escalated == []
    assert sorted(tick_deadlines(desk)) == [f"{inc.id}:info:1", f"{inc.id}:press:1"]


def test_open_with_an_earlier_opening_time(app):
    desk = app.desk.incidents
    duty = Actor("test-duty", "值班员小王", ["duty"])
    t0 = datetime.now(timezone.utc) - timedelta(hours=60)
    inc = desk.open(duty, title="电话报来的旧事件", level="一般", opened_at=t0)
    assert aware(inc.opened_at) == t0 and aware(inc.info_due) == t0 + timedelta(hours=48)
    with app.app_context():
        from opinion_desk.incidents.records import incident_dict

        clock = incident_dict(app.config["DESK"], inc)["clocks"][0]
    assert clock["missed"] and clock["running"] and -12 * 3600 - 60 < clock["remaining_seconds"] <= -12 * 3600
    with pytest.raises(IncidentError, match="晚于"):
        desk.open(duty, title="未来", opened_at=datetime.now(timezone.utc) + timedelta(hours=1))
    with pytest.raises(IncidentError, match="时区"):
        desk.open(duty, title="无时区", opened_at=datetime.now() - timedelta(hours=1))


def test_workspace_page_has_the_assign_and_level_forms(app, client, login_as):
    ensure_user(app, "duty")
    ensure_user(app, "analyst")
    inc = _open(client)
    page = client.get(f"/incidents/{inc['id']}").get_data(as_text=True)
    assert 'id="assign-form"' in page and 'id="level-form"' in page
    assert 'value="test-duty"' in page and "值班员小王" in page
    assert 'value="test-analyst"' not in page  # analysts cannot carry incidents
    assert '<option value="青山县教育局">' in page
    assert '<option value="一般" selected>' in page
