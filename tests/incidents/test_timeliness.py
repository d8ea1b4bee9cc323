"""Timeliness per incident and per month, on the API and exported by the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from opinion_desk.cli import main as cli
from opinion_desk.incidents.timeliness import parse_month
from opinion_desk.state.incidents import Incident

T0 = datetime(2026, 11, 10, 1, 0, tzinfo=timezone.utc)


def _seed(db):
    with db.session_scope() as s:
        s.add(Incident(title="按时", level="重大", status="closed", opened_at=T0, acknowledged_at=T0 + timedelta(minutes=6),
                       first_info_at=T0 + timedelta(hours=2), published_at=T0 + timedelta(hours=2),
                       info_due=T0 + timedelta(hours=5), press_due=T0 + timedelta(hours=24),
                       press_held_at=T0 + timedelta(hours=20), closed_at=T0 + timedelta(days=2)))
        s.add(Incident(title="超时", level="一般", status="closed", opened_at=T0, acknowledged_at=T0 + timedelta(minutes=30),
                       first_info_at=T0 + timedelta(hours=50), published_at=T0 + timedelta(hours=50),
                       info_due=T0 + timedelta(hours=48)))
        s.add(Incident(title="十月", level="一般", status="closed", opened_at=T0 - timedelta(days=30),
                       info_due=T0 - timedelta(days=28)))


def test_month_bounds_are_china_time():
    start, end = parse_month("2026-11")
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)


def test_api_and_cli_export(app, client, tmp_path):
    _seed(app.desk.state)
    d = client.get("/api/v1/incidents/timeliness?month=2026-11").get_json()
    assert d["summary"]["incidents"] == 2 and d["summary"]["deadlines_met"] == 2 and d["summary"]["deadlines_missed"] == 1
    assert d["summary"]["median_ack_minutes"] == 18.0
    rows = {r["title"]: r for r in d["incidents"]}
    assert rows["按时"]["info_met"] is True and rows["超时"]["info_met"] is False
    r = client.get("/api/v1/incidents/timeliness?month=2026-11&format=csv")
    assert r.mimetype == "text/csv" and "按时" in r.get_data(as_text=True)
    assert client.get("/api/v1/incidents/timeliness?month=11-2026").status_code == 400

    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{app.config["DESK"]["desk"]["data_dir"]}"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "export", "--month", "2026-11", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["incidents"] == 2
    out = tmp_path / "t.csv"
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "export", "--month", "2026-11", "-o", str(out)])
    assert r.exit_code == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("事件编号,标题,级别,状态") and len(lines) == 3
    assert CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "export", "--month", "13"]).exit_code == 2
