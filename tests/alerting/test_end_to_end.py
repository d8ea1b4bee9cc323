"""Post to the ingest API -> rule matches -> the alert arrives on a Socket.IO client of /desk, as an email at a
real SMTP server, and as the documented JSON at a WeCom stand-in."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

RULE = """
name: 重点关注词
type: keyword
severity: high
query_key: keyword
channels: [dashboard, email, 值班群]
filter:
  keywords: [爆炸]
duty:
  check: 核实现场伤亡
  owner: 应急管理局
"""


@pytest.fixture
def app_config(app_config, tmp_path, smtp_server, wecom):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kw.yaml").write_text(RULE, encoding="utf-8")
    host, port, _box = smtp_server
    app_config["rules"] = {"dir": str(rules)}
    app_config["alerting"] = {"smtp_host": host, "smtp_port": port, "mail_to": ["duty@example.gov.cn"],
                              "desk_url": "http://desk.local", "group_wait": "1s",
                              "channels": {"值班群": {"type": "wecom", "url": wecom.url}}}
    return app_config


def test_ingested_post_alerts_every_channel(live_server, ingest_headers, desk_cookie, desk_events, smtp_server, wecom):
    got = desk_events("alert")
    item = {"id": "e2e-1", "text": "城南化工厂发生爆炸，现场浓烟滚滚", "reposts": 300,  # reach: 重大 (severity.py)
            "created_at": datetime.now(timezone.utc).isoformat()}
    r = requests.post(f"{live_server}/api/v1/posts", json=[item], headers=ingest_headers, timeout=10)
    assert r.status_code == 202
    pid = r.json()["ids"][0]
    _event, alert = got.get(timeout=30)
    assert alert["rule"] == "重点关注词" and alert["key"] == "爆炸" and alert["post_ids"] == [pid]
    assert alert["title"] == "【重大预警】重点关注词「爆炸」" and alert["duty"]["owner"] == "应急管理局"
    _host, _port, box = smtp_server
    assert box.event.wait(30)
    msg = box.messages[0]["msg"]
    assert msg["Subject"] == "【重大预警】重点关注词「爆炸」"
    assert "城南化工厂发生爆炸" in msg.get_body(("plain",)).get_content()
    assert wecom.event.wait(30)
    body = wecom.received[0]["body"]
    assert body["msgtype"] == "markdown" and "核实现场伤亡" in body["markdown"]["content"]
    assert f"http://desk.local/alerts#{alert['id']}" in body["markdown"]["content"]
    r = requests.get(f"{live_server}/api/v1/alerts/{alert['id']}", headers={"Cookie": f"session={desk_cookie}"},
                     timeout=10)
    assert r.status_code == 200
