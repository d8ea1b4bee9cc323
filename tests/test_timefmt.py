"""One time-zone setting (``[desk] timezone``, opinion_desk/timefmt.py) honoured by what a person reads: a page, the
CLI listings, the timeliness export, alert ids and naive input times. The desk here runs on Asia/Tokyo (UTC+9, an
hour ahead of Beijing), so a time still shown in Beijing time or UTC is caught."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from opinion_desk import timefmt
from opinion_desk.cli import main as cli
from opinion_desk.models import Post, parse_time
from opinion_desk.state.alerts import Silence, new_alert_id
from opinion_desk.state.core import SourceState
from opinion_desk.state.incidents import Incident

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 11, 10, 1, 0, tzinfo=timezone.utc)  # 10:00 in Tokyo, 09:00 in Beijing
LATE_OCTOBER = datetime(2026, 10, 31, 15, 30, tzinfo=timezone.utc)  # 11-01 00:30 in Tokyo, 10-31 23:30 in Beijing


def test_fmt_shows_stored_times_in_the_zone():
    assert timefmt.fmt(T0, TOKYO) == "2026-11-10 10:00:00"
    assert timefmt.fmt("2026-11-10T01:00:00+00:00", TOKYO, timefmt.MINUTES) == "2026-11-10 10:00"
    assert timefmt.fmt(datetime(2026, 11, 10, 1, 0), TOKYO) == "2026-11-10 10:00:00"  # naive from SQLite = UTC
    assert timefmt.fmt(None, TOKYO) == "—" and timefmt.fmt(None, TOKYO, empty="") == ""
    assert timefmt.iso(T0, TOKYO) == "2026-11-10T10:00:00+09:00"
    assert timefmt.zone_label(timefmt.zone()) == "北京时间"
    assert timefmt.zone_label(TOKYO) == "Asia/Tokyo 时间 UTC+09:00"
    assert timefmt.zone({"desk": {"timezone": "Asia/Urumqi"}}).key == "Asia/Urumqi"
    assert timefmt.zone({"desk": {}}).key == "Asia/Shanghai" and timefmt.zone(None).key == "Asia/Shanghai"


def test_naive_input_is_read_in_the_desks_zone():
    assert parse_time("2026-11-10 10:00:00", tz=TOKYO) == T0
    assert parse_time("2026-11-10 09:00:00") == T0  # no config at hand: Beijing time
    assert parse_time("2026-11-10T01:00:00Z", tz=TOKYO) == T0  # a time with its zone keeps it


def test_alert_ids_carry_the_desks_date_and_time():
    assert new_alert_id(LATE_OCTOBER, TOKYO).startswith("A20261101-003000-")
    assert new_alert_id(LATE_OCTOBER, timefmt.zone()).startswith("A20261031-233000-")


@pytest.fixture
def app_config(app_config):
    app_config["desk"]["timezone"] = "Asia/Tokyo"
    return app_config


@pytest.fixture
def cfg_file(app, tmp_path):
    """A config file for the CLI on the app's data dir, with the same zone."""
    f = tmp_path / "desk.toml"
    f.write_text(f'[desk]\ndata_dir = "{app.config["DESK"]["desk"]["data_dir"]}"\ntimezone = "Asia/Tokyo"\n'
                 f'[collectors]\nsources_dir = "{app.config["DESK"]["collectors"]["sources_dir"]}"\n',
                 encoding="utf-8")
    return str(f)


def test_a_page_shows_the_desks_zone(app, client):
    store = app.desk.store
    p = Post(source="demo", source_id="tz1", platform="weibo", author="青山发布", text="东河桥检测结果公布",
             created_at=T0, collected_at=T0)
    assert store.index([p]).errors == []
    store.refresh()
    html = client.get(f"/posts/{p.id}").get_data(as_text=True)
    assert "2026-11-10 10:00:00" in html and "2026-11-10 09:00:00" not in html
    assert '<meta name="desk-tz" content="Asia/Tokyo"' in html  # the pages' scripts format times in it
    assert "微博" in html and "演示数据" in html  # the platform and source by their names, not the slugs


def test_cli_listings_show_the_desks_zone(app, cfg_file):
    db = app.desk.state
    with db.session_scope() as s:
        s.add(Silence(rule="声量突增", key="", until=datetime(2099, 1, 1, 0, 0, tzinfo=timezone.utc), reason="已知活动",
                      created_by="cli", created_at=T0))
        s.add(SourceState(name="demo", last_run=T0, last_success=T0, last_items=3, failures_in_row=0))
    r = CliRunner().invoke(cli, ["--config", cfg_file, "silence", "list"])
    assert r.exit_code == 0, r.output
    assert "2099-01-01 09:00" in r.output and "生效中" in r.output and "Asia/Tokyo" in r.output
    r = CliRunner().invoke(cli, ["--config", cfg_file, "sources", "list"])
    assert r.exit_code == 0, r.output
    assert "上次成功 2026-11-10 10:00:00" in r.output and "演示数据（demo）" in r.output and "正常" in r.output


def test_timeliness_export_months_and_times_in_the_desks_zone(app, cfg_file):
    with app.desk.state.session_scope() as s:
        s.add(Incident(title="东河桥裂缝", level="一般", status="open", opened_at=T0, info_due=T0 + timedelta(hours=48)))
        s.add(Incident(title="月初", level="一般", status="open", opened_at=LATE_OCTOBER,  # November in Tokyo
                       info_due=LATE_OCTOBER + timedelta(hours=48)))
    r = CliRunner().invoke(cli, ["--config", cfg_file, "incidents", "export", "--month", "2026-11"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(r.stdout[1:])))
    opened = "立案时间（Asia/Tokyo 时间 UTC+09:00）"
    assert {x["标题"]: x[opened] for x in rows} == {"东河桥裂缝": "2026-11-10 10:00", "月初": "2026-11-01 00:30"}
    assert {x["状态"] for x in rows} == {"待接警"}
    assert rows[0]["权威信息时限（Asia/Tokyo 时间 UTC+09:00）"] == "2026-11-12 10:00"
    r = CliRunner().invoke(cli, ["--config", cfg_file, "incidents", "export", "--month", "2026-11", "--format", "json"])
    d = json.loads(r.stdout)
    assert d["timezone"] == "Asia/Tokyo" and d["incidents"][0]["opened_at"] == "2026-11-10T10:00:00+09:00"
