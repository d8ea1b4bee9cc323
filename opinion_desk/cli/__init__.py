"""The ``opinion-desk`` command group. Each subcommand is a thin call into a module below.

Subcommands live one file per area in this package; each file exposes ``COMMANDS`` (a list of click commands
or groups) and is named once in :data:`COMMAND_MODULES`, the registry of subcommands.
"""

from __future__ import annotations

from importlib import import_module

import click

COMMAND_MODULES = [
    "opinion_desk.cli.desk",  # run, config check
    "opinion_desk.cli.ingest",  # import (resumable), rejected list|retry
    "opinion_desk.cli.es",  # es up|down|status
    "opinion_desk.cli.analysis",  # analyze, train, eval
    "opinion_desk.cli.sources",  # sources check|list
    "opinion_desk.cli.evidence",  # evidence show|verify|prune
    "opinion_desk.cli.rules",  # rules check|test, silence
    "opinion_desk.cli.incidents",  # users, incidents export|routes
    "opinion_desk.cli.briefings",  # briefing make|list (舆情简报)
    "opinion_desk.cli.audit",  # audit verify|digest|log
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


class DeskGroup(click.Group):
    """Turns any :class:`~opinion_desk.errors.DeskError` a command lets through into a clean one-line error in
    Chinese (it already names the file, field or source) instead of a traceback; every other error a command
    raises (``click.ClickException``) is shown as ``错误：…`` too. Usage errors keep click's own format."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        from ..errors import DeskError

        try:
            return super().invoke(ctx)
        except DeskError as e:
            raise Failure(f"{ERROR_KINDS.get(type(e).__name__, '出错')}：{e}") from None
        except click.UsageError:
            raise
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
