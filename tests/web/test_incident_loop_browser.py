"""The whole loop in Chromium, as a duty officer and a second user as approver, with the 演示 publisher (no
account): a live alert -> 接警立案 -> acknowledge -> draft -> the approver approves (the duty officer sees no
审核通过) -> 双微发布 (both channels verified) -> an escalation reaches the open workspace (one banner per incident,
updated in place, linking the incident) -> closed with the clock stopped. Then four eyes by page: an approver's own
draft shows no 审核通过; manual 立案 from an unknown platform link is refused with the reason; a duty officer's close request reaches the approver live and is accepted. The sound notice
and the lost-connection bar are checked on the way. Screenshots: tests/artifacts/loop_*.png."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from opinion_desk.detection.clock import ManualClock
from opinion_desk.incidents.lifecycle import stepped_clock
from opinion_desk.incidents.service import tick_deadlines
from tests.conftest import ensure_user, login_client, session_cookie, write_rules
from tests.incidents.conftest import PUBLIC_BASE

pytestmark = pytest.mark.browser

RULE = """
name: 积水关注
type: keyword
severity: high
query_key: keyword
filter:
  keywords: [积水, 塌方]
duty:
  check: 联系城管局核实排水情况
"""


@pytest.fixture
def app_config(app_config):
    write_rules(app_config, {"kw.yaml": RULE})
    app_config["incidents"] = {"publisher": "demo", "public_base_url": PUBLIC_BASE}
    return app_config


class Officer:
    """One person in one browser context; ``answers`` feeds window.prompt/confirm in order."""

    def __init__(self, browser, app, role, username=None, width=1366):
        self.user = ensure_user(app, role, username)
        cookie = session_cookie(login_client(app, self.user))
        self.ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                       viewport={"width": width, "height": 1000})
        self.ctx.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
        self.page = self.ctx.new_page()
        self.answers: list[str] = []
        self.page.on("dialog", lambda d: d.accept(self.answers.pop(0)) if self.answers else d.dismiss())

    def go(self, url):
        self.page.goto(url)
        self.page.wait_for_selector("body[data-live='1']", timeout=20000)

    def shot(self, artifacts, name):
        self.page.screenshot(path=str(artifacts / f"loop_{name}.png"), full_page=True)


def test_live_alert_to_closed_with_both_channels_verified(app, live_server, browser, artifacts, ingest_headers):
    duty = Officer(browser, app, "duty")
    boss = Officer(browser, app, "approver")
    d, b = duty.page, boss.page
    try:
        duty.go(live_server + "/incidents")
        # Chromium keeps the beep silent until the page is clicked: the page says so, one click enables it
        d.wait_for_selector("#sound-blocked:not([hidden])", timeout=10000)
        assert "浏览器阻止了告警提示音" in d.locator("#sound-blocked").inner_text()
        duty.shot(artifacts, "0_sound_blocked")
        d.locator("#sound-enable").click()
        d.wait_for_selector("#sound-blocked[hidden]", state="attached", timeout=10000)
        assert d.evaluate("() => window.desk.soundState()") == "running"

        # 1. a live alert: a post comes in through the ingest API
        now = datetime.now(timezone.utc).isoformat()
        r = requests.post(live_server + "/api/v1/posts", headers=ingest_headers, timeout=10,
                          json=[{"id": "loop-1", "text": "青山县人民路积水严重，多辆车熄火", "reposts": 300,  # reach: 重大
                                 "created_at": now}])
        assert r.status_code == 202, r.text
        d.locator(".alert-banner[data-rule='积水关注']").wait_for(timeout=20000)  # heard on the incidents page
        d.locator("#alert-inbox li[data-alert] button").wait_for(timeout=20000)
        duty.shot(artifacts, "1_live_alert")

        # 2. 接警立案 from the alert, then 接警
        d.locator("#alert-inbox li[data-alert] button").first.click()
        d.wait_for_url("**/incidents/1", timeout=20000)
        d.wait_for_selector("body[data-live='1']", timeout=20000)
        d.locator("[data-act='acknowledge']").click()
        d.wait_for_selector("#inc-status[data-status='acknowledged']", timeout=10000)
        # the workspace hears a new alert too: banner, beep
        beeps = d.evaluate("() => window.desk.sounds.alert")
        r = requests.post(live_server + "/api/v1/posts", headers=ingest_headers, timeout=10,
                          json=[{"id": "loop-2", "text": "城北山体塌方，道路中断",
                                 "created_at": datetime.now(timezone.utc).isoformat()}])
        assert r.status_code == 202, r.text
        d.locator(".alert-banner[data-kind='alert']", has_text="塌方").wait_for(timeout=20000)
        for _ in range(50):
            if d.evaluate("() => window.desk.sounds.alert") > beeps:
                break
            d.wait_for_timeout(100)
        assert d.evaluate("() => window.desk.sounds.alert") == beeps + 1 and d.evaluate("() => window.desk.soundsBlocked") == 0

        # 3. the draft; the duty officer has no 审核通过 / 退回修改
        d.fill("#draft-title", "关于人民路积水情况的通报")
        d.fill("#draft-text", "11月24日，青山县人民路因强降雨积水，经排查无人员伤亡，积水已于当日排除。")
        d.locator("#draft-save").click()
        d.wait_for_selector("#inc-status[data-status='drafted']", timeout=10000)
        assert d.locator("[data-act='approve']").is_hidden() and d.locator("[data-act='reject']").is_hidden()
        duty.shot(artifacts, "2_drafted_duty")

        # 4. the approver (a second user) sees it in 待我审核 and approves; the duty page follows live
        boss.go(live_server + "/incidents")
        b.locator("#review-queue li[data-kind='draft'][data-incident='1']").wait_for(timeout=10000)
        boss.shot(artifacts, "3_review_queue")
        boss.go(live_server + "/incidents/1")
        assert b.locator("[data-act='approve']").is_visible() and b.locator("[data-act='reject']").is_visible()
        b.locator("[data-act='approve']").click()
        b.wait_for_selector("#inc-status[data-status='approved']", timeout=10000)
        d.wait_for_selector("#inc-status[data-status='approved']", timeout=10000)

        # 5. 双微发布 with the 演示 publisher: both channels published and verified
        d.locator("[data-act='publish']").click()
        d.wait_for_selector("#inc-status[data-status='published']", timeout=20000)
        d.wait_for_selector("#clocks .tag.pos", timeout=20000)
        pubs = d.locator("#publications li[data-status='published']")
        assert pubs.count() == 2
        assert {pubs.nth(i).get_attribute("data-channel") for i in range(2)} == {"weibo", "wechat"}
        inc = d.request.get(live_server + "/api/v1/incidents/1").json()
        assert inc["verified_at"] and all(p["verified_at"] for p in inc["publications"] if p["status"] == "published")
        assert "已按时完成" in d.locator("#clocks").inner_text()
        duty.shot(artifacts, "4_published_verified")

        # 6. the press-conference clock still runs: an escalation reaches the open workspace, one banner updated
        #    in place, linking the incident; the approver's page hears it too
        desk = app.desk.incidents
        opened = datetime.fromisoformat(inc["opened_at"].replace("Z", "+00:00"))
        with stepped_clock(ManualClock(opened + timedelta(hours=12.5))) as clock:
            assert tick_deadlines(desk) == ["1:press:0.5"]
            banner = d.locator(".alert-banner.escalation[data-incident-id='1']")
            banner.wait_for(timeout=10000)
            assert "【事件时限】事件#1" in banner.inner_text() and "50%" in banner.inner_text()
            assert banner.locator("a.more").get_attribute("href") == "/incidents/1"
            clock.advance(timedelta(hours=7))
            assert tick_deadlines(desk) == ["1:press:0.8"]
            d.locator(".alert-banner.escalation[data-incident-id='1']", has_text="80%").wait_for(timeout=10000)
            assert d.locator(".alert-banner.escalation").count() == 1  # updated in place, not stacked
            b.locator(".alert-banner.escalation[data-incident-id='1']").wait_for(timeout=10000)
            d.locator("#inc-escalations li[data-esc-kind='press:0.8']").wait_for(timeout=10000)
            duty.shot(artifacts, "5_escalation_banner")
        # the durable list: the 告警 page's 事件时限 section, each linking its incident
        boss.go(live_server + "/alerts")
        item = b.locator("#escalations-list li[data-incident-id='1'][data-esc-kind='press:0.8']")
        item.wait_for(timeout=10000)
        assert item.locator("a").get_attribute("href") == "/incidents/1" and "李主任" in item.inner_text()
        boss.shot(artifacts, "5b_alerts_page_escalations")

        # 7. a lost connection is loud: full-width red bar and the title changes; it clears on reconnect
        d.evaluate("() => window.desk.socket.io.engine.close()")
        d.wait_for_selector("#conn-lost:not([hidden])", timeout=10000)
        assert d.title().startswith("【连接中断】")
        width = d.evaluate("() => document.getElementById('conn-lost').getBoundingClientRect().width")
        assert width >= 1300
        duty.shot(artifacts, "6_connection_lost")
        d.wait_for_selector("#conn-lost[hidden]", state="attached", timeout=20000)
        assert not d.title().startswith("【连接中断】")

        # 8. 关闭事件 (answered, so the duty officer may): 已关闭, and the clocks stand still
        duty.answers = ["ok"]
        d.locator("[data-act='close']").click()
        d.wait_for_selector("#inc-status[data-status='closed']", timeout=10000)
        clocks = d.locator("#clocks").inner_text()
        assert "已按时完成" in clocks and "事件已关闭，计时停止" in clocks and "剩余" not in clocks
        d.wait_for_timeout(1500)  # the page repaints clocks every second: still stopped
        assert d.locator("#clocks").inner_text() == clocks
        duty.shot(artifacts, "7_closed")
    finally:
        duty.ctx.close()
        boss.ctx.close()


def test_four_eyes_and_close_request_by_page(app, live_server, browser, artifacts):
    boss = Officer(browser, app, "approver")
    other = Officer(browser, app, "approver", "li-2")
    duty = Officer(browser, app, "duty", width=390)
    b, o, d = boss.page, other.page, duty.page
    try:
        # an approver drafts: no 审核通过 for them, a hint saying why; the server refuses too
        c = login_client(app, boss.user)
        iid = c.post("/api/v1/incidents", json={"title": "城南小学食堂", "level": "一般"}).get_json()["id"]
        c.post(f"/api/v1/incidents/{iid}/acknowledge", json={})
        boss.go(f"{live_server}/incidents/{iid}")
        b.fill("#draft-title", "关于城南小学食堂情况的说明")
        b.fill("#draft-text", "经核查，城南小学食堂食材来源合规，学生身体状况良好。")
        b.locator("#draft-save").click()
        b.wait_for_selector("#inc-status[data-status='drafted']", timeout=10000)
        assert b.locator("[data-act='approve']").is_hidden()
        assert "须由另一位审核领导审核通过" in b.locator("#role-hint").inner_text()
        r = b.request.post(f"{live_server}/api/v1/incidents/{iid}/approve", data={},
                           headers={"X-CSRF-Token": b.evaluate("() => window.desk.csrf")})
        assert r.status == 403 and "不能审核通过自己撰写的稿件" in r.json()["error"]
        boss.shot(artifacts, "8_own_draft_no_approve")

        # manual 立案 from a platform link the store does not hold: refused with the reason, nothing opened
        duty.go(f"{live_server}/incidents")
        d.fill("#open-form input[name=title]", "网传城南小学食物中毒")
        d.fill("#open-form textarea[name=post_ids]", "https://weibo.com/1234567890/KkBtUx2dv")
        d.locator("#open-form button[type=submit]").click()
        d.wait_for_selector("#list-msg .msg.err", timeout=10000)
        err = d.locator("#list-msg").inner_text()
        assert "未立案" in err and "找不到帖子" in err and "微博 mid 4649106427873349" in err
        assert d.url.endswith("/incidents")
        duty.shot(artifacts, "8b_manual_open_refused_390")

        # a duty officer (phone width) asks to close the unanswered incident; the other approver, on the list page,
        # gets a 待我审核 banner live and accepts it on the workspace
        other.go(f"{live_server}/incidents")
        duty.go(f"{live_server}/incidents/{iid}")
        assert d.locator("[data-act='close']").inner_text() == "申请关闭"
        duty.answers = ["经核实为旧闻，家长已获回复"]
        d.locator("[data-act='close']").click()
        d.locator("#action-msg .msg.ok", has_text="已提交关闭申请").wait_for(timeout=10000)
        assert d.locator("[data-act='close']").is_hidden()
        duty.shot(artifacts, "9_close_requested_390")
        banner = o.locator(".alert-banner.review[data-incident-id='%d']" % iid)
        banner.wait_for(timeout=10000)
        assert "经核实为旧闻" in banner.inner_text() and "待我审核" in banner.inner_text()
        o.locator(f"#review-queue li[data-kind='close_request'][data-incident='{iid}']").wait_for(timeout=10000)
        other.shot(artifacts, "10_close_request_banner")
        banner.locator("a.more").click()
        o.wait_for_url(f"**/incidents/{iid}", timeout=10000)
        o.locator("[data-act='close-request/accept']").click()
        o.wait_for_selector("#inc-status[data-status='closed']", timeout=10000)
        d.wait_for_selector("#inc-status[data-status='closed']", timeout=10000)
        assert "事件已关闭，计时停止" in d.locator("#clocks").inner_text()
        other.shot(artifacts, "11_close_accepted")
    finally:
        for p in (boss, other, duty):
            p.ctx.close()
