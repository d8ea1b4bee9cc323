"""信息源: the health API and page, live over Socket.IO; a configured RSS source run against a local site."""

from __future__ import annotations


import pytest

from opinion_desk import jobs
from opinion_desk.web.sources import failure_reason
from tests.collectors.standins import StandIn, fixture_reply


@pytest.fixture
def site():
    s = StandIn()
    s.routes["/rss.xml"] = fixture_reply("gov_rss_gb2312.xml", "text/xml")
    s.routes["/zwgk/tzgg/202406/t20240618_1001.html"] = fixture_reply("gov_article_gbk.html", "text/html")
    yield s
    s.close()


@pytest.fixture
def app_config(app_config, tmp_path, site):
    d = tmp_path / "sources"
    d.mkdir()
    (d / "gov.yaml").write_text(f"""sources:
  - name: gov-rss
    type: rss
    url: {site.url}/rss.xml
    cadence: 10m
  - name: broken
    type: rss
    url: {site.url}/missing.xml
    alert_after: 1
  - name: bad-entry
    type: weibo
""", encoding="utf-8")
    app_config["collectors"] = {"sources_dir": str(d), "host_interval": 0}
    return app_config


def test_health_api_page_and_evidence(app, client):
    jobs.collector_jobs(app.desk)  # schedules the two valid sources (the scheduler itself is not started)
    sched = app.desk.scheduler
    assert set(sched.collectors) == {"gov-rss", "broken"}
    with app.app_context():
        ok = sched.run_source("gov-rss")
        bad = sched.run_source("broken")
    assert ok["status"] == "ok" and ok["last_items"] == 3
    assert bad["status"] == "failing" and bad["alert"] is True and "HTTP 404" in bad["last_error"]
    body = client.get("/api/v1/sources").get_json()
    rows = {r["name"]: r for r in body["sources"]}
    assert rows["gov-rss"]["last_items"] == 3 and rows["gov-rss"]["type"] == "rss" and rows["gov-rss"]["last_success"]
    assert rows["broken"]["failures_in_row"] == 1
    assert rows["broken"]["reason"] == "网页不存在（HTTP 404），地址可能已变更，请核对信息源地址"
    assert rows["broken"]["detail"].endswith("/missing.xml: HTTP 404") and rows["broken"]["label"] == "broken"
    assert rows["gov-rss"]["reason"] == "" and rows["gov-rss"]["type_label"] == "RSS 订阅"
    assert any("bad-entry" in p and "field 'mode'" in p for p in body["problems"])
    assert client.get("/api/v1/sources/broken").get_json()["status"] == "failing"
    assert client.get("/api/v1/sources/nope").status_code == 404
    page = client.get("/sources").get_data(as_text=True)
    assert "信息源健康" in page and "gov-rss" in page and "失败" in page and "bad-entry" in page
    # every collected payload is in the evidence archive
    archive = app.desk.evidence
    recs = list(archive.records("gov-rss"))
    assert len(recs) == 3 and all(r["raw"]["feed_url"].endswith("/rss.xml") for r in recs)


def test_source_event_reaches_socketio(app, desk_events):
    jobs.collector_jobs(app.desk)
    got = desk_events("source")
    with app.app_context():
        app.desk.scheduler.run_source("broken")
    _event, h = got.get(timeout=20)
    assert h["name"] == "broken" and h["alert"] is True and h["alert_kind"] == "failing"


@pytest.mark.parametrize("error,kind,reason", [
    ("source 'a': http://x/rss: HTTP 502", "error", "对方网站故障（HTTP 502），稍后自动重试"),
    ("source 'a': https://m.weibo.cn/api: HTTP 432 (反爬限制，请稍后再试或更换 Cookie)", "error",
     "访问受限（HTTP 432），对方限制了访问频率，稍后自动重试"),
    ("source 'a': 登录已失效（返回了登录页面），请更新 Cookie", "auth", "登录已失效，请更新 Cookie 或令牌"),
    ("source 'a': no answer within 300s; run cut off", "timeout", "对方网站响应超时，稍后自动重试"),
    ("source 'a': http://x: cannot connect (Connection refused)", "error", "无法连接对方网站（网络或域名问题）"),
    ("source 'a': http://x/rss: not an RSS or Atom feed", "error", "订阅内容格式错误，不是有效的 RSS/Atom 订阅"),
    ("source 'a': ValueError: boom", "error", "采集失败"),
])
def test_failure_reason_is_plain_chinese(error, kind, reason):
    assert failure_reason(error, kind) == reason
