"""Config values checked for meaning (errors in Chinese naming the field) and secrets redacted wherever the
configuration is printed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import SCHEMA, load_config, redacted, render
from opinion_desk.errors import ConfigError


def _problems(tmp_path, toml: str) -> list[str]:
    f = tmp_path / "c.toml"
    f.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_config(f, env={})
    return ei.value.problems


@pytest.mark.parametrize("toml,field,words", [
    ('[desk]\ntimezone = "Mars/Olympus"\n', "[desk] timezone", "时区"),
    ('[incidents]\ndefault_level = "天大"\n', "[incidents] default_level", "不是 [incidents] levels"),
    ('[incidents]\nmajor_levels = ["极大"]\n', "[incidents] major_levels", "不在"),
    ("[incidents]\nescalate_at = [5, -1]\n", "[incidents] escalate_at", "大于 0"),
    ("[incidents]\nescalate_at = [0.8, 0.5]\n", "[incidents] escalate_at", "从小到大"),
    ("[incidents]\nescalate_at = [0.5, true]\n", "[incidents] escalate_at", "比例"),
    ("[store]\nretention_days = -1\n", "[store] retention_days", "负数"),
    ("[collectors]\nevidence_days = -3\n", "[collectors] evidence_days", "负数"),
    ("[rules]\ntick_seconds = 0\n", "[rules] tick_seconds", "大于 0"),
    ("[auth]\nlogin_max_failures = 0\n", "[auth] login_max_failures", "大于 0"),
    ("[store.elasticsearch]\nnumber_of_shards = 0\n", "[store.elasticsearch] number_of_shards", "大于 0"),
    ("[store.elasticsearch]\nnumber_of_replicas = -1\n", "[store.elasticsearch] number_of_replicas", "负数"),
    ('[store.elasticsearch]\nnumber_of_replicas = "1"\n', "[store.elasticsearch] number_of_replicas", "应为"),
])
def test_bad_values_are_named_in_chinese(tmp_path, toml, field, words):
    problems = _problems(tmp_path, toml)
    assert len(problems) == 1, problems
    assert problems[0].startswith(field) and words in problems[0] and "c.toml" in problems[0]


def test_zero_retention_means_keep_forever_for_both(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[store]\nretention_days = 0\n[collectors]\nevidence_days = 0\n", encoding="utf-8")
    cfg = load_config(f, env={})
    assert cfg["store"]["retention_days"] == 0 and cfg["collectors"]["evidence_days"] == 0


def test_zero_retention_schedules_no_post_deletion(tmp_path, analyzer):
    from opinion_desk import create_app, start_background, stop_background
    from tests.conftest import make_test_config

    app = create_app(make_test_config(tmp_path, store={"retention_days": 0}), analyzer_factory=lambda: analyzer)
    try:
        start_background(app)
        jobs = {j.id for j in app.desk.scheduler.aps.get_jobs()}
        assert "retention" not in jobs and "spool-drain" in jobs and "audit-digest" in jobs
    finally:
        stop_background(app)


def test_secret_keys_are_declared_in_the_schema():
    secret = {f"{sec}.{k}" for sec, keys in SCHEMA.items() for k, spec in keys.items() if spec.secret}
    assert {"desk.secret_key", "store.elasticsearch.api_key", "store.elasticsearch.password", "ingest.tokens",
            "incidents.weibo.access_token", "incidents.wechat.secret", "alerting.smtp_password"} <= secret


def test_config_check_never_prints_a_secret(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[desk]\nsecret_key = "flask-secret-1"\n'
                 '[state]\nurl = "postgresql://desk:pg-pass-2@db.local/desk"\n'
                 '[ingest]\ntokens = ["ingest-token-3"]\n'
                 '[incidents.weibo]\naccess_token = "weibo-token-4"\n'
                 '[incidents.wechat]\nsecret = "wechat-secret-5"\n'
                 '[alerting]\nsmtp_password = "smtp-6"\n'
                 '[alerting.channels."值班群"]\ntype = "wecom"\n'
                 'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-7"\n'
                 '[alerting.channels."钉钉"]\ntype = "dingtalk"\n'
                 'url = "https://oapi.dingtalk.com/robot/send?access_token=ding-token-8"\nsecret = "SECding-9"\n'
                 '[alerting.channels."飞书"]\ntype = "feishu"\n'
                 'url = "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-hook-10"\n'
                 '[alerting.channels."指挥中心"]\ntype = "webhook"\nurl = "https://x.gov.cn/h"\n'
                 'headers = {Authorization = "Bearer hook-11"}\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(f), "config", "check"])
    assert r.exit_code == 0, r.output
    cfg = load_config(f, env={})
    shown = r.output + render(cfg) + repr(redacted(cfg))
    for n, secret in enumerate(["flask-secret-1", "pg-pass-2", "ingest-token-3", "weibo-token-4", "wechat-secret-5",
                                "smtp-6", "wecom-key-7", "ding-token-8", "SECding-9", "feishu-hook-10", "hook-11"], 1):
        assert secret not in shown, (n, secret)
    assert "qyapi.weixin.qq.com" in r.output and "db.local" in r.output  # what is not secret stays readable


def test_a_mistyped_secret_is_not_echoed_in_the_error(tmp_path):
    problems = _problems(tmp_path, '[ingest]\ntokens = "plain-token-42"\n[alerting]\nsmtp_password = 12345678\n')
    text = "\n".join(problems)
    assert "[ingest] tokens: 应为 list" in text and "[alerting] smtp_password: 应为 str" in text
    assert "plain-token-42" not in text and "12345678" not in text
