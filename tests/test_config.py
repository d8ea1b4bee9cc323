"""Config: defaults, TOML file, environment overrides, and errors that name the field."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import load_config, render
from opinion_desk.errors import ConfigError


def test_defaults_are_valid():
    cfg = load_config(path=None, env={})
    assert cfg["store"]["backend"] == "sqlite"
    assert cfg["desk"]["port"] == 5000
    assert cfg.origin["store.backend"] == "default"


def test_file_then_environment(tmp_path):
    f = tmp_path / "desk.toml"
    f.write_text('[store]\nbackend = "elasticsearch"\n[store.elasticsearch]\nurls = ["https://es1:9200"]\n'
                 '[desk]\nport = 8080\n', encoding="utf-8")
    cfg = load_config(f, env={"OPINION_DESK__DESK__PORT": "9090", "OPINION_DESK__INGEST__TOKENS": '["a", "b"]'})
    assert cfg["store"]["backend"] == "elasticsearch"
    assert cfg["store.elasticsearch"]["urls"] == ["https://es1:9200"]
    assert cfg["desk"]["port"] == 9090
    assert cfg["ingest"]["tokens"] == ["a", "b"]
    assert cfg.origin["desk.port"] == "environment OPINION_DESK__DESK__PORT"
    assert cfg.origin["store.backend"] == str(f)


def test_every_error_is_named(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[store]\nbackend = "mongo"\nbogus = 1\n[desk]\nport = "eighty"\n[nosuch]\nx = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_config(f, env={})
    text = str(ei.value)
    assert str(f) in text
    assert "[store] backend" in text and "mongo" in text
    assert "[store] bogus: 未知的键" in text
    assert "[desk] port: 应为 int" in text
    assert "未知的节 [nosuch]" in text
    assert len(ei.value.problems) == 4


def test_not_toml_names_the_file(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[desk\nport = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml: 不是有效的 TOML"):
        load_config(f, env={})


def test_render_hides_secrets():
    cfg = load_config(path=None, env={"OPINION_DESK__STORE__ELASTICSEARCH__PASSWORD": "hunter2"})
    out = render(cfg)
    assert "hunter2" not in out
    assert 'password = "***"' in out


def test_config_check_command(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[desk]\nport = 5001\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(good), "config", "check"])
    assert r.exit_code == 0, r.output
    assert "port = 5001" in r.output and "配置无误" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[desk]\nport = 70000\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert r.exit_code == 1
    assert "[desk] port: 70000 不是有效的 TCP 端口" in r.output


def test_every_command_has_help():
    runner = CliRunner()

    def walk(cmd, path):
        r = runner.invoke(main, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)
        assert "Usage:" in r.output
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(main, [])


def test_shipped_example_is_current_and_valid():
    from pathlib import Path

    from opinion_desk.config import example

    shipped = Path(__file__).resolve().parent.parent / "opinion-desk.example.toml"
    assert shipped.read_text(encoding="utf-8") == example(), "regenerate: opinion-desk config example > opinion-desk.example.toml"
    cfg = load_config(shipped, env={})
    assert cfg["store"]["backend"] == "sqlite"


def test_desk_errors_are_one_clean_line(tmp_path):
    """A DeskError reaching the command group is printed as one line naming the field, exit 1."""
    import click

    from opinion_desk.cli import DeskGroup
    from opinion_desk.errors import InputError

    @click.group(cls=DeskGroup)
    def grp():
        pass

    @grp.command()
    def boom():
        raise InputError("posts.jsonl:3", "text", "missing or empty text")

    r = CliRunner().invoke(grp, ["boom"])
    assert r.exit_code == 1
    assert r.output == "错误：输入有误：posts.jsonl:3: field 'text': missing or empty text\n"


def test_ingest_date_window_is_checked_and_read():
    from datetime import timedelta

    from opinion_desk.collectors.validate import PostChecks

    with pytest.raises(ConfigError) as e:
        load_config(env={}, overrides={"ingest": {"min_date": "去年", "max_future": "soon"}})
    assert "[ingest] min_date" in str(e.value) and "[ingest] max_future" in str(e.value)
    cfg = load_config(env={}, overrides={"ingest": {"min_date": "2015-06-01", "max_future": "6h"}})
    checks = PostChecks.from_config(cfg)
    assert checks.min_date.isoformat() == "2015-05-31T16:00:00+00:00"  # naive = Beijing time
    assert checks.max_future == timedelta(hours=6)
