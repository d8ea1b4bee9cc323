"""``opinion-desk sources run NAME`` ends cleanly (alerts delivered or left pending, no thread left submitting to a
closed pool; the exit code says whether the run failed), and the shipped rules name only channels the shipped
config defines (no warning about '值班群' on every run)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import yaml
from click.testing import CliRunner

from opinion_desk.cli import main as cli

REPO = Path(__file__).resolve().parents[2]


def _desk(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    posts = tmp_path / "posts.jsonl"
    with posts.open("w", encoding="utf-8") as f:
        for i in range(12):  # watch words of the shipped rule 重点关注词: alerts are raised and queued for delivery
            f.write(json.dumps({"id": f"p{i}", "text": f"化工厂发生爆炸 火灾 第{i}条",
                                "created_at": "2024-06-18T10:00:00+08:00"}, ensure_ascii=False) + "\n")
    (tmp_path / "sources" / "imp.yaml").write_text(f"name: imp\ntype: files\npath: {posts}\n", encoding="utf-8")
    (tmp_path / "sources" / "down.yaml").write_text("name: down\ntype: rss\nurl: http://127.0.0.1:9/rss.xml\n",
                                                   encoding="utf-8")
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[collectors]\nsources_dir = "{tmp_path / "sources"}"\n'
                   f'[rules]\ndir = "{REPO / "rules"}"\n', encoding="utf-8")
    return cfg


def test_sources_run_ends_cleanly_and_its_exit_code_says_failure(tmp_path, caplog):
    cfg = _desk(tmp_path)
    caplog.set_level(logging.INFO)
    before = set(threading.enumerate())  # other tests' apps may leave their own threads
    r = CliRunner().invoke(cli, ["--config", str(cfg), "sources", "run", "imp"])
    assert r.exit_code == 0, r.output
    assert "imp：采集 12 条" in r.output
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "outbox round failed" not in logged and "cannot schedule new futures" not in logged
    assert "which is not defined" not in logged  # the shipped rules name only defined channels
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("outbox") and t.is_alive()]
    r = CliRunner().invoke(cli, ["--config", str(cfg), "sources", "run", "down"])
    assert r.exit_code == 1 and "cannot connect" in r.output


def test_shipped_rules_name_only_channels_the_shipped_config_defines():
    from opinion_desk.alerting.channels import build_channels
    from opinion_desk.config import load_config

    cfg = load_config(REPO / "opinion-desk.example.toml")
    defined, problems = build_channels(cfg["alerting"]["channels"], cfg["alerting"])
    assert problems == []
    for f in sorted((REPO / "rules").glob("*.yaml")):
        named = yaml.safe_load(f.read_text(encoding="utf-8")).get("channels") or []
        assert set(named) <= set(defined), f"{f.name} names {sorted(set(named) - set(defined))}"
