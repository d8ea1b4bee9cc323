"""The alerts API and page: list alerts, rule status, silences with expiry."""

from __future__ import annotations


def test_silences_crud_and_alert_list(client) -> None:
    r = client.post("/api/v1/silences", json={"rule": "声量突增", "duration": "5 minuts"})
    assert r.status_code == 400 and r.get_json()["field"] == "duration"
    r = client.post("/api/v1/silences", json={"rule": "声量突增", "duration": "2h", "reason": "已知活动"})
    assert r.status_code == 201
    sid = r.get_json()["silence"]["id"]
    listed = client.get("/api/v1/silences").get_json()["silences"]
    assert listed[0]["id"] == sid and listed[0]["active"]
    assert client.delete(f"/api/v1/silences/{sid}").status_code == 200
    assert client.get("/api/v1/silences").get_json()["silences"] == []
    assert client.get("/api/v1/alerts?status=open").get_json() == {"alerts": []}
    assert client.get("/api/v1/alerts?status=bogus").status_code == 400
    assert "rules" in client.get("/api/v1/rules").get_json()
    page = client.get("/alerts").get_data(as_text=True)
    assert "告警" in page and "js/alerts.js" in page


def test_silences_need_a_duty_role_and_record_who(client, login_as) -> None:
    approver = login_as("approver")
    r = approver.post("/api/v1/silences", json={"rule": "声量突增", "duration": "2h"})
    assert r.status_code == 403
    duty = login_as("duty")
    r = duty.post("/api/v1/silences", json={"rule": "声量突增", "duration": "30m", "created_by": "冒名"})
    assert r.status_code == 201 and r.get_json()["silence"]["created_by"] == "值班员小王"
    sid = r.get_json()["silence"]["id"]
    assert approver.delete(f"/api/v1/silences/{sid}").status_code == 403
    assert duty.delete(f"/api/v1/silences/{sid}").status_code == 200
