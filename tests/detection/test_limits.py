"""Bounded work for every rule file: alias bombs, ReDoS patterns, absurd durations and deep nesting are refused
with an error naming the file (and line and field), never a traceback; a rule that fails at hot reload is listed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.loader import load_rule_file, parse_rule
from opinion_desk.errors import RuleError

from ..test_safe_yaml import alias_bomb
from .helpers import post, rule

REPO = Path(__file__).resolve().parents[2]


def test_alias_bomb_refused_by_rules_check_within_a_second(tmp_path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (d / "ok.yaml").write_text("name: 好\ntype: keyword\nfilter: {keywords: [爆炸]}\n", encoding="utf-8")
    # a subprocess with a memory cap: an expansion would die, not pass
    code = ("import resource,sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
            "from opinion_desk.cli import main; sys.argv=['opinion-desk','rules','check',sys.argv[1]]; main()")
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(d)], capture_output=True, text=True, timeout=60, cwd=REPO,
                       env={**os.environ, "OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")})
    startup = time.perf_counter() - t
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert f"{d / 'bomb.yaml'}:" in r.stderr and "别名" in r.stderr
    assert "1 条规则正常，1 条有错误" in r.stdout
    t = time.perf_counter()
    with pytest.raises(RuleError):
        load_rule_file(d / "bomb.yaml")
    assert time.perf_counter() - t < 1.0, startup


def test_redos_pattern_runs_in_linear_time() -> None:
    lr = rule("name: r\ntype: keyword\nfilter:\n  regex: ['(a+)+$']\n")
    p = post(0, "a" * 5000 + "b", tokens=[])
    t = time.perf_counter()
    for _ in range(100):
        assert not lr.spec.filter.matches(p)
    assert time.perf_counter() - t < 1.0
    assert lr.spec.filter.matches(post(0, "xaaa", tokens=[]))
    assert lr.spec.filter.matches(post(0, "\ud800aaa", tokens=[]))  # a lone surrogate: RE2 reads UTF-8


@pytest.mark.parametrize("rx, words", [(r"(a)\1", "RE2 不支持"), ("(?=爆炸)", "RE2 不支持"), (r"爆炸\Z", r"\z"),
                                       ("(爆炸", "does not compile"), ("x" * 3000, "过长")])
def test_python_only_regex_refused_with_file_line_field(rx: str, words: str) -> None:
    with pytest.raises(RuleError) as e:
        parse_rule(f"name: r\ntype: keyword\nfilter:\n  regex:\n    - 火灾\n    - '{rx}'\n", "rules/r.yaml")
    assert (e.value.file, e.value.line, e.value.field) == ("rules/r.yaml", 6, "filter.regex[1]")
    assert words in e.value.reason


def test_re2_dialect_notes_reported_by_rules_check(tmp_path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "w.yaml").write_text("name: w\ntype: keyword\nfilter:\n  regex: ['\\w+死亡', '[\\u4e00-\\u9fff]{2}爆炸']\n",
                              encoding="utf-8")
    r = CliRunner().invoke(main, ["rules", "check", str(d)], env={"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "v")})
    assert r.exit_code == 0, r.output
    assert f"注意  {d / 'w.yaml'}:4: field 'filter.regex[0]':" in r.output and "只匹配 ASCII" in r.output
    lr = load_rule_file(d / "w.yaml")  # \uXXXX is translated to RE2's \x{XXXX}
    assert lr.spec.filter.matches(post(0, "化工爆炸", tokens=[]))


@pytest.mark.parametrize("text, line, field", [
    ("name: a\ntype: spike\ntimeframe: 999999999999d\n", 3, "timeframe"),
    ("name: a\ntype: spike\nrealert: {days: 1.0e+300}\n", 3, "realert"),
    ("name: a\ntype: new_term\nterms_window: 99999999999w\n", 3, "terms_window"),
])
def test_absurd_durations_are_named(text: str, line: int, field: str) -> None:
    with pytest.raises(RuleError) as e:
        parse_rule(text, "rules/a.yaml")
    assert (e.value.line, e.value.field) == (line, field) and "太长" in e.value.reason


def test_deep_nesting_is_named(tmp_path) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text("name: a\ntype: spike\nduty:\n  notes: " + "[" * 50000 + "\n", encoding="utf-8")
    with pytest.raises(RuleError) as e:
        load_rule_file(p)
    assert e.value.file == str(p) and e.value.line == 4 and "嵌套" in e.value.reason


def test_rule_failing_at_hot_reload_is_listed(tmp_path) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "a.yaml").write_text("name: 甲\ntype: spike\ntimeframe: 10m\n", encoding="utf-8")
    eng = Engine(d)
    eng.reload()
    assert [r["name"] for r in eng.status()["rules"]] == ["甲"]
    (d / "a.yaml").write_text("name: 甲\ntype: spike\ntimeframe: 999999999999d\n", encoding="utf-8")
    (d / "b.yaml").write_text(alias_bomb(), encoding="utf-8")
    os.utime(d / "a.yaml", (time.time() + 5, time.time() + 5))
    eng.tick()
    st = eng.status()
    assert [r["name"] for r in st["rules"]] == ["甲"]  # the previous version keeps running
    errs = {Path(e["file"]).name: e for e in st["errors"]}
    assert set(errs) == {"a.yaml", "b.yaml"}
    assert errs["a.yaml"]["field"] == "timeframe" and "继续运行上一版本" in errs["a.yaml"]["message"]
    eng.tick()  # still listed on the next tick (unchanged files are not re-read, and not forgotten)
    assert len(eng.status()["errors"]) == 2
