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


class DeskGroup(click.Group):
    """Turns any :class:`~opinion_desk.errors.DeskError` a command lets through into a clean one-line error
    (it already names the file, field or source) instead of a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        from ..errors import DeskError

        try:
            return super().invoke(ctx)
        except DeskError as e:
            raise click.ClickException(f"{type(e).__name__}: {e}") from None


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
