"""Four eyes (双人审核) and the approvers' 待我审核 queue: an approver cannot approve their own draft (unless a
one-person office allows it, then each such approval is audited); a duty officer's close request waits for an
approver, who is told live and accepts or declines it."""

from __future__ import annotations

from tests.incidents.test_flow import API, open_incident

TEXT = "11月24日，人民路因强降雨积水，无人员伤亡，积水已排除。"


def _draft(c, iid, version):
    r = c.post(f"{API}/{iid}/drafts", json={"version": version, "title": "关于人民路积水的通报", "text": TEXT})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_approver_cannot_approve_own_draft(app, login_as, flood_posts):
    boss, other = login_as("approver"), login_as("approver", "li-2")
    inc = open_incident(boss, flood_posts)
    iid = inc["id"]
    boss.post(f"{API}/{iid}/acknowledge", json={"version": 1})
    d = _draft(boss, iid, 2)
    r = boss.post(f"{API}/{iid}/approve", json={"version": d["version"]})
    assert r.status_code == 403
    assert "不能审核通过自己撰写的稿件" in r.get_json()["error"] and "另一位审核领导" in r.get_json()["error"]
    assert boss.get(f"{API}/{iid}").get_json()["status"] == "drafted"
    # the queue: the author does not see their own draft; another approver does
    assert boss.get(f"{API}/review-queue").get_json()["items"] == []
    q = other.get(f"{API}/review-queue").get_json()["items"]
    assert [(x["kind"], x["incident_id"], x["requested_by"]) for x in q] == [("draft", iid, "test-approver")]
    r = other.post(f"{API}/{iid}/approve", json={"version": d["version"], "comment": "同意"})
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    entry = [e for e in r.get_json()["timeline"] if e["action"] == "approve"][-1]
    assert entry["actor"] == "li-2" and "self_approval" not in entry["payload"]


def test_one_person_office_may_self_approve_audited(app_config, analyzer):
    from opinion_desk import create_app, stop_background
    from tests.conftest import ensure_user, login_client

    app_config["incidents"]["allow_self_approval"] = True
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    try:
        boss = login_client(app, ensure_user(app, "approver"))
        iid = boss.post(API, json={"title": "人民路积水", "level": "一般"}).get_json()["id"]
        boss.post(f"{API}/{iid}/acknowledge", json={"version": 1})
        d = _draft(boss, iid, 2)
        r = boss.post(f"{API}/{iid}/approve", json={"version": d["version"]})
        assert r.status_code == 200
        entry = [e for e in r.get_json()["timeline"] if e["action"] == "approve"][-1]
        assert entry["payload"]["self_approval"] is True  # audited as such
    finally:
        stop_background(app)


def test_close_request_goes_to_the_approvers(app, login_as, flood_posts, live_server, desk_events):
    duty, boss = login_as("duty"), login_as("approver")
    got = desk_events("review")
    iid = open_incident(duty, flood_posts, level="一般")["id"]
    r = duty.post(f"{API}/{iid}/close", json={"version": 1})
    assert r.status_code == 400 and "书面理由" in r.get_json()["error"]
    r = duty.post(f"{API}/{iid}/close", json={"version": 1, "reason": "经核实为旧闻，已于上月处置"})
    assert r.status_code == 202
    d = r.get_json()
    assert d["close_requested"] and d["status"] == "open"
    assert d["close_request"]["comment"] == "经核实为旧闻，已于上月处置" and d["close_request"]["approver"] == "test-duty"
    assert any(e["action"] == "close_request" for e in d["timeline"])
    _name, ev = got.get(timeout=20)
    assert ev["event"] == "close_request" and ev["item"]["incident_id"] == iid
    assert "经核实为旧闻" in ev["message"] and "待我审核" in ev["message"]
    # a second request while one waits is refused; the duty officer cannot decide it
    r = duty.post(f"{API}/{iid}/close", json={"version": d["version"], "reason": "again"})
    assert r.status_code == 400 and "已有待审核的关闭申请" in r.get_json()["error"]
    assert duty.post(f"{API}/{iid}/close-request/accept", json={}).status_code == 403
    q = boss.get(f"{API}/review-queue").get_json()["items"]
    assert [(x["kind"], x["reason"]) for x in q] == [("close_request", "经核实为旧闻，已于上月处置")]
    assert duty.get(f"{API}/review-queue").get_json()["items"] == []

    # declined with a comment: stays open, the request is answered
    assert boss.post(f"{API}/{iid}/close-request/decline", json={}).status_code == 400
    r = boss.post(f"{API}/{iid}/close-request/decline", json={"comment": "仍有网民追问，请先发布情况说明"})
    assert r.status_code == 200 and r.get_json()["status"] == "open" and r.get_json()["close_request"] is None
    # asked again, accepted: closed with the officer's reason, approved by the approver
    r = duty.post(f"{API}/{iid}/close", json={"version": r.get_json()["version"], "reason": "已电话回复当事人"})
    assert r.status_code == 202
    r = boss.post(f"{API}/{iid}/close-request/accept", json={"version": r.get_json()["version"]})
    assert r.status_code == 200
    d = r.get_json()
    assert d["status"] == "closed" and d["close_reason"] == "已电话回复当事人" and d["close_approved_by"] == "test-approver"
    assert [a["decision"] for a in d["approvals"] if a["kind"] == "close_request"] == ["rejected", "approved"]
    assert boss.get(f"{API}/review-queue").get_json()["items"] == []
