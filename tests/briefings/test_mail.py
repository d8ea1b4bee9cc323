"""The schedule makes the briefings that fall due and mails them to the named leaders through the outbox and the
email channel, to a real SMTP server (aiosmtpd): the .docx attached, the HTML page as the body with its charts
inline."""

from __future__ import annotations

import time
from datetime import date

from opinion_desk.briefings import BriefingDesk
from opinion_desk.briefings import period as P
from tests.briefings.conftest import BJ, NOW


def wait_for(box, n: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while len(box.messages) < n and time.monotonic() < end:
        time.sleep(0.05)
    assert len(box.messages) >= n, f"{len(box.messages)} of {n} messages arrived"


def test_schedule_makes_due_briefings_once_and_mails_them(app, seeded, briefings, smtp_server):
    _host, _port, box = smtp_server
    made = briefings.tick()  # 08:05 on Wednesday the 25th: the 24th's daily and the last Monday's weekly are due
    rows = [briefings.get(i) for i in made]
    assert [r["title"] for r in rows] == ["舆情日报（2026年11月24日）", "舆情周报（2026年11月16日至11月22日）"]
    assert all(r["created_by"] == "system" and r["mail_status"] == "queued" for r in rows)
    assert rows[0]["recipients"] == ["li@qingshan.gov.cn", "leader@qingshan.gov.cn"]
    assert briefings.tick() == []  # made once
    wait_for(box, 2)
    end = time.monotonic() + 10
    while any(r.get("delivery") != "sent" for r in briefings.list()) and time.monotonic() < end:
        time.sleep(0.05)
    assert [r["delivery"] for r in briefings.list()] == ["sent", "sent"]
    daily = next(m for m in box.messages if "日报" in m["msg"]["Subject"])
    assert sorted(daily["to"]) == ["leader@qingshan.gov.cn", "li@qingshan.gov.cn"]  # the leaders, not the duty box
    msg = daily["msg"]
    assert msg["Subject"] == "舆情日报（2026年11月24日）"
    assert msg["From"] == "yuqing@qingshan.gov.cn"
    att = [p for p in msg.iter_attachments() if p.get_filename()]
    assert [p.get_filename() for p in att] == ["舆情日报（2026年11月24日）.docx"]
    assert att[0].get_content() == (briefings.dir / rows[0]["docx_file"]).read_bytes()
    html = msg.get_body(("html",))
    assert "共监测到相关信息 128 条" in html.get_content()
    assert 'src="cid:volume@briefing"' in html.get_content() and "data:image" not in html.get_content()
    related = msg.get_body(("related",))
    cids = sorted(p["Content-ID"] for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert cids == ["<sentiment@briefing>", "<volume@briefing>"]
    text = msg.get_body(("plain",)).get_content()
    assert "完整简报见附件" in text and "统计时段：2026-11-24 00:00 至 2026-11-25 00:00（北京时间）" in text


def test_recipients_that_cannot_be_mailed_are_named(app, seeded, smtp_server):
    from opinion_desk.state.users import create_user

    with app.desk.state.session_scope() as s:
        create_user(s, "wangzb", "wang-password-123", ["approver"], display_name="王主任")  # no email
    cfg = app.config["DESK"]
    cfg["briefings"]["recipients"] = ["lizr", "wangzb", "nobody"]
    desk = BriefingDesk(cfg, app.desk.store, app.desk.state,
                        app.desk.outbox, clock=lambda: NOW)
    row = desk.make(P.day(date(2026, 11, 24), BJ), "test", send=True)
    assert row["mail_status"] == "queued" and row["recipients"] == ["li@qingshan.gov.cn"]
    assert row["mail_note"] == "收件人 wangzb（王主任）：账号未填写邮箱；收件人 nobody：没有这个用户"
    wait_for(smtp_server[2], 1)
    assert smtp_server[2].messages[0]["to"] == ["li@qingshan.gov.cn"]


def test_without_an_email_channel_the_row_says_why(app, seeded):
    desk = BriefingDesk(app.config["DESK"], app.desk.store, app.desk.state,
                        None, clock=lambda: NOW)
    row = desk.make(P.day(date(2026, 11, 24), BJ), "test", send=True)
    assert row["mail_status"] == "error" and "邮件通道 'email' 未配置" in row["mail_note"]
    assert (desk.dir / row["docx_file"]).is_file()  # the briefing itself is kept all the same


def test_a_missing_attachment_fails_the_delivery_naming_the_file(app, seeded, briefings, client):
    outbox = app.desk.outbox
    row = briefings.make(P.day(date(2026, 11, 24), BJ), "test")
    (briefings.dir / row["docx_file"]).unlink()
    row = briefings.send(row["id"])
    end = time.monotonic() + 20
    while time.monotonic() < end and outbox.rows(f"B{row['id']}")[0]["status"] == "pending":
        time.sleep(0.05)
    out = outbox.rows(f"B{row['id']}")[0]
    assert out["status"] == "failed" and row["docx_file"] in out["last_error"]
    listed = next(r for r in briefings.list() if r["id"] == row["id"])
    assert listed["delivery"] == "failed" and row["docx_file"] in listed["delivery_error"]
    page = client.get("/briefings").get_data(as_text=True)
    assert "发送失败" in page and row["docx_file"] in page


def test_the_desk_schedules_the_job(app):
    from opinion_desk import jobs

    jobs.briefing_jobs(app.desk)  # what start_background does; the scheduler is not started here
    job = app.desk.scheduler.aps.get_job("briefings")
    assert job is not None and job.trigger.interval.total_seconds() == jobs.BRIEFINGS_EVERY
