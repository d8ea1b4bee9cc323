"""``opinion-desk rules check|test`` and ``silence`` through click."""

from __future__ import annotations

import json

from click.testing import CliRunner

from opinion_desk.cli import main

from .helpers import T0


def test_rules_check_names_bad_file_and_keeps_going(tmp_path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "a.yaml").write_text("name: 好\ntype: keyword\nfilter: {keywords: [爆炸]}\n", encoding="utf-8")
    (d / "b.yaml").write_text("name: 坏\ntype: spike\nthreshold_cur: many\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["rules", "check", str(d)], env={"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")})
    assert r.exit_code == 1
    assert "正常  " in r.output and "b.yaml:3: field 'threshold_cur': 应为 integer（整数）" in r.output


def test_rules_test_dry_run_on_a_file(tmp_path) -> None:
    rule = tmp_path / "kw.yaml"
    rule.write_text("name: 关注词\ntype: keyword\nfilter: {keywords: [爆炸]}\n", encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    rows = [{"id": "1", "source": "t", "text": "化工厂发生爆炸", "created_at": T0.isoformat(), "tokens": ["化工厂", "发生爆炸"]},
            {"id": "2", "source": "t", "text": "今天天气很好", "created_at": T0.isoformat(), "tokens": ["今天", "天气"]}]
    posts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = {"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")}
    r = CliRunner().invoke(main, ["rules", "test", str(rule), "--posts", str(posts), "--json"], env=env)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert len(out["matches"]) == 1 and out["matches"][0]["posts"][0]["text"] == "化工厂发生爆炸"
    r = CliRunner().invoke(main, ["rules", "test", str(rule), "--posts", str(posts)], env=env)
    assert "[告警] 关注词" in r.output and "未发送任何通知" in r.output


def test_silence_add_list_remove(tmp_path) -> None:
    env = {"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")}
    run = CliRunner().invoke
    r = run(main, ["silence", "add", "声量突增", "--for", "2h", "--reason", "已知活动"], env=env)
    assert r.exit_code == 0 and r.output.startswith("静默 1：")
    assert "声量突增" in run(main, ["silence", "list"], env=env).output
    assert run(main, ["silence", "add", "x", "--for", "5 minuts"], env=env).exit_code == 2
    assert run(main, ["silence", "remove", "1"], env=env).exit_code == 0
    assert "声量突增" not in run(main, ["silence", "list"], env=env).output
