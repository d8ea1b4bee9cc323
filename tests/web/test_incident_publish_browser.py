"""With no Weibo/WeChat account connected, a duty officer in Chromium still closes the loop: the pre-flight check
says in Chinese that the accounts are not connected, 双微发布 is refused the same way, the officer records the
hand-made publications (links fetched and snapshotted), both are verified live, and the incident closes.
Screenshots at 1366 px (and the panel at 390 px) in tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.conftest import ensure_user, login_client, session_cookie
from tests.incidents.conftest import PUBLIC_BASE, SAFE_URL, index, make_post
from tests.incidents.standins import wechat, weibo  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
API = "/api/v1/incidents"


@pytest.fixture
def app_config(app_config, weibo, wechat):
    app_config.setdefault("incidents", {}).update(public_base_url=PUBLIC_BASE, snapshot_private_hosts=True)
    app_config["incidents.weibo"] = {"base_url": weibo.url, "access_token": "", "safe_url": SAFE_URL,
                                     "account": "青山发布"}
    app_config["incidents.wechat"] = {"base_url": wechat.url, "appid": "", "secret": "", "account": "青山发布"}
    return app_config


def _page(browser, app, role, width=1366):
    cookie = session_cookie(login_client(app, ensure_user(app, role)))
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900})
    ctx.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    pg = ctx.new_page()
    pg.on("dialog", lambda d: d.accept())
    return ctx, pg


def test_manual_publication_path(app, live_server, browser, artifacts, weibo, wechat):
    ids = index(app, [make_post(1, "青山县人民路积水严重，车辆熄火")])
    duty_api = login_client(app, ensure_user(app, "duty"))
    boss_api = login_client(app, ensure_user(app, "approver"))
    r = duty_api.post(API, json={"title": "青山县人民路积水", "level": "较大", "post_ids": ids})
    iid = r.get_json()["id"]
    duty_api.post(f"{API}/{iid}/acknowledge", json={})
    duty_api.post(f"{API}/{iid}/drafts", json={"title": "关于人民路积水情况的通报",
                                               "text": "11月24日，人民路因强降雨积水，无人员伤亡，积水已排除。"})
    assert boss_api.post(f"{API}/{iid}/approve", json={}).status_code == 200
    # the office publishes by hand on both platforms (the stand-ins serve the pages the public reads)
    weibo.statuses.append({"idstr": "4900000000000042", "text": "【关于人民路积水情况的通报】积水已排除"})
    wechat.published.append({"url": f"{wechat.url}/s/hand42", "title": "关于人民路积水情况的通报",
                             "content": "<p>积水已排除</p>"})

    ctx, duty = _page(browser, app, "duty")
    try:
        duty.goto(f"{live_server}/incidents/{iid}")
        duty.wait_for_selector("body[data-live='1']", timeout=20000)
        duty.wait_for_selector("#preflight li[data-channel='wechat']", timeout=20000)
        pre = duty.locator("#preflight").inner_text()
        assert "微博账号未接入：请手工发布后登记链接" in pre and "微信公众号未接入：请手工发布后登记链接" in pre
        assert "[incidents.weibo] access_token" in pre  # the admin's detail line
        assert duty.locator("#manual-box").get_attribute("open") is not None

        duty.locator("[data-act='publish']").click()
        duty.wait_for_selector("#action-msg .msg.err", timeout=20000)
        assert "微博账号未接入：请手工发布后登记链接" in duty.locator("#action-msg").inner_text()
        # the refusal puts the incident back to 已审核; the page hears it after the message, so wait for it
        duty.wait_for_selector("#inc-status[data-status='approved']", timeout=10000)
        duty.screenshot(path=str(artifacts / "incident_manual_refused.png"), full_page=True)

        duty.select_option("#manual-channel", "weibo")
        duty.fill("#manual-url", f"{weibo.url}/{weibo.uid}/4900000000000042")
        duty.fill("#manual-by", "宣传科张三")
        duty.fill("#manual-at", "2026-11-24T10:30")
        duty.locator("#manual-save").click()
        duty.wait_for_selector("#publish-msg .msg.ok", timeout=20000)
        assert "已登记微博手工发布，快照已留存" in duty.locator("#publish-msg").inner_text()
        duty.wait_for_selector("#publications li[data-mode='manual'][data-channel='weibo']", timeout=10000)

        duty.select_option("#manual-channel", "wechat")
        duty.fill("#manual-url", f"{wechat.url}/s/hand42")
        duty.locator("#manual-save").click()
        duty.locator("#publish-msg .msg", has_text="双微均已发布").wait_for(timeout=20000)
        duty.wait_for_selector("#inc-status[data-status='published']", timeout=10000)
        duty.wait_for_selector("#publications li[data-channel='wechat'] .tag.pos", timeout=10000)
        pubs = duty.locator("#publications").inner_text()
        assert duty.locator("#publications li[data-mode='manual'] .tag.pos").count() == 2 and "宣传科张三" in pubs
        assert "2026/11/24 10:30" in pubs  # the time typed, Beijing time
        assert "快照 sha256" in pubs
        duty.wait_for_selector("#clocks .tag.pos", timeout=10000)
        assert "双微均已上线" in duty.locator("#clocks").inner_text()
        duty.screenshot(path=str(artifacts / "incident_manual_verified.png"), full_page=True)

        duty.locator("[data-act='close']").click()
        duty.wait_for_selector("#inc-status[data-status='closed']", timeout=10000)
        duty.wait_for_selector("#manual-box", state="hidden", timeout=5000)  # nothing to record on a closed incident
        assert "登记手工发布" in duty.locator("#timeline").inner_text()
        duty.screenshot(path=str(artifacts / "incident_manual_closed.png"), full_page=True)
    finally:
        ctx.close()
    ctx, narrow = _page(browser, app, "duty", width=390)
    try:
        narrow.goto(f"{live_server}/incidents/{iid}")
        narrow.wait_for_selector("#preflight li[data-channel='wechat']", timeout=20000)
        assert "微博分享文字" in narrow.locator("#preflight").inner_text()
        narrow.locator("#publish-panel").screenshot(path=str(artifacts / "incident_publish_panel_390.png"))
    finally:
        ctx.close()


@pytest.fixture
def demo_app_config(app_config):
    app_config["desk"]["demo"] = True  # `make run`: no account, no public address
    app_config["incidents"]["public_base_url"] = ""
    return app_config


def test_demo_publisher_is_labelled_on_the_page(demo_app_config, app, live_server, browser, artifacts, weibo, wechat):
    ids = index(app, [make_post(1, "青山县人民路积水严重，车辆熄火")])
    duty_api = login_client(app, ensure_user(app, "duty"))
    boss_api = login_client(app, ensure_user(app, "approver"))
    iid = duty_api.post(API, json={"title": "青山县人民路积水", "level": "较大", "post_ids": ids}).get_json()["id"]
    duty_api.post(f"{API}/{iid}/acknowledge", json={})
    duty_api.post(f"{API}/{iid}/drafts", json={"title": "关于人民路积水情况的通报", "text": "人民路积水已排除。"})
    assert boss_api.post(f"{API}/{iid}/approve", json={}).status_code == 200
    ctx, duty = _page(browser, app, "duty")
    try:
        duty.goto(f"{live_server}/incidents/{iid}")
        duty.wait_for_selector("#preflight li[data-channel='wechat']", timeout=20000)
        assert "演示模式" in duty.locator("#publish-panel h2").inner_text()
        assert duty.locator("#preflight .tag.demo").count() == 2 and duty.locator("#manual-box").get_attribute("open") is None
        duty.locator("[data-act='publish']").click()
        duty.wait_for_selector("#inc-status[data-status='published']", timeout=20000)
        duty.wait_for_selector("#publications li[data-mode='demo'] .tag.pos", timeout=10000)
        assert duty.locator("#publications li[data-mode='demo'] .tag.demo").count() == 2
        assert "渠道发布（演示）" in duty.locator("#timeline").inner_text()
        assert weibo.requests == [] and wechat.requests == []
        duty.screenshot(path=str(artifacts / "incident_demo_published.png"), full_page=True)
        with duty.expect_popup() as pop:
            duty.locator("#publications li[data-channel='weibo'] a").click()
        page = pop.value
        page.wait_for_selector("#demo-banner", timeout=10000)
        assert "演示" in page.locator("#demo-banner").inner_text() and "人民路积水已排除" in page.inner_text("body")
        page.screenshot(path=str(artifacts / "statement_demo.png"), full_page=True)
    finally:
        ctx.close()
