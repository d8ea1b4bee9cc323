"""In Chromium: an overdue incident is unmistakable on the list and the dashboard (red, 已超时 X 小时), the
dashboard's 待处置事件 panel follows live, a duty officer assigns an incident and changes its level from the
workspace (lowering is refused to them), and changes their own password."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.incidents import routing
from opinion_desk.incidents.lifecycle import Actor
from tests.conftest import TEST_PASSWORD, ensure_user, login_client, session_cookie

pytestmark = pytest.mark.browser
RED = "rgb(185, 28, 28)"


@pytest.fixture
def app_config(app_config):
    app_config["incidents"] = {"routing_file": str(routing.EXAMPLE)}
    return app_config


def _page(browser, app, role):
    cookie = session_cookie(login_client(app, ensure_user(app, role)))
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1360, "height": 1000})
    ctx.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    return ctx, ctx.new_page()


def test_overdue_assign_level_dashboard_password(app, live_server, browser, page, artifacts):
    desk = app.desk.incidents
    duty_actor = Actor("test-duty", "值班员小王", ["duty"])
    ensure_user(app, "approver")
    # an incident reported by phone 60 hours ago: its 48-hour response deadline passed 12 hours ago
    late = desk.open(duty_actor, title="城南小学食堂学生不适（电话报告）", level="一般",
                     opened_at=datetime.now(timezone.utc) - timedelta(hours=60, minutes=5))
    fresh = desk.open(duty_actor, title="人民路路灯损坏", level="一般")
    assert late.department == "县教育局"

    # -- the list: the overdue row is red and says how late it is --------------------------------------------
    page.goto(live_server + "/incidents")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    row = page.locator(f"#incident-rows tr[data-id='{late.id}']")
    row.wait_for(timeout=10000)
    page.wait_for_selector(f"#incident-rows tr[data-id='{late.id}'].overdue", timeout=5000)
    clock = row.locator(".countdown").first
    assert "已超时 12 小时" in clock.inner_text()
    assert clock.evaluate("e => getComputedStyle(e).color") == RED
    assert row.locator(".overdue-tag").is_visible() and row.locator(".overdue-tag").inner_text() == "已超时"
    ok_row = page.locator(f"#incident-rows tr[data-id='{fresh.id}']")
    assert "剩余 47 小时" in ok_row.locator(".countdown").first.inner_text()
    assert ok_row.get_attribute("data-overdue") == "0" and not ok_row.locator(".overdue-tag").is_visible()
    page.screenshot(path=str(artifacts / "incidents_overdue.png"), full_page=True)

    # -- the dashboard panel: most urgent first, live over the `incident` event --------------------------------
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    page.wait_for_selector(f"#incident-panel li[data-id='{late.id}'].overdue", timeout=10000)
    items = page.locator("#incident-panel li[data-id]")
    assert items.first.get_attribute("data-id") == str(late.id)
    assert "已超时 12 小时" in items.first.inner_text()
    major = desk.open(Actor("test-approver", "李主任", ["approver"]), title="化工园区异味", level="重大")  # from outside the page: arrives live
    page.wait_for_selector(f"#incident-panel li[data-id='{major.id}']", timeout=10000)
    ids = [items.nth(i).get_attribute("data-id") for i in range(items.count())]
    assert ids == [str(late.id), str(major.id), str(fresh.id)]  # overdue, then 5 h, then 48 h
    assert "剩余 4 小时" in page.locator(f"#incident-panel li[data-id='{major.id}']").inner_text()
    page.screenshot(path=str(artifacts / "dashboard_incidents.png"), full_page=True)

    # -- the workspace: assign and change the level ----------------------------------------------------------
    ctx, duty = _page(browser, app, "duty")
    try:
        duty.on("dialog", lambda d: d.dismiss())
        duty.goto(f"{live_server}/incidents/{fresh.id}")
        duty.wait_for_selector("body[data-live='1']", timeout=20000)
        assert duty.locator("#inc-dept").inner_text() == "县住建局"  # 路灯 -> 住建局 by the example table
        duty.select_option("#assign-user", "test-approver")
        duty.fill("#assign-dept", "县教育局")
        duty.locator("#assign-save").click()
        duty.wait_for_selector("#action-msg .msg.ok:has-text('已指派')", timeout=10000)
        assert duty.locator("#inc-assignee").inner_text() == "李主任"
        assert duty.locator("#inc-dept").inner_text() == "县教育局"

        # raising to a major level starts the 5 h / 24 h clocks: only an approver may, the duty officer is refused
        duty.select_option("#level-select", "重大")
        duty.locator("#level-save").click()
        duty.wait_for_selector("#action-msg .msg.err", timeout=10000)
        assert "审核领导" in duty.locator("#action-msg").inner_text()
        assert duty.locator("#inc-level").inner_text() == "一般"
        duty.select_option("#level-select", "较大")
        duty.locator("#level-save").click()
        duty.wait_for_selector("#inc-level:text('较大')", timeout=10000)
        # lowering lengthens the deadlines: a duty officer is refused, nothing changes
        duty.select_option("#level-select", "一般")
        duty.locator("#level-save").click()
        duty.wait_for_selector("#action-msg .msg.err:has-text('降低事件级别')", timeout=10000)
        assert "审核领导" in duty.locator("#action-msg").inner_text()
        assert duty.locator("#inc-level").inner_text() == "较大"
        duty.wait_for_function("() => document.getElementById('level-select').value === '较大'", timeout=5000)
        timeline = duty.locator("#timeline").inner_text()
        assert "指派" in timeline and "调整级别" in timeline
        duty.screenshot(path=str(artifacts / "incident_manage.png"), full_page=True)

        # -- the officer changes their own password -----------------------------------------------------------
        duty.locator("#me").click()
        duty.wait_for_url("**/account/password", timeout=10000)
        duty.fill("#old_password", TEST_PASSWORD)
        duty.fill("#new_password", "duty-new-pass-1")
        duty.fill("#new_password2", "duty-new-pass-1")
        duty.locator("#password-save").click()
        duty.wait_for_selector("#account-ok", timeout=10000)
        duty.screenshot(path=str(artifacts / "account_password.png"), full_page=True)
        duty.goto(f"{live_server}/incidents")  # still logged in
        duty.wait_for_selector(f"#incident-rows tr[data-id='{fresh.id}']", timeout=10000)
    finally:
        ctx.close()
