"""The ``opinion-desk`` command group. Each subcommand is a thin call into a module below.

Subcommands live one file per area in this package; each file exposes ``COMMANDS`` (a list of click commands
or groups) and is named once in :data:`COMMAND_MODULES`, the registry of subcommands.
"""

from __future__ import annotations

import re
from importlib import import_module

import click

COMMAND_MODULES = [
    "opinion_desk.cli.desk",  # run, config check
    "opinion_desk.cli.ingest",  # import (resumable), rejected list|retry
    "opinion_desk.cli.es",  # es up|down|status
    "opinion_desk.cli.store",  # store upgrade (an older SQLite file, with progress)
    "opinion_desk.cli.analysis",  # analyze, train, eval
    "opinion_desk.cli.sources",  # sources check|list
    "opinion_desk.cli.evidence",  # evidence show|verify|prune
    "opinion_desk.cli.rules",  # rules check|test, silence
    "opinion_desk.cli.incidents",  # users, incidents export|routes
    "opinion_desk.cli.briefings",  # briefing make|list (舆情简报)
    "opinion_desk.cli.audit",  # audit verify|digest|log
    "opinion_desk.cli.state",  # state upgrade|current (the state database's schema revision)
]


#: what kind of problem a :class:`~opinion_desk.errors.DeskError` is, in the words a person reads
ERROR_KINDS = {"ConfigError": "配置有误", "InputError": "输入有误", "StateError": "状态库出错",
               "StoreError": "帖子库出错", "StoreUnavailable": "帖子库暂时连不上", "ESNodeError": "Elasticsearch 出错",
               "AnalysisError": "分析出错", "CollectorError": "采集出错", "SourceAuthError": "信息源登录失效",
               "RuleError": "规则有误", "DeliveryError": "发送失败", "BriefingError": "简报出错",
               "IncidentError": "事件处置出错", "ConflictError": "操作冲突"}


class Failure(click.ClickException):
    """A command's error as a person reads it: ``错误：…`` on stderr, exit status 1."""

    def show(self, file=None) -> None:  # noqa: ANN001
        click.echo(f"错误：{self.format_message()}", err=True, file=file)


class Usage(click.UsageError):
    """A usage error (a missing or bad option) as a person reads it: click's usage line, then ``错误：…``."""

    def show(self, file=None) -> None:  # noqa: ANN001
        if self.ctx is not None:
            click.echo(self.ctx.get_usage(), err=True, file=file)
            click.echo(f"运行 '{self.ctx.command_path} --help' 查看帮助。\n", err=True, file=file)
        click.echo(f"错误：{self.format_message()}", err=True, file=file)


def usage_zh(e: click.UsageError) -> str:
    """What click's own usage errors say, in Chinese (the option or argument named as typed)."""
    def hint() -> str:
        if isinstance(e, click.BadParameter) and e.param_hint:
            return str(e.param_hint)
        p = getattr(e, "param", None)
        return p.get_error_hint(e.ctx) if p is not None and e.ctx is not None else ""

    if isinstance(e, click.MissingParameter):
        kind = "参数" if getattr(e.param, "param_type_name", "") == "argument" else "选项"
        return f"缺少{kind} {hint()}".rstrip()
    if isinstance(e, click.BadParameter):
        msg = _value_zh(e.message)
        return f"{hint()} 的值无效：{msg}" if hint() else f"值无效：{msg}"
    if isinstance(e, click.NoSuchOption):
        more = f"（是否想用：{'、'.join(e.possibilities)}）" if e.possibilities else ""
        return f"没有选项 {e.option_name}{more}"
    if isinstance(e, click.BadOptionUsage):
        if e.message.endswith("requires an argument."):
            return f"选项 {e.option_name} 后面需要给出一个值"
        return f"选项 {e.option_name} 用法不对：{e.message}"
    if e.message.startswith("No such command"):
        return "没有这个子命令：" + e.message.split(" ", 3)[-1].rstrip(".")
    if e.message.startswith("Got unexpected extra argument"):
        return "多余的参数：" + e.message.split("(", 1)[-1].rstrip(")")
    return e.message


#: click's messages about a value (choices, numbers, ranges) -> Chinese
_VALUE_ZH = [
    (re.compile(r"^(.*) is not one of (.*)\.$", re.S), r"\1 不是可选值之一（可选：\2）"),
    (re.compile(r"^(.*) is not a valid integer\.?$", re.S), r"\1 不是整数"),
    (re.compile(r"^(.*) is not a valid float\.?$", re.S), r"\1 不是数字"),
    (re.compile(r"^(.*) is not in the range (.*)\.$", re.S), r"\1 不在范围 \2 内"),
    (re.compile(r"^(File|Path|Directory) (.*) does not exist\.$", re.S), r"\2 不存在"),
]


def _value_zh(message: str) -> str:
    for pattern, repl in _VALUE_ZH:
        if pattern.match(message):
            return pattern.sub(repl, message)
    return message


class DeskGroup(click.Group):
    """Turns any :class:`~opinion_desk.errors.DeskError` a command lets through into a clean one-line error in
    Chinese (it already names the file, field or source) instead of a traceback; every other error a command
    raises (``click.ClickException``) is shown as ``错误：…`` too, and a usage error (a missing or bad option) says
    what is wrong in Chinese under click's usage line."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        from ..errors import DeskError

        try:
            return super().invoke(ctx)
        except DeskError as e:
            raise Failure(f"{ERROR_KINDS.get(type(e).__name__, '出错')}：{e}") from None
        except Usage:
            raise
        except click.UsageError as e:
            raise Usage(usage_zh(e), e.ctx) from None
        except click.ClickException as e:
            if type(e) is click.ClickException:
                raise Failure(e.message) from None
            raise


@click.group(cls=DeskGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (default: $OPINION_DESK_CONFIG, else ./opinion-desk.toml if present).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """舆情值班台 Opinion Desk: public-opinion monitoring and crisis response for press offices."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


for _name in COMMAND_MODULES:
    for _cmd in import_module(_name).COMMANDS:
        main.add_command(_cmd)
