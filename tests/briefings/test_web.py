"""/briefings: the list, the form (duty officers, approvers, admins), the HTML page and the Word download, and
the JSON API; bad input is answered in Chinese, keeping what was typed."""

from __future__ import annotations

import io
import re

from docx import Document


def test_duty_officer_makes_a_daily_briefing_from_the_form(app, seeded, login_as):
    c = login_as("duty")
    page = c.get("/briefings").get_data(as_text=True)
    assert "还没有简报" in page and 'id="make-form"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/briefings", data={"csrf_token": token, "kind": "daily", "from": "2026-11-24"})
    assert r.status_code == 303 and "/briefings?made=" in r.headers["Location"]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "简报已生成" in page and "舆情日报（2026年11月24日）" in page
    assert "2026-11-24 00:00 至 2026-11-25 00:00（北京时间）" in page and "值班员小王" in page  # who, by display name
    rid = int(re.search(r'data-id="(\d+)"', page).group(1))
    html = c.get(f"/briefings/{rid}")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "共监测到相关信息 128 条" in html.get_data(as_text=True)
    doc = c.get(f"/briefings/{rid}.docx")
    assert doc.status_code == 200
    assert "filename*=UTF-8''" in doc.headers["Content-Disposition"]  # the Chinese title as the file name
    body = "\n".join(p.text for p in Document(io.BytesIO(doc.get_data())).paragraphs)
    assert "共监测到相关信息 128 条" in body


def test_a_range_from_the_form_with_times(app, seeded, login_as):
    c = login_as("approver")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/briefings").get_data(as_text=True)).group(1)
    r = c.post("/briefings", data={"csrf_token": token, "kind": "range", "from": "2026-11-24", "from_time": "14:00",
                                   "to": "2026-11-24", "to_time": "18:00"})
    assert r.status_code == 303
    rows = c.get("/api/v1/briefings").get_json()["briefings"]
    assert rows[0]["kind"] == "range" and rows[0]["span"] == "2026-11-24 14:00 至 2026-11-24 18:00（北京时间）"
    assert rows[0]["created_by"] == "test-approver"


def test_bad_input_is_answered_in_chinese_and_kept(app, seeded, login_as):
    c = login_as("duty")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/briefings").get_data(as_text=True)).group(1)
    r = c.post("/briefings", data={"csrf_token": token, "kind": "range", "from": "2026-11-24", "to": "2026-11-20"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "to：结束时间 2026-11-20 应晚于开始时间 2026-11-24" in page
    assert 'value="2026-11-20"' in page  # what was typed is still there
    r = c.post("/api/v1/briefings", json={"kind": "monthly", "from": "2026-11-01"})
    assert r.status_code == 400 and r.get_json()["field"] == "kind"


def test_analysts_read_but_do_not_make(app, seeded, login_as):
    c = login_as("analyst")
    page = c.get("/briefings").get_data(as_text=True)
    assert "生成简报需要值班员、审核领导或管理员角色" in page and 'id="make-form"' not in page
    r = c.post("/api/v1/briefings", json={"kind": "daily", "from": "2026-11-24"})
    assert r.status_code == 403
    assert c.get("/briefings/99.docx").status_code == 404


def test_the_api_makes_and_mails(app, seeded, client, smtp_server):
    r = client.post("/api/v1/briefings", json={"kind": "weekly", "from": "2026-11-24", "send": True})
    assert r.status_code == 201
    row = r.get_json()
    assert row["title"] == "舆情周报（2026年11月23日至11月29日）" and row["mail_status"] == "queued"
    assert row["figures"]["posts"] == 131


def test_a_store_that_cannot_be_reached_is_said_in_chinese(app_config, tmp_path):
    from opinion_desk import create_app, stop_background
    from tests.conftest import ensure_user, free_port, login_client

    app_config["store"] = {"backend": "elasticsearch"}
    app_config["store.elasticsearch"] = {"urls": [f"http://127.0.0.1:{free_port()}"], "request_timeout": 2}
    app = create_app(app_config)
    try:
        c = login_client(app, ensure_user(app, "duty"))
        r = c.post("/api/v1/briefings", json={"kind": "daily", "from": "2026-11-24"})
        assert r.status_code == 503 and r.get_json()["error"].startswith("帖子库暂时无法访问")
    finally:
        stop_background(app)
        app.desk.store.close()
