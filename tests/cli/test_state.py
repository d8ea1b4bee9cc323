"""``opinion-desk state current|upgrade`` on SQLite and a real PostgreSQL: what revision, and migrating by hand."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import inspect

from opinion_desk.cli import main
from opinion_desk.state import StateDB
from opinion_desk.state.migrate import baseline_schema, head


def _state(tmp_path, url: str, *args: str):
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[state]\nurl = "{url}"\n', encoding="utf-8")
    return CliRunner().invoke(main, ["--config", str(conf), "state", *args], env={"OPINION_DESK_CONFIG": ""})


def test_current_then_upgrade_then_current(tmp_path, state_url) -> None:
    r = _state(tmp_path, state_url, "current")
    assert r.exit_code == 0, r.output
    assert "当前版本：无 —— 空库（尚未建表）" in r.output and f"最新版本：{head()}" in r.output
    assert "需要升级：运行 opinion-desk state upgrade" in r.output
    db = StateDB(state_url)
    assert inspect(db.engine).get_table_names() == []  # looking changed nothing
    r = _state(tmp_path, state_url, "upgrade")
    assert r.exit_code == 0, r.output
    assert f"已升级：（空库） -> {head()}" in r.output
    r = _state(tmp_path, state_url, "upgrade")
    assert f"已是最新版本 {head()}，无需升级" in r.output
    r = _state(tmp_path, state_url, "current")
    assert f"当前版本：{head()}" in r.output and "已是最新" in r.output
    db.dispose()


def test_upgrade_adopts_a_database_made_before_migrations(tmp_path, state_url) -> None:
    db = StateDB(state_url)
    baseline_schema().create_all(db.engine)
    r = _state(tmp_path, state_url, "current")
    assert "建于迁移机制之前（有表，无版本记录）" in r.output
    r = _state(tmp_path, state_url, "upgrade")
    assert r.exit_code == 0, r.output
    assert "已核对表结构，记为版本 0001" in r.output and f"已升级：0001 -> {head()}" in r.output
    db.dispose()


def test_help_is_there() -> None:
    for args in (["state", "--help"], ["state", "upgrade", "--help"], ["state", "current", "--help"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0 and "Usage: " in r.output, args
