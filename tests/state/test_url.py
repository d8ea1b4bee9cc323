"""``[state] url``: ``postgresql://`` means psycopg 3; without the driver, ``config check`` and the desk's start say
so in Chinese, naming the key and the install command, instead of a ModuleNotFoundError at the first query."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import load_config
from opinion_desk.errors import ConfigError, StateError
from opinion_desk.state import StateDB
from opinion_desk.state.url import normalize, problem

PG = "postgresql://desk:pg-secret-9@db.example/desk"


@pytest.fixture
def no_psycopg(monkeypatch):
    """This interpreter as if the postgres extra were not installed (``import psycopg`` fails)."""
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)


def test_postgresql_urls_mean_psycopg_3() -> None:
    assert normalize(PG).drivername == "postgresql+psycopg"
    assert normalize("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert normalize("postgresql+psycopg2://u@h/d").drivername == "postgresql+psycopg2"  # as written
    assert normalize("sqlite:////var/x.db").drivername == "sqlite"
    assert problem(PG) is None and problem("sqlite:///x.db") is None
    assert "不是数据库 URL" in problem("db.example:5432")
    assert "不支持的数据库类型" in problem("nosuchdb://x/y")


def test_the_missing_driver_is_named_by_config_check(tmp_path, no_psycopg) -> None:
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[state]\nurl = "{PG}"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(conf), "config", "check"], env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 1
    assert "[state] url" in r.output and "pip install 'opinion-desk[postgres]'" in r.output
    assert "psycopg" in r.output and "未安装" in r.output and "配置无误" not in r.output
    assert "pg-secret-9" not in r.output  # the password is not printed
    assert "ModuleNotFoundError" not in r.output and "Traceback" not in r.output


def test_the_desk_does_not_start_without_the_driver(tmp_path, no_psycopg) -> None:
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[state]\nurl = "{PG}"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(conf), "run", "--port", "1"], env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 1 and r.exception is not None and isinstance(r.exception, SystemExit)
    assert "[state] url" in r.output and "pip install 'opinion-desk[postgres]'" in r.output
    with pytest.raises(ConfigError, match=r"\[state\] url"):
        load_config(conf, env={})
    with pytest.raises(StateError, match=r"\[state\] url: .*opinion-desk\[postgres\]"):  # a StateDB made directly
        StateDB(PG)


def test_state_commands_name_the_missing_driver(tmp_path, no_psycopg) -> None:
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[state]\nurl = "{PG}"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(conf), "state", "upgrade"], env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 1 and "[state] url" in r.output and "opinion-desk[postgres]" in r.output
