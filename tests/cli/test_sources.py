"""``opinion-desk sources check|list|run``."""

from __future__ import annotations

from click.testing import CliRunner

from opinion_desk.cli import main
from tests.collectors.standins import StandIn, fixture_reply


def write_config(tmp_path, sources: str) -> str:
    d = tmp_path / "sources"
    d.mkdir()
    (d / "a.yaml").write_text(sources, encoding="utf-8")
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[collectors]\nsources_dir = "{d}"\nhost_interval = 0\n',
                   encoding="utf-8")
    return str(cfg)


def test_check_reports_file_line_field(tmp_path):
    cfg = write_config(tmp_path, "sources:\n  - name: a\n    type: rss\n    url: http://x/rss\n  - name: b\n    type: rss\n")
    r = CliRunner().invoke(main, ["--config", cfg, "sources", "check"])
    assert r.exit_code == 1
    assert "正常  a" in r.output and "a.yaml:5: source 'b' field 'url': 类型 'rss' 必须填写此项" in r.output
    assert CliRunner().invoke(main, ["sources", "check", "--help"]).exit_code == 0


def test_run_and_list(tmp_path):
    site = StandIn()
    site.routes["/rss.xml"] = fixture_reply("gov_rss_gb2312.xml", "text/xml")
    try:
        cfg = write_config(tmp_path, f"name: gov\ntype: rss\nurl: {site.url}/rss.xml\nfetch_full: never\n")
        r = CliRunner().invoke(main, ["--config", cfg, "sources", "run", "gov", "--dry-run"])
        assert r.exit_code == 0, r.output
        assert "3 条（试运行" in r.output
        r = CliRunner().invoke(main, ["--config", cfg, "sources", "run", "gov"])
        assert r.exit_code == 0, r.output
        assert "gov：采集 3 条" in r.output
        r = CliRunner().invoke(main, ["--config", cfg, "sources", "list"])
        assert r.exit_code == 0, r.output
        assert "gov" in r.output and "正常" in r.output
        r = CliRunner().invoke(main, ["--config", cfg, "sources", "run", "nope"])
        assert r.exit_code != 0 and "没有名为 'nope' 的有效信息源" in r.output
    finally:
        site.close()
