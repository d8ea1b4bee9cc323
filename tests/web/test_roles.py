"""Roles as the README documents them: analysts read incidents but cannot act on them (notes, verify);
source health is for duty officers, analysts and admins, not approvers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.state.incidents import Incident

T0 = datetime.now(timezone.utc)


@pytest.fixture
def incident_id(app) -> int:
    with app.desk.state.session_scope() as s:
        inc = Incident(title="化工厂爆炸", level="一般", status="open", opened_at=T0, info_due=T0 + timedelta(hours=48))
        s.add(inc)
        s.flush()
        return inc.id


@pytest.mark.parametrize("action", ["notes", "verify"])
def test_analysts_cannot_act_on_incidents(app, login_as, incident_id, action):
    analyst = login_as("analyst")
    r = analyst.post(f"/api/v1/incidents/{incident_id}/{action}", json={"text": "分析员的备注"})
    assert r.status_code == 403 and "值班员" in r.get_json()["error"]
    assert analyst.get(f"/api/v1/incidents/{incident_id}").status_code == 200  # reading is fine


def test_duty_officers_add_notes(app, login_as, incident_id):
    r = login_as("duty").post(f"/api/v1/incidents/{incident_id}/notes", json={"text": "已电话核实"})
    assert r.status_code == 201


@pytest.mark.parametrize("role,status", [("duty", 200), ("analyst", 200), ("admin", 200), ("approver", 403)])
def test_source_health_readers(app, login_as, role, status):
    c = login_as(role)
    assert c.get("/api/v1/sources").status_code == status
    assert c.get("/sources").status_code == status
    assert ('href="/sources"' in c.get("/").get_data(as_text=True)) == (status == 200)  # the menu agrees
