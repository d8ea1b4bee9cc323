"""Bad rule files give a clear error with file, line and field; the other rules keep loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from opinion_desk.detection.loader import load_dir, parse_rule
from opinion_desk.detection.schema import rule_schema
from opinion_desk.errors import RuleError

REPO = Path(__file__).resolve().parents[2]

BAD = {
    "unknown_type": ("name: a\ntype: spikee\n", 2, "type", "未知的规则类型 'spikee'"),
    "bad_duration": ("name: a\ntype: spike\n# c\ntimeframe: 5 minuts\n", 4, "timeframe", "无法识别的时长 '5 minuts'"),
    "bad_regex": ("name: a\ntype: keyword\nfilter:\n  regex:\n    - ok\n    - '(abc'\n", 6, "filter.regex[1]", "does not compile"),
    "wrong_type": ("name: a\ntype: frequency\nnum_events: many\n", 3, "num_events", "应为 integer（整数），实际是 str 'many'"),
    "not_yaml": ("name: a\ntype: [spike\n  x: :\n", 3, None, "not valid YAML"),
    "unknown_field": ("name: a\ntype: spike\nspike_heigth: 3\n", 3, "spike_heigth", "未知字段"),
    "bad_option_duration": ("name: a\ntype: new_term\nterms_window: 7 dayz\n", 3, "terms_window", "无法识别的时长"),
    "missing_required": ("name: a\ntype: cardinality\n", 1, None, "缺少必填字段 'max_cardinality'"),
    "bad_label": ("name: a\ntype: spike\nfilter:\n  sentiment: [angry]\n", 4, "filter.sentiment[0]", "'angry' 不是可选值之一"),
    "not_a_mapping": ("- name: a\n", 1, None, "必须是 YAML 映射"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rule_names_file_line_field(case) -> None:
    text, line, field, reason = BAD[case]
    with pytest.raises(RuleError) as e:
        parse_rule(text, f"rules/{case}.yaml")
    err = e.value
    assert err.file == f"rules/{case}.yaml" and err.line == line and err.field == field
    assert reason in str(err) and str(err).startswith(f"rules/{case}.yaml:{line}")


def test_one_bad_file_does_not_stop_the_others(tmp_path) -> None:
    (tmp_path / "a-good.yaml").write_text("name: 好\ntype: keyword\nfilter: {keywords: [爆炸]}\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("name: 坏\ntype: spike\ntimeframe: 5 minuts\n", encoding="utf-8")
    (tmp_path / "z-dup.yaml").write_text("name: 好\ntype: keyword\n", encoding="utf-8")
    rules, errors = load_dir(tmp_path)
    assert list(rules) == ["好"]
    assert {Path(e.file).name for e in errors} == {"bad.yaml", "z-dup.yaml"}


def test_shipped_rules_load_and_validate_against_the_published_schema() -> None:
    rules, errors = load_dir(REPO / "rules")
    assert not errors
    assert {lr.spec.type for lr in rules.values()} >= {"spike", "sentiment_surge", "rumour", "keyword", "new_term",
                                                       "flatline", "cardinality"}
    published = json.loads((REPO / "rules" / "schema.json").read_text(encoding="utf-8"))
    assert published == rule_schema(), "rules/schema.json is stale: run opinion-desk rules schema --write rules/schema.json"
    v = Draft202012Validator(published)
    for lr in rules.values():
        assert not list(v.iter_errors(lr.spec.raw)), lr.path
    assert list(v.iter_errors({"name": "a", "type": "frequency", "spike_height": 3}))  # spike field on frequency
