"""The ElastAlert2 features analysts miss most: query_key on any field or a list of fields, and the blacklist,
whitelist, change, percentage_match and metric_aggregation types — each through the engine, on event time.
Message templates and exponential_realert: test_rule_messages.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.loader import load_rule_file, parse_rule
from opinion_desk.detection.types import RULE_TYPES
from opinion_desk.errors import RuleError

from .helpers import T0, post, rule
from .helpers import run as _run


def run(lr, posts, until_minute=None):
    """The matches, the updates of a growing match included."""
    return _run(lr, posts, until_minute, updates=True)


def test_registered() -> None:
    assert {"blacklist", "whitelist", "change", "percentage_match", "metric_aggregation"} <= set(RULE_TYPES)


# -- query_key --------------------------------------------------------------------------------------
def test_query_key_any_field_and_compound() -> None:
    lr = rule("name: f\ntype: frequency\ntimeframe: 10m\nnum_events: 2\nquery_key: [region, platform]\n")
    ps = [post(0, region="青山县", platform="weibo"), post(1, region="青山县", platform="weibo"),
          post(1, region="青山县", platform="wechat"), post(2, region="绿水县", platform="weibo")]
    assert [m.key for m in run(lr, ps)] == ["青山县 / weibo"]
    lr = rule("name: f\ntype: frequency\ntimeframe: 10m\nnum_events: 2\nquery_key: author_type\n")
    assert [m.key for m in run(lr, [post(0, author_type="gov"), post(1, author_type="gov")])] == ["gov"]


def test_query_key_list_fields_multiply() -> None:
    spec = parse_rule("name: f\ntype: frequency\nnum_events: 2\nquery_key: [hashtag, region]\n", "r.yaml")
    assert spec.keys_of(post(0, hashtags=["泄洪", "青山"], region="青山县")) == ["泄洪 / 青山县", "青山 / 青山县"]


def test_query_key_unknown_field_is_named_in_chinese() -> None:
    with pytest.raises(RuleError) as e:
        parse_rule("name: f\ntype: frequency\nnum_events: 2\nquery_key: [region, colour]\n", "r.yaml")
    assert e.value.line == 4 and e.value.field == "query_key" and "无效" in e.value.reason


# -- blacklist / whitelist --------------------------------------------------------------------------
def test_blacklist_inline_and_file(tmp_path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "accounts.txt").write_text("# 重点账号\n造谣小号A\n\n营销号B  # 注释\n", encoding="utf-8")
    f = tmp_path / "b.yaml"
    f.write_text("name: 黑名单\ntype: blacklist\ncompare_key: author\nblacklist: [某某]\n"
                 "blacklist_file: lists/accounts.txt\n", encoding="utf-8")
    lr = load_rule_file(f)
    ms = run(lr, [post(0, author="营销号B"), post(1, author="路人"), post(2, author="某某"), post(3, author="造谣小号A")])
    assert [m.key for m in ms] == ["营销号B", "某某", "造谣小号A"]
    assert "在黑名单中" in ms[0].reason and ms[0].details["compare_value"] == "营销号B"


def test_blacklist_list_field_and_query_key() -> None:
    lr = rule("name: b\ntype: blacklist\ncompare_key: hashtags\nblacklist: [谣言话题]\nquery_key: region\n")
    ms = run(lr, [post(0, hashtags=["日常", "谣言话题"], region="青山县"), post(1, hashtags=["日常"])])
    assert [(m.key, m.details["compare_value"]) for m in ms] == [("青山县", "谣言话题")]


@pytest.mark.parametrize("name,why", [("../outside.txt", "规则目录内"), ("/etc/passwd", "绝对路径"),
                                      ("missing.txt", "无法读取"), ("big.txt", "过大"), ("gbk.txt", "第 2 行不是 UTF-8")])
def test_blacklist_file_is_loaded_safely(tmp_path, name, why) -> None:
    d = tmp_path / "rules"
    d.mkdir()
    (tmp_path / "outside.txt").write_text("x\n", encoding="utf-8")
    (d / "big.txt").write_bytes(b"a\n" * 600_000)
    (d / "gbk.txt").write_bytes("甲\n".encode() + "乙\n".encode("gbk"))
    f = d / "b.yaml"
    f.write_text(f"name: 黑名单\ntype: blacklist\ncompare_key: author\nblacklist_file: {name}\n", encoding="utf-8")
    with pytest.raises(RuleError) as e:
        load_rule_file(f)
    assert e.value.line == 4 and e.value.field == "blacklist_file" and why in e.value.reason


def test_blacklist_needs_a_list() -> None:
    with pytest.raises(RuleError) as e:
        rule("name: b\ntype: blacklist\ncompare_key: author\n")
    assert "blacklist_file" in e.value.reason


def test_whitelist_and_ignore_null() -> None:
    lr = rule("name: w\ntype: whitelist\ncompare_key: author\nwhitelist: [青山县人民政府, 青山发布]\n"
              "filter: {keywords: [青山县政府通报]}\n")
    ps = [post(0, "青山县政府通报", tokens=["青山县政府通报"], author="青山发布"),
          post(1, "青山县政府通报", tokens=["青山县政府通报"], author="青山县发布厅"),
          post(2, "青山县政府通报", tokens=["青山县政府通报"], author="")]
    assert [m.key for m in run(lr, ps)] == ["青山县发布厅"]
    lr = rule("name: w\ntype: whitelist\ncompare_key: region\nwhitelist: [青山县]\nignore_null: false\n")
    assert len(run(lr, [post(0, region=""), post(1, region="青山县")])) == 1


# -- change -----------------------------------------------------------------------------------------
def test_change_per_key_within_timeframe() -> None:
    lr = rule("name: c\ntype: change\nquery_key: author\ncompare_key: region\ntimeframe: 1h\n")
    ps = [post(0, author="甲", region="北京"), post(5, author="甲", region="北京"), post(10, author="甲", region="广东"),
          post(11, author="乙", region="上海"), post(12, author="甲", region=""),  # ignore_null
          post(100, author="乙", region="浙江")]  # 89 minutes later: the old value was forgotten
    ms = run(lr, ps)
    assert [(m.key, m.details["old_value"], m.details["new_value"]) for m in ms] == [("甲", "北京", "广东")]
    assert "由「北京」变为「广东」" in ms[0].reason and len(ms[0].post_ids) == 2


def test_change_ignores_late_posts_and_needs_query_key() -> None:
    lr = rule("name: c\ntype: change\nquery_key: author\ncompare_key: [region, author_type]\ntimeframe: 1h\n")
    late = post(1, author="甲", region="北京", author_type="user")
    ms = run(lr, [post(2, author="甲", region="广东", author_type="user"), post(3, author="甲", region="广东",
                                                                              author_type="verified")])
    assert [m.details["new_value"] for m in ms] == ["广东 / verified"]
    assert lr.rtype.on_post(late, ["甲"], T0) == []  # older than the last one seen: not compared
    with pytest.raises(RuleError):
        rule("name: c\ntype: change\ncompare_key: region\n")


# -- percentage_match -------------------------------------------------------------------------------
def test_percentage_match_max_and_min_denominator() -> None:
    lr = rule("name: p\ntype: percentage_match\ntimeframe: 30m\nmatch_bucket_filter: {sentiment: [neg]}\n"
              "max_percentage: 60\nmin_denominator: 10\nresolve_after: 10m\n")
    calm = [post(m, sentiment_label="neg" if m % 2 else "pos") for m in range(0, 10)]  # 50 %
    angry = [post(10 + k * 0.5, sentiment_label="neg") for k in range(10)]  # share climbs past 60 %
    ms = run(lr, calm + angry, until_minute=90)
    fired = [m for m in ms if m.kind == "match"]
    assert len(fired) == 1 and fired[0].details["percentage"] > 60 and fired[0].details["total"] >= 10
    assert "高于上限 60%" in fired[0].reason
    assert [m.kind for m in ms][-1] == "resolved"
    few = [post(0, sentiment_label="neg") for _ in range(5)]
    assert run(rule("name: p\ntype: percentage_match\nmatch_bucket_filter: {sentiment: [neg]}\nmax_percentage: 60\n"
                    "min_denominator: 10\n"), few) == []


def test_percentage_match_min_percentage_and_needs_a_bound() -> None:
    lr = rule("name: p\ntype: percentage_match\ntimeframe: 1h\nquery_key: topic\n"
              "match_bucket_filter: {author_types: [gov, media]}\nmin_percentage: 10\nmin_denominator: 5\n")
    ms = run(lr, [post(k, topic_label="泄洪", author_type="user") for k in range(6)])
    assert [m.key for m in ms] == ["泄洪"] and ms[0].details["percentage"] == 0
    with pytest.raises(RuleError):
        rule("name: p\ntype: percentage_match\nmatch_bucket_filter: {sentiment: [neg]}\n")
    with pytest.raises(RuleError) as e:
        rule("name: p\ntype: percentage_match\nmatch_bucket_filter: {colour: [red]}\nmax_percentage: 5\n")
    assert e.value.field and e.value.field.startswith("match_bucket_filter")


# -- metric_aggregation -----------------------------------------------------------------------------
@pytest.mark.parametrize("agg,threshold,expect", [("max", "max_threshold: 1000", 5000), ("sum", "max_threshold: 5500", 5600),
                                                   ("avg", "max_threshold: 1000", 1400), ("min", "min_threshold: 50", 0),
                                                   ("value_count", "max_threshold: 3", 4)])
def test_metric_aggregation_numeric(agg, threshold, expect) -> None:
    lr = rule(f"name: m\ntype: metric_aggregation\ntimeframe: 1h\nmetric_agg_key: reposts\nmetric_agg_type: {agg}\n"
              f"{threshold}\n")
    ps = [post(0, reposts=0), post(1, reposts=200), post(2, reposts=400), post(3, reposts=5000)]
    ms = run(lr, ps)
    assert ms and ms[0].kind == "match" and ms[0].details["metric_value"] == pytest.approx(expect)


def test_metric_aggregation_counts_a_recollected_post_once_with_its_latest_figures() -> None:
    lr = rule("name: m\ntype: metric_aggregation\ntimeframe: 1h\nmetric_agg_key: reposts\nmetric_agg_type: sum\n"
              "max_threshold: 900\nquery_key: region\n")
    p1 = post(0, reposts=100, region="青山县")
    again = post(0, reposts=1000, region="青山县")
    again.source_id = p1.source_id
    ms = run(lr, [p1, again])
    assert [(m.key, m.value) for m in ms] == [("青山县", 1000)]


def test_metric_aggregation_cardinality_and_checks() -> None:
    lr = rule("name: m\ntype: metric_aggregation\ntimeframe: 10m\nmetric_agg_key: author\n"
              "metric_agg_type: cardinality\nmax_threshold: 2\nmin_doc_count: 3\n")
    ms = run(lr, [post(0, author="甲"), post(1, author="乙"), post(2, author="甲"), post(3, author="丙")])
    assert ms[0].details["metric_value"] == 3 and "不同取值数" in ms[0].reason
    for bad in ("metric_agg_key: author\nmetric_agg_type: max\nmax_threshold: 1\n",
                "metric_agg_key: reposts\nmetric_agg_type: sum\n"):
        with pytest.raises(RuleError):
            rule(f"name: m\ntype: metric_aggregation\n{bad}")


def test_new_types_save_and_restore_state() -> None:
    for text in ("name: c\ntype: change\nquery_key: author\ncompare_key: region\n",
                 "name: p\ntype: percentage_match\nmatch_bucket_filter: {sentiment: [neg]}\nmax_percentage: 5\n",
                 "name: m\ntype: metric_aggregation\nmetric_agg_key: likes\nmetric_agg_type: max\nmax_threshold: 5\n"):
        a, b = rule(text), rule(text)
        a.rtype.on_post(post(0, author="甲", region="北京", likes=9, sentiment_label="neg"), ["k"], T0)
        b.rtype.load_state(__import__("json").loads(__import__("json").dumps(a.rtype.state())))
        assert b.rtype.state() == a.rtype.state()


def test_rules_check_names_file_line_and_field_in_chinese(tmp_path) -> None:
    from click.testing import CliRunner

    from opinion_desk.cli import main

    d = tmp_path / "rules"
    d.mkdir()
    (d / "names.txt").write_text("造谣小号A\n", encoding="utf-8")
    (d / "a.yaml").write_text("name: 黑名单\ntype: blacklist\ncompare_key: author\nblacklist_file: names.txt\n"
                              "alert_text: '{compare_value} 发帖 {count} 次'\n", encoding="utf-8")
    (d / "b.yaml").write_text("name: 指标\ntype: metric_aggregation\nmetric_agg_key: reposts\nmetric_agg_type: median\n"
                              "max_threshold: 5\n", encoding="utf-8")
    (d / "c.yaml").write_text("name: 占比\ntype: percentage_match\nmatch_bucket_filter: {sentiment: [neg]}\n",
                              encoding="utf-8")
    (d / "d.yaml").write_text("name: 变化\ntype: change\ncompare_key: region\nalert_text: '{old_value}→{new_valu}'\n"
                              "query_key: author\n", encoding="utf-8")
    (d / "e.yaml").write_text("name: 名单\ntype: whitelist\ncompare_key: author\nwhitelist_file: ../x.txt\n",
                              encoding="utf-8")
    r = CliRunner().invoke(main, ["rules", "check", str(d)], env={"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")})
    assert r.exit_code == 1
    assert "正常  " in r.output and "a.yaml" in r.output
    assert "b.yaml:4: field 'metric_agg_type': 'median' 不是可选值之一" in r.output
    assert "c.yaml:2: field 'max_percentage': percentage_match 需要 min_percentage 或 max_percentage" in r.output
    assert "d.yaml:4: field 'alert_text': 未知字段 'new_valu'" in r.output
    assert "e.yaml:4: field 'whitelist_file': 名单文件须在规则目录内" in r.output


def test_change_keeps_its_last_values_as_rows_across_a_restart(tmp_path) -> None:
    from opinion_desk.state import StateDB

    db = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    db.create_all()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "c.yaml").write_text("name: 属地变化\ntype: change\nquery_key: author\ncompare_key: region\n"
                                               "timeframe: 1d\n", encoding="utf-8")
    clock = ManualClock(T0)
    seen = []
    eng = Engine(tmp_path / "rules", clock=clock, statedb=db, sink=lambda m, spec: seen.append(m))
    eng.reload()
    eng.on_posts([post(0, author="甲", region="北京"), post(0, author="乙", region="上海")])
    eng.tick(T0)
    clock.set(T0 + timedelta(minutes=5))
    eng2 = Engine(tmp_path / "rules", clock=clock, statedb=db, sink=lambda m, spec: seen.append(m))
    eng2.reload()
    eng2.on_posts([post(5, author="甲", region="广东")])
    assert [(m.key, m.details["old_value"]) for m in seen] == [("甲", "北京")]


def test_metric_aggregation_window_survives_a_restart(tmp_path) -> None:
    from opinion_desk.state import StateDB

    db = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    db.create_all()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "m.yaml").write_text("name: 转发合计\ntype: metric_aggregation\ntimeframe: 1h\n"
                                               "metric_agg_key: reposts\nmetric_agg_type: sum\nmax_threshold: 1000\n",
                                               encoding="utf-8")
    clock = ManualClock(T0)
    seen = []
    eng = Engine(tmp_path / "rules", clock=clock, statedb=db, sink=lambda m, spec: seen.append(m))
    eng.reload()
    eng.on_posts([post(0, reposts=600)])
    eng.tick(T0)
    clock.set(T0 + timedelta(minutes=5))
    eng2 = Engine(tmp_path / "rules", clock=clock, statedb=db, sink=lambda m, spec: seen.append(m))
    eng2.reload()
    eng2.on_posts([post(5, reposts=600)])
    assert [m.value for m in seen] == [1200]


def test_blacklist_link_domains_cover_subdomains() -> None:
    lr = rule("name: b\ntype: blacklist\ncompare_key: link_domains\nblacklist: [evil.cn]\n")
    ps = [post(0, "详见 https://m.Evil.cn/x?a=1 转发", tokens=[]), post(1, "官网 https://www.gov.cn/a", tokens=[]),
          post(2, "https://notevil.cn/ 无关", tokens=[])]
    assert [m.key for m in run(lr, ps)] == ["m.evil.cn"]


def test_an_edited_list_file_is_picked_up_and_a_broken_edit_keeps_the_old_list(tmp_path, monkeypatch) -> None:
    import os

    from opinion_desk.detection.types import lists

    monkeypatch.setattr(lists, "RECHECK_SECONDS", 0.0)
    names = tmp_path / "names.txt"
    names.write_text("甲\n", encoding="utf-8")
    f = tmp_path / "b.yaml"
    f.write_text("name: 黑名单\ntype: blacklist\ncompare_key: author\nblacklist_file: names.txt\n", encoding="utf-8")
    lr = load_rule_file(f)
    assert lr.rtype.on_post(post(0, author="乙"), ["乙"], T0) == []
    names.write_text("甲\n乙\n", encoding="utf-8")
    os.utime(names, (1, 1_000_000))
    assert len(lr.rtype.on_post(post(1, author="乙"), ["乙"], T0)) == 1
    names.write_bytes("丙\n".encode("gbk"))
    os.utime(names, (1, 2_000_000))
    assert len(lr.rtype.on_post(post(2, author="乙"), ["乙"], T0)) == 1  # the broken file is not taken


def test_query_key_keywords_is_the_posts_own() -> None:
    spec = parse_rule("name: f\ntype: frequency\nnum_events: 2\nquery_key: [keywords, region]\n"
                      "filter: {keywords: [医院]}\n", "r.yaml")
    assert spec.keys_of(post(0, tokens=["医院"], keywords=["挂号", "排队"], region="青山县")) == [
        "挂号 / 青山县", "排队 / 青山县"]
