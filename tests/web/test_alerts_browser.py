"""What a duty officer sees of alerts, in Chromium: the live banner on the dashboard (with the rule's duty notes,
the post shown as text, the beep asked for), a silence created on the 告警 page that keeps the next matching post
quiet, and the 舆情平息 notice when a spike resolves. Screenshots go to tests/artifacts/alerts_*.png."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
from tests.conftest import write_rules

pytestmark = pytest.mark.browser

KEYWORD = """
name: 重点关注词
type: keyword
severity: high
query_key: keyword
description: 涉及安全生产事故的关注词
filter:
  keywords: [爆炸, 起火]
duty:
  check: 核实现场伤亡情况
  owner: 县应急管理局值班室
  notes: 先电话报告分管领导，再起草通稿
"""

SPIKE = """
name: 积水声量突增
type: spike
severity: medium
timeframe: 10m
spike_height: 3
threshold_cur: 5
resolve_after: 10m
filter:
  keywords: [积水]
duty:
  check: 联系城管局核实排水情况
"""

CAVE_IN = """
name: 塌方关注
type: keyword
severity: medium
filter:
  keywords: [塌方]
"""

EVIL = "城南化工厂发生爆炸，浓烟滚滚 <script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"


@pytest.fixture
def app_config(app_config):
    write_rules(app_config, {"10-keyword.yaml": KEYWORD, "20-spike.yaml": SPIKE, "30-cave-in.yaml": CAVE_IN})
    return app_config


def ingest(live_server: str, headers: dict, items: list[dict]) -> list[str]:
    r = requests.post(live_server + "/api/v1/posts", json=items, headers=headers, timeout=10)
    assert r.status_code == 202, r.text
    return r.json()["ids"]


def sounds(page) -> dict:
    return page.evaluate("() => Object.assign({}, window.desk.sounds)")


def test_duty_officer_sees_alert_silences_it_and_sees_it_calm_down(app, live_server, page, ingest_headers, artifacts):
    now = datetime.now(timezone.utc)
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    assert sounds(page) == {"alert": 0, "resolved": 0}

    # 1. a post with a watch word comes in through the ingest API: the banner appears live, in Chinese
    (pid,) = ingest(live_server, ingest_headers, [{"id": "kw-1", "text": EVIL, "author": "热心市民<b>", "reposts": 300,
                                                   "created_at": now.isoformat()}])
    banner = page.locator(".alert-banner[data-rule='重点关注词']")
    banner.wait_for(timeout=20000)
    text = banner.inner_text()
    assert "【重大预警】重点关注词「爆炸」" in text and "命中关注词：爆炸" in text
    assert "核查：核实现场伤亡情况" in text and "责任：县应急管理局值班室" in text
    assert "备注：先电话报告分管领导，再起草通稿" in text
    # the post is shown as text: its markup is neither parsed nor run
    assert banner.locator(".post .text").inner_text() == EVIL
    assert banner.locator(".post .who").inner_text() == "热心市民<b>："
    assert page.locator("main script, main img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    # the alerts panel of the dashboard lists it with the duty notes; the beep was asked for
    panel = page.locator("#alerts-panel li[data-kind='alert']").first
    panel.wait_for(timeout=10000)
    assert "重点关注词" in panel.inner_text() and "核实现场伤亡情况" in panel.inner_text()
    page.wait_for_function("() => window.desk.sounds.alert === 1", timeout=10000)
    alerts = page.request.get(live_server + "/api/v1/alerts").json()["alerts"]
    assert [(a["rule"], a["status"], a["post_ids"]) for a in alerts] == [("重点关注词", "open", [pid])]

    # 2. on the 告警 page the officer silences the rule for two hours, through the form
    ap = page.context.new_page()
    ap.goto(live_server + "/alerts")
    ap.wait_for_selector("body[data-live='1']", timeout=20000)
    ap.locator(f"#alerts-body tr[id='{alerts[0]['id']}']").wait_for(timeout=10000)
    ap.wait_for_selector("#rule-names option[value='重点关注词']", state="attached", timeout=10000)
    form = ap.locator("#silence-form")
    form.locator("input[name=rule]").fill("重点关注词")
    form.locator("select[name=duration]").select_option("2h")
    form.locator("input[name=reason]").fill("已核实，系消防演练")
    form.locator("button[type=submit]").click()
    item = ap.locator("#silences li[data-silence-id]")
    item.wait_for(timeout=10000)
    assert "重点关注词" in item.inner_text() and "已核实，系消防演练" in item.inner_text()
    assert "管理员" in item.inner_text()  # who set it
    assert "已静默：重点关注词，至" in ap.locator("#silence-ok").inner_text()
    silences = page.request.get(live_server + "/api/v1/silences").json()["silences"]
    until = datetime.fromisoformat(silences[0]["until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now(timezone.utc) <= timedelta(hours=2)
    shown = until.astimezone(timezone(timedelta(hours=8)))
    assert f"{shown.hour}:{shown.minute:02d}" in item.inner_text()  # expiry in Beijing time

    # 3. a post with the rule's other watch word (a new key: without the silence a new alert and banner) stays
    #    quiet; a flood spike in the same batch still alerts
    spike_posts = [{"id": "flood-0", "text": "人民路积水", "created_at": (now - timedelta(minutes=25)).isoformat()}]
    spike_posts += [{"id": f"flood-{k}", "text": f"人民路积水严重，车辆熄火 {k}",
                     "created_at": (now - timedelta(minutes=2, seconds=k)).isoformat()} for k in range(1, 8)]
    ingest(live_server, ingest_headers, [{"id": "kw-2", "text": "城南化工厂仓库起火", "created_at":
                                          datetime.now(timezone.utc).isoformat()}] + spike_posts)
    page.locator(".alert-banner[data-rule='积水声量突增'][data-kind='alert']").wait_for(timeout=20000)
    page.wait_for_function("() => window.desk.sounds.alert === 2", timeout=10000)
    ap.locator(".alert-banner[data-rule='积水声量突增']").wait_for(timeout=10000)
    # the spike's row came in live on the 告警 page, and the count beside 告警 counts it (it stayed at 1 before)
    ap.locator("#alerts-body tr.st-open >> nth=1").wait_for(timeout=10000)
    rows = ap.locator("#alerts-body tr").count()
    assert rows == 2 and ap.locator("#alert-count").inner_text() == "（2 条）"
    # and the rules list, loaded before the spike, follows it: 触发中 now, not after it calms down (step 4)
    spike_rule = ap.locator("#rules li", has_text="积水声量突增")
    ap.wait_for_function("() => [...document.querySelectorAll('#rules li')].some(li => "
                         "li.textContent.startsWith('积水声量突增') && li.textContent.includes('触发中'))", timeout=10000)

    # 4. the spike calms down (the engine's clock moves on): 舆情平息 on the dashboard and the 告警 page
    engine = app.desk.engine
    t = datetime.now(timezone.utc)
    for k in range(1, 7):
        engine.tick(t + timedelta(minutes=6 * k))
        if sounds(page)["resolved"]:
            break
    done = page.locator(".alert-banner.resolved[data-rule='积水声量突增']")
    done.wait_for(timeout=20000)
    assert "【舆情平息】积水声量突增" in done.inner_text() and "舆情平息" in done.locator(".reason").inner_text()
    assert "已连续10分钟低于阈值" in done.inner_text()
    page.locator("#alerts-panel li.resolved[data-kind='resolved']").wait_for(timeout=10000)
    page.wait_for_function("() => window.desk.sounds.resolved === 1", timeout=10000)
    ap.locator(".alert-banner.resolved").wait_for(timeout=10000)
    ap.wait_for_function("() => [...document.querySelectorAll('#rules li')].some(li => "
                         "li.textContent.startsWith('积水声量突增') && !li.textContent.includes('触发中'))", timeout=10000)
    assert "触发中" not in spike_rule.inner_text()

    # the silenced watch-word post was recorded, but no second banner was ever raised and no second beep
    by_rule = {}
    for a in page.request.get(live_server + "/api/v1/alerts").json()["alerts"]:
        by_rule.setdefault(a["rule"], []).append(a["status"])
    assert sorted(by_rule["重点关注词"]) == ["open", "silenced"]
    assert by_rule["积水声量突增"] == ["resolved"]
    assert page.locator(".alert-banner[data-rule='重点关注词']").count() == 1
    assert sounds(page) == {"alert": 2, "resolved": 1}

    ap.select_option("#alert-status", "")
    ap.locator("#alerts-body tr.st-silenced").wait_for(timeout=10000)
    ap.locator("#alerts-body tr.st-resolved").wait_for(timeout=10000)
    page.screenshot(path=str(artifacts / "alerts_dashboard.png"), full_page=True)
    ap.screenshot(path=str(artifacts / "alerts_page.png"), full_page=True)

    # a live alert joins the table only under its filter: under 已平息 the table and its count stay as loaded
    ap.select_option("#alert-status", "resolved")
    ap.wait_for_function("() => document.getElementById('alert-count').textContent === '（1 条）'", timeout=10000)
    ingest(live_server, ingest_headers, [{"id": "cave-1", "text": "青山隧道口发生塌方，有车辆被困",
                                          "created_at": datetime.now(timezone.utc).isoformat()}])
    ap.locator(".alert-banner[data-rule='塌方关注']").wait_for(timeout=20000)
    assert ap.locator("#alerts-body tr").count() == 1 and ap.locator("#alert-count").inner_text() == "（1 条）"
    ap.select_option("#alert-status", "")
    ap.wait_for_function("() => document.getElementById('alert-count').textContent === '（4 条）'", timeout=10000)
    assert ap.locator("#alerts-body tr").count() == 4
    ap.close()


def test_a_repeat_match_changes_the_count_in_place(app, live_server, page, ingest_headers, artifacts):
    """A second 爆炸 post within realert folds into the open alert: the 告警 page's 次数 goes from 1 to 2 without a
    reload (issue 13: it stayed at the loaded value), quietly — no beep, no banner, no new row — and the
    dashboard's alert panel keeps its one line."""
    now = datetime.now(timezone.utc)
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    ingest(live_server, ingest_headers, [{"id": "boom-1", "text": "城南化工厂发生爆炸", "created_at": now.isoformat()}])
    page.locator("#alerts-panel li[data-kind='alert']").wait_for(timeout=20000)
    page.wait_for_function("() => window.desk.sounds.alert === 1", timeout=10000)
    [alert] = page.request.get(live_server + "/api/v1/alerts").json()["alerts"]

    ap = page.context.new_page()
    ap.set_viewport_size({"width": 1366, "height": 900})
    ap.goto(live_server + "/alerts")
    ap.wait_for_selector("body[data-live='1']", timeout=20000)
    count = ap.locator(f"#alerts-body tr[id='{alert['id']}'] td.count")
    count.wait_for(timeout=10000)
    assert count.inner_text() == "1"
    ap.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads

    later = datetime.now(timezone.utc)
    ingest(live_server, ingest_headers, [{"id": "boom-2", "text": "化工厂爆炸后浓烟仍未散去", "created_at": later.isoformat()}])
    ap.wait_for_function(f"() => document.querySelector(\"#alerts-body tr[id='{alert['id']}'] td.count\")"
                         ".textContent === '2'", timeout=20000)
    assert ap.evaluate("() => window.__sameDocument") is True
    assert ap.locator("#alerts-body tr").count() == 1 and ap.locator("#alert-count").inner_text() == "（1 条）"
    assert ap.locator(".alert-banner").count() == 0 and sounds(ap) == {"alert": 0, "resolved": 0}
    shown = later.astimezone(timezone(timedelta(hours=8)))
    title = count.get_attribute("title")
    assert title.startswith("累计命中 2 次，最近一次 ") and f"{shown.hour:02d}:{shown.minute:02d}" in title
    ap.screenshot(path=str(artifacts / "alerts_count_updated.png"), full_page=True)
    ap.set_viewport_size({"width": 390, "height": 844})
    ap.screenshot(path=str(artifacts / "alerts_count_updated_390.png"), full_page=True)

    # the dashboard heard the update too: still one banner, one panel line, one beep
    page.wait_for_function("() => (window.desk.alertUpdates || 0) >= 1", timeout=10000)
    assert page.locator(".alert-banner[data-kind='alert']").count() == 1
    assert page.locator("#alerts-panel li[data-kind='alert']").count() == 1
    assert sounds(page) == {"alert": 1, "resolved": 0}
    [stored] = page.request.get(live_server + "/api/v1/alerts").json()["alerts"]
    assert stored["id"] == alert["id"] and stored["count"] == 2
    ap.close()
