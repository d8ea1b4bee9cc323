"""Per-rule message templates (alert_subject / alert_text with their args, checked at load, rendered into the
alert) and exponential_realert, through the alert book and `rules test`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opinion_desk.detection import message, realert
from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.loader import parse_rule
from opinion_desk.detection.noise import AlertBook
from opinion_desk.detection.types import RULE_TYPES
from opinion_desk.errors import RuleError
from opinion_desk.state import StateDB

from .helpers import T0, post


def desk(tmp_path, name: str, text: str):
    """An engine with the alert book on a scratch state database, loading one rule file; and its clock."""
    db = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    db.create_all()
    clock = ManualClock(T0)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / name).write_text(text, encoding="utf-8")
    eng = Engine(tmp_path / "rules", clock=clock, statedb=db)
    eng.book = AlertBook(db, clock, eng.alert_listeners, eng.resolve_listeners)
    eng.sink = eng.book.handle
    eng.reload()
    return eng, clock, db


def test_templates_render_positional_and_named_fields() -> None:
    spec = parse_rule("name: 转发过万\ntype: metric_aggregation\nmetric_agg_key: reposts\nmetric_agg_type: max\n"
                      "max_threshold: 10000\nquery_key: region\n"
                      "alert_subject: '【{0}】{rule}：最高转发 {metric_value:.0f}'\nalert_subject_args: [key]\n"
                      "alert_text: '{1} 出现 {count} 次；样例：{samples[0].author}：{samples[0].text}（{0}）'\n"
                      "alert_text_args: ['samples[0].url', key]\n", "r.yaml")
    alert = {"rule": "转发过万", "key": "青山县", "count": 2, "value": 12000.0, "severity_zh": "较大",
             "details": {"metric_value": 12000.0}, "first_match": "2024-05-01T00:00:00+00:00"}
    posts = [{"author": "网友", "text": "[点此](http://x.cn)", "url": "http://x.cn/1"}]
    out = message.render_message(spec.message, alert, posts)
    assert out["subject"] == "【青山县】转发过万：最高转发 12000"
    assert out["text"] == "青山县 出现 2 次；样例：网友：[点此](http://x.cn)（http://x.cn/1）"
    assert message.render_message(spec.message, alert, [])["text"].startswith("青山县 出现 2 次；样例：<缺失>")


@pytest.mark.parametrize("tpl,why", [("{foo}", "未知字段 'foo'"), ("{0.__class__}", "写法无效"),
                                     ("{rule.__globals__}", "没有下级字段"), ("{count!r}", "不支持转换"),
                                     ("{count:>99999}", "不支持的格式"), ("{samples[7].text}", "超出范围"),
                                     ("{samples[0].password}", "没有字段"), ("{1}", "至少 2 项"), ("{", "模板格式错误")])
def test_templates_refused_at_load_name_the_file_line_and_field(tpl, why) -> None:
    text = f"name: t\ntype: frequency\nnum_events: 2\nalert_text_args: [count]\nalert_text: {tpl!r}\n"
    with pytest.raises(RuleError) as e:
        parse_rule(text, "rules/t.yaml")
    assert (e.value.file, e.value.line, e.value.field) == ("rules/t.yaml", 5, "alert_text") and why in e.value.reason


def test_template_args_are_checked_too() -> None:
    with pytest.raises(RuleError) as e:
        parse_rule("name: t\ntype: frequency\nnum_events: 2\nalert_subject: '{0}'\nalert_subject_args: [count, nope]\n",
                   "t.yaml")
    assert e.value.field == "alert_subject_args[1]" and "未知字段 'nope'" in e.value.reason
    with pytest.raises(RuleError):  # the type's own fields are known only to that type
        parse_rule("name: t\ntype: frequency\nnum_events: 2\nalert_text: '{metric_value}'\n", "t.yaml")


def test_rendered_values_are_bounded_and_never_objects() -> None:
    ctx = message.context({"rule": "r", "details": {"x": {"a": 1}}}, [{"text": "长" * 5000}])
    assert message.render("{samples[0].text}", [], ctx) == "长" * message.MAX_VALUE
    assert message.lookup(ctx, "rule") == "r" and message.render("{0}", ["x"], ctx) == message.MISSING


def test_exponential_realert_doubles_while_firing_and_resets_after_quiet() -> None:
    spec = parse_rule("name: k\ntype: keyword\nrealert: 10m\nexponential_realert: 1h\n", "k.yaml")
    m = timedelta(minutes=1)
    t0 = T0
    d1 = realert.details(spec, None, None, t0)  # first notice
    assert d1 == {"realert_seconds": 600}
    d2 = realert.details(spec, t0, d1, t0 + 11 * m)  # fired again right after realert: doubles
    assert realert.interval(spec, d2) == timedelta(minutes=20)
    d3 = realert.details(spec, t0 + 11 * m, d2, t0 + 32 * m)
    d4 = realert.details(spec, t0 + 32 * m, d3, t0 + 73 * m)
    assert realert.interval(spec, d3) == timedelta(minutes=40) and realert.interval(spec, d4) == timedelta(hours=1)
    d5 = realert.details(spec, t0 + 73 * m, d4, t0 + 400 * m)  # quiet for more than twice the interval: reset
    assert realert.interval(spec, d5) == timedelta(minutes=10)
    plain = parse_rule("name: k\ntype: keyword\nrealert: 10m\n", "k.yaml")
    assert realert.details(plain, t0, d4, t0 + 11 * m) == {} and realert.interval(plain, d4) == timedelta(minutes=10)


def test_exponential_realert_below_realert_is_refused() -> None:
    with pytest.raises(RuleError) as e:
        parse_rule("name: k\ntype: keyword\nrealert: 1h\nexponential_realert: 10m\n", "k.yaml")
    assert e.value.line == 4 and e.value.field == "exponential_realert"


def test_exponential_realert_through_the_alert_book(tmp_path) -> None:
    eng, clock, _ = desk(tmp_path, "kw.yaml", "name: 关注词\ntype: keyword\nrealert: 10m\nexponential_realert: 1h\n"
                                              "filter: {keywords: [爆炸]}\n")
    heard: list[float] = []
    eng.alert_listeners.append(lambda a: heard.append((a.created_at - T0).total_seconds() / 60))
    for minute in (0, 11, 22, 33, 50, 75, 100, 140, 300, 305, 312):
        clock.set(T0 + timedelta(minutes=minute))
        eng.on_posts([post(minute, tokens=["爆炸"])])
    # 10 min, then 20, 40, 60 (the cap) while it keeps firing; after a quiet spell back to 10
    assert heard == [0, 11, 33, 75, 140, 300, 312]


def test_alert_book_renders_the_rule_message_into_the_alert(tmp_path) -> None:
    from opinion_desk.state.alerts import Alert

    eng, _, db = desk(tmp_path, "b.yaml",
        "name: 重点账号\ntype: blacklist\ncompare_key: author\nblacklist: [造谣小号A]\n"
        "alert_subject: '重点账号「{compare_value}」发帖'\nalert_text: '{key} 于 {time} 发帖（第 {count} 次）'\n")
    heard = []
    eng.alert_listeners.append(lambda a: heard.append(a.to_dict()))
    eng.on_posts([post(0, author="造谣小号A")])
    msg = heard[0]["details"]["message"]
    assert msg == {"subject": "重点账号「造谣小号A」发帖", "text": "造谣小号A 于 2024-05-01 00:00 发帖（第 1 次）"}
    with db.session_scope() as s:
        assert s.query(Alert).one().details["message"] == msg


def test_an_aggregated_alert_message_tells_the_whole_window(tmp_path) -> None:
    eng, clock, _ = desk(tmp_path, "k.yaml", "name: 关注词\ntype: keyword\naggregation: 5m\nfilter: {keywords: [爆炸]}\n"
                                             "alert_text: '{count} 条涉及 {words}'\n")
    heard = []
    eng.alert_listeners.append(lambda a: heard.append(a.to_dict()["details"]["message"]["text"]))
    for minute in (0, 1, 2):
        clock.set(T0 + timedelta(minutes=minute))
        eng.on_posts([post(minute, tokens=["爆炸"])])
    clock.set(T0 + timedelta(minutes=6))
    eng.tick(T0 + timedelta(minutes=6))
    assert heard == ["3 条涉及 爆炸"]


def test_every_type_declares_the_details_its_messages_may_name() -> None:
    for name, cls in RULE_TYPES.items():
        for f in getattr(cls, "MATCH_FIELDS", ()):
            assert f not in message.COMMON_FIELDS, (name, f)
    spec = parse_rule("name: s\ntype: spike\nalert_text: '近期 {current:.0f} 条，参照 {reference:.1f}'\n", "s.yaml")
    ctx = message.context({"details": {"current": 42.0, "reference": 3.0}}, [])
    assert message.render(spec.message["alert_text"], [], ctx) == "近期 42 条，参照 3.0"


def test_rules_test_shows_the_message_the_rule_would_send(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from opinion_desk.cli import main

    f = tmp_path / "k.yaml"
    f.write_text("name: 关注词\ntype: keyword\nrealert: 10m\nexponential_realert: 1h\nfilter: {keywords: [爆炸]}\n"
                 "alert_subject: '【速核】{words}'\nalert_text: '{samples[0].author}：{samples[0].text}'\n", encoding="utf-8")
    rows = [{"id": str(i), "source": "t", "author": f"网友{i}", "text": "化工厂发生爆炸", "tokens": ["化工厂", "发生爆炸"],
             "created_at": (T0 + timedelta(minutes=m)).isoformat()} for i, m in enumerate((0, 11, 22, 33, 50))]
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = {"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")}
    r = CliRunner().invoke(main, ["rules", "test", str(f), "--posts", str(posts)], env=env)
    assert r.exit_code == 0, r.output
    assert "消息：【速核】爆炸 | 网友0：化工厂发生爆炸" in r.output
    assert "告警 3 次" in r.output  # 0, 11 (realert 10m), 33 (doubled to 20m); 22 and 50 fold (40m)


def test_a_subject_is_one_line_whatever_the_post_holds() -> None:
    spec = parse_rule("name: t\ntype: keyword\nalert_subject: '{samples[0].text}'\nalert_text: '{samples[0].text}'\n",
                      "t.yaml")
    out = message.render_message(spec.message, {"rule": "t"}, [{"text": "第一行\r\n第二行\x00\u2028三"}])
    assert out == {"subject": "第一行  第二行  三", "text": "第一行\n第二行  三"}
