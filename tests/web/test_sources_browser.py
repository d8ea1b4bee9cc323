"""信息源 in a browser: Chromium opens /sources, two sources run against a local stand-in feed server (one
succeeds, one fails), and the health table updates live over the ``source`` Socket.IO event."""

from __future__ import annotations

import pytest

from opinion_desk import jobs
from tests.collectors.standins import Reply, StandIn, fixture_reply

pytestmark = pytest.mark.browser


@pytest.fixture
def site():
    s = StandIn()
    s.routes["/rss.xml"] = fixture_reply("gov_rss_gb2312.xml", "text/xml")
    s.routes["/zwgk/tzgg/202406/t20240618_1001.html"] = fixture_reply("gov_article_gbk.html", "text/html")
    s.routes["/down.xml"] = Reply(503, "<html><body>503 Service Unavailable</body></html>".encode(),
                                  {"Content-Type": "text/html"})
    yield s
    s.close()


@pytest.fixture
def app_config(app_config, tmp_path, site):
    d = tmp_path / "sources"
    d.mkdir(exist_ok=True)
    (d / "gov.yaml").write_text(f"""sources:
  - name: county-gov
    description: 青山县政府 信息公开
    type: rss
    url: {site.url}/rss.xml
    cadence: 10m
  - name: city-epb
    description: 市生态环境局 通知公告
    type: rss
    url: {site.url}/down.xml
    alert_after: 2
  - name: bad-entry
    type: weibo
""", encoding="utf-8")
    app_config["collectors"] = {"sources_dir": str(d), "host_interval": 0}
    return app_config


def test_health_table_updates_live(app, live_server, page, artifacts):
    jobs.collector_jobs(app.desk)  # the two valid sources are scheduled (the scheduler is not started: the test runs them)
    sched = app.desk.scheduler
    page.goto(live_server + "/sources")
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    ok = page.locator("tr[data-name='county-gov']")
    bad = page.locator("tr[data-name='city-epb']")
    assert ok.locator("[data-k='status']").inner_text() == "未运行"
    assert "bad-entry" in page.locator(".problems").inner_text()

    with app.app_context():
        sched.run_source("county-gov")
        sched.run_source("county-gov")  # nothing new since the cursor: an empty run
        sched.run_source("city-epb")
        sched.run_source("city-epb", force=True)  # past its backoff: the second failure in a row raises the alert
    page.wait_for_function(
        "() => document.querySelector(\"tr[data-name='city-epb'] [data-k='failures_in_row']\").textContent === '2'",
        timeout=20000)
    page.wait_for_function(
        "() => document.querySelectorAll(\"tr[data-name='county-gov'] svg.spark rect:not(.slot)\").length === 2",
        timeout=20000)
    assert ok.locator("[data-k='status']").inner_text() == "正常"
    assert ok.locator("[data-k='label']").inner_text() == "青山县政府 信息公开"
    assert ok.locator("[data-k='total_items']").inner_text() == "3"
    assert ok.locator("svg.spark rect.ok").count() == 1 and ok.locator("svg.spark rect.empty").count() == 1
    assert bad.locator("[data-k='status']").inner_text() == "失败"
    assert "alerting" in bad.get_attribute("class")
    assert bad.locator("svg.spark rect.bad").count() == 2
    err = bad.locator("[data-k='last_error']")
    assert err.locator(".reason").inner_text() == "对方网站故障（HTTP 503），稍后自动重试"
    assert err.locator(".detail").inner_text().endswith("/down.xml: HTTP 503")
    assert "下次重试" in err.inner_text()
    assert err.locator("script, b, a").count() == 0  # reasons are text, never markup
    assert page.locator("#src-summary [data-c='ok']").inner_text() == "1"
    assert page.locator("#src-summary [data-c='failing']").inner_text() == "1"
    page.screenshot(path=str(artifacts / "sources.png"), full_page=True)

    # a reload renders the same state from the server
    page.reload()
    page.wait_for_selector("body[data-live='1']", timeout=20000)
    assert bad.locator(".reason").inner_text() == "对方网站故障（HTTP 503），稍后自动重试"
    assert bad.locator("svg.spark rect.bad").count() == 2 and ok.locator("svg.spark rect.ok").count() == 1
