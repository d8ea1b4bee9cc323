"""A duty officer and an approver walk an alert to a verified 双微 answer in Chromium:
alert -> acknowledge -> draft -> approve (approver only) -> publish (stand-in servers) -> verified."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opinion_desk.state.alerts import Alert
from tests.conftest import ensure_user, login_client, session_cookie
from tests.incidents.conftest import PUBLIC_BASE, SAFE_URL, index, make_post
from tests.incidents.standins import wechat, weibo  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

EVIL = "青山县人民路积水严重 <img src=x onerror=alert(1)><script>document.title='pwned'</script>"


@pytest.fixture
def app_config(app_config, weibo, wechat):
    app_config.setdefault("incidents", {})["public_base_url"] = PUBLIC_BASE  # under the Weibo app's bound domain
    app_config["incidents.weibo"] = {"base_url": weibo.url, "access_token": weibo.token, "safe_url": SAFE_URL,
                                     "account": "青山发布"}
    app_config["incidents.wechat"] = {"base_url": wechat.url, "appid": wechat.appid, "secret": wechat.secret,
                                      "thumb_media_id": wechat.thumb, "account": "青山发布"}
    return app_config


def _page(browser, app, role):
    cookie = session_cookie(login_client(app, ensure_user(app, role)))
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1360, "height": 1000})
    ctx.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    pg = ctx.new_page()
    pg.on("dialog", lambda d: d.dismiss())
    return ctx, pg


def test_alert_to_verified_answer(app, live_server, browser, artifacts, weibo, wechat):
    ids = index(app, [make_post(1, EVIL), make_post(2, "青山县应急管理局：人民路积水，3辆车受损", author="青山县应急管理局",
                                                      author_type="gov")])
    t = datetime.now(timezone.utc)
    with app.desk.state.session_scope() as s:
        s.add(Alert(id="A-browser", rule="暴雨积水", rule_type="spike", severity="high", key="人民路", status="open",
                    reason="人民路积水 10 分钟 30 条", first_match=t, last_match=t, created_at=t, count=1,
                    post_ids=ids, duty={}, channels=[], details={}))
    dctx, duty = _page(browser, app, "duty")
    actx, boss = _page(browser, app, "approver")
    try:
        duty.goto(live_server + "/incidents")
        duty.wait_for_selector("body[data-live='1']", timeout=20000)
        duty.locator("#alert-inbox li[data-alert='A-browser'] button").click()
        duty.wait_for_url("**/incidents/1", timeout=20000)
        duty.wait_for_selector("body[data-live='1']", timeout=20000)
        # post text is shown as text, never run
        post = duty.locator("#posts li .text").first
        assert post.inner_text() == EVIL
        assert duty.locator("#posts script, #posts img").count() == 0 and duty.title() != "pwned"
        assert "剩余" in duty.locator("#clocks").inner_text()
        assert duty.locator("#inc-dept").inner_text() in ("未匹配", "青山县应急管理局")

        duty.locator("[data-act='acknowledge']").click()
        duty.wait_for_selector("#inc-status[data-status='acknowledged']", timeout=10000)

        duty.fill("#draft-title", "关于人民路积水情况的通报")
        duty.fill("#draft-topics", "青山发布")
        duty.fill("#draft-text", "11月24日，人民路因强降雨积水，无人员伤亡，2辆车受损，积水已排除。")
        duty.locator("#draft-save").click()
        duty.wait_for_selector("#inc-status[data-status='drafted']", timeout=10000)
        assert "3辆" in duty.locator("#draft-current .findings").inner_text()  # the own-draft check shows the conflict
        duty.screenshot(path=str(artifacts / "incident_drafted.png"), full_page=True)

        # the duty officer may not approve: the buttons are not shown, the page says who decides, the API refuses
        assert duty.locator("[data-act='approve']").is_hidden() and duty.locator("[data-act='reject']").is_hidden()
        assert "待审核领导审核" in duty.locator("#role-hint").inner_text()
        r = duty.request.post(live_server + "/api/v1/incidents/1/approve", data={},
                              headers={"X-CSRF-Token": duty.evaluate("() => window.desk.csrf")})
        assert r.status == 403 and "审核领导" in r.json()["error"]
        assert duty.locator("#inc-status").get_attribute("data-status") == "drafted"

        boss.goto(live_server + "/incidents/1")
        boss.wait_for_selector("body[data-live='1']", timeout=20000)
        boss.locator("[data-act='approve']").click()
        boss.wait_for_selector("#inc-status[data-status='approved']", timeout=10000)
        # the duty officer's page follows live, without a reload
        duty.wait_for_selector("#inc-status[data-status='approved']", timeout=10000)

        duty.locator("[data-act='publish']").click()
        duty.wait_for_selector("#inc-status[data-status='published']", timeout=20000)
        assert duty.locator("#publications li[data-status='published']").count() == 2
        assert len(weibo.statuses) == 1 and len(wechat.published) == 1

        st = weibo.statuses[0]
        index(app, [make_post(10, st["text"], minutes_ago=0, source_id=st["idstr"], author="青山发布",
                              url=f"https://weibo.com/{weibo.uid}/{st['idstr']}"),
                    make_post(11, "人民路积水已排除", minutes_ago=0, source="wechat-feeds", platform="wechat",
                              author="青山发布", title="关于人民路积水情况的通报", url=wechat.published[0]["url"])])
        duty.locator("[data-act='verify']").click()
        duty.wait_for_selector("#clocks .tag.pos", timeout=10000)
        assert "双微均已上线" in duty.locator("#clocks").inner_text()
        assert "已按时完成" in duty.locator("#clocks").inner_text()
        timeline = duty.locator("#timeline").inner_text()
        for word in ("立案", "接警", "拟稿", "审核通过", "发布完成", "双微均已上线"):
            assert word in timeline
        duty.screenshot(path=str(artifacts / "incident_verified.png"), full_page=True)

        duty.goto(live_server + "/incidents?x=1")
        duty.wait_for_selector("#timeliness b", timeout=10000)
        duty.screenshot(path=str(artifacts / "incidents_list.png"), full_page=True)
    finally:
        dctx.close()
        actx.close()
