"""What the CLI tells a person is in Chinese (``--help`` may stay English): errors of the desk (``错误：…`` naming
the field), click's own usage errors, and the messages of the commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main


@pytest.fixture
def run(tmp_path):
    env = {"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var")}

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def test_desk_errors_are_chinese_and_name_the_field(run):
    r = run("users", "passwd", "nobody", "--password", "long-enough-1")
    assert r.exit_code == 1 and r.output == "错误：用户 'nobody' 不存在\n"
    r = run("users", "add", "wang", "--role", "duty", "--password", "short")
    assert r.exit_code == 1 and r.output.startswith("错误：") and "field 'password'" in r.output and "太短" in r.output
    r = run("users", "add", "wang", "--role", "boss", "--password", "long-enough-1")
    assert r.exit_code == 1 and "field 'role'" in r.output and "未知角色 'boss'" in r.output
    r = run("silence", "remove", "99")
    assert r.exit_code == 1 and r.output == "错误：没有编号为 99 的静默\n"
    r = run("users", "token", "t1", "--scope", "read")
    assert r.exit_code == 1 and "--user" in r.output and r.output.startswith("错误：")


def test_usage_errors_are_chinese(run):
    cases = {
        ("users", "add", "x"): "错误：缺少选项 '--role'",
        ("users", "add", "x", "--role"): "错误：选项 --role 后面需要给出一个值",
        ("incidents", "export", "--month", "2026-13"): "错误：--month 的值无效：月份 '2026-13' 格式不对",
        ("incidents", "export", "--month", "2026-11", "--format", "xml"): "不是可选值之一（可选：'csv', 'json'）",
        ("silence", "remove", "abc"): "错误：'SILENCE_ID' 的值无效：'abc' 不是整数",
        ("silence", "add", "x", "--for", "5 minuts"): "错误：--for 的值无效：无法识别的时长 '5 minuts'",
        ("users", "nope"): "错误：没有这个子命令：'nope'",
        ("sources", "list", "--jsno"): "错误：没有选项 --jsno（是否想用：--json）",
    }
    for args, want in cases.items():
        r = run(*args)
        assert r.exit_code == 2 and want in r.output, (args, r.output)
        assert "Error" not in r.output and "Invalid value" not in r.output, r.output


def test_messages_of_the_commands_are_chinese(run):
    r = run("silence", "add", "声量突增", "--for", "2h", "--reason", "已知活动")
    assert r.exit_code == 0 and r.output.startswith("静默 1：声量突增 至 ") and "北京时间" in r.output
    r = run("silence", "list")
    assert r.output.splitlines()[0] == "编号\t规则\t关键词\t静默至（北京时间）\t状态\t原因\t设置人"
    assert "生效中" in r.output and "已知活动" in r.output
    assert run("silence", "remove", "1").output == "已取消静默 1\n"
    assert run("silence", "list").output == "没有生效中的静默\n"
    assert run("--help").exit_code == 0  # --help may stay English
