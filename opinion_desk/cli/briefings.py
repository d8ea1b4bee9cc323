"""``opinion-desk briefing make|list``: 舆情简报 (daily, weekly, any time range) as Word and HTML."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from .common import get_config, open_statedb


@click.group("briefing")
def briefing_group() -> None:
    """舆情简报: make a daily, weekly or time-range briefing (.docx + HTML), list the ones made."""


def _desk(ctx: click.Context, with_mail: bool) -> Any:
    from ..alerting.channels import build_channels
    from ..alerting.outbox import Outbox
    from ..alerting.service import channel_definitions
    from ..briefings import BriefingDesk
    from ..store import open_store

    cfg = get_config(ctx)
    db = open_statedb(ctx)
    outbox = None
    if with_mail:
        defs, _problems = channel_definitions(cfg["alerting"])
        channels, _more = build_channels(defs, cfg["alerting"])
        outbox = Outbox(db, channels, cfg["alerting"]["max_attempts"], float(cfg["alerting"]["retry_base_seconds"]),
                        autostart=False)
    return BriefingDesk(cfg, open_store(cfg), db, outbox)


@briefing_group.command("make")
@click.option("--day", "day", metavar="DATE", help="Daily briefing of this day, e.g. 2026-11-24 (the desk's time zone).")
@click.option("--week", "week", metavar="[DATE]", is_flag=False, flag_value="last",
              help="Weekly briefing (Monday to Sunday) of the week holding DATE; without DATE the last whole week.")
@click.option("--from", "since", metavar="TIME", help="Start of a time range: 2026-11-20 or '2026-11-20 08:00'.")
@click.option("--to", "until", metavar="TIME", help="End of the range; a date alone includes that whole day.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also copy the result to FILE (.docx, or .html for the page).")
@click.option("--mail", is_flag=True, help="Mail it to [briefings] recipients through the [alerting] email channel.")
@click.pass_context
def make_cmd(ctx: click.Context, day: str | None, week: str | None, since: str | None, until: str | None,
             output: str | None, mail: bool) -> None:
    """Make one briefing: --day DATE | --week [DATE] | --from TIME --to TIME (default: yesterday's daily).

    The .docx and .html are kept in data_dir/briefings/ with a row in the state database (the /briefings page
    lists them); times are in [desk] timezone."""
    from ..briefings import period as P

    chosen = [name for name, v in (("--day", day), ("--week", week), ("--from/--to", since or until)) if v]
    if len(chosen) > 1:
        raise click.UsageError(f"只能选一种：{' 或 '.join(chosen)}")
    if (since is None) != (until is None):
        raise click.UsageError("--from 与 --to 需同时给出")
    desk = _desk(ctx, mail)
    today = desk.clock().astimezone(desk.tz).date()
    if since is not None:
        period = P.span(since, until, desk.tz)
    elif week is not None:
        period = P.week(today - timedelta(days=7) if week == "last" else P.parse_local(week, desk.tz, "week")[0].date(),
                        desk.tz)
    else:
        period = P.day(P.parse_local(day, desk.tz, "day")[0].date() if day else today - timedelta(days=1), desk.tz)
    click.echo(f"正在生成 {period.title()}（{period.span_text()}）…", err=True)
    row = desk.make(period, "cli")
    click.echo(f"简报 #{row['id']} 已生成：{desk.dir / row['docx_file']}")
    click.echo(f"  网页版：{desk.dir / row['html_file']}")
    f = row["figures"]
    click.echo(f"  信息 {f['posts']:,} 条（负面 {f['posts_neg']:,}），预警 {f['alerts']} 条，事件 {f['incidents']} 起，"
               f"时限按时 {f['deadlines_met']} 项、超时 {f['deadlines_missed']} 项，发布回应 {f['publications']} 条")
    if output:
        src = desk.dir / (row["html_file"] if output.lower().endswith((".html", ".htm")) else row["docx_file"])
        shutil.copyfile(src, Path(output))
        click.echo(f"  已复制到：{output}")
    if mail:
        row = desk.send(row["id"])
        if row["mail_status"] == "queued":
            desk.outbox.deliver_due(wait=True)
            out = desk.outbox.rows(f"B{row['id']}")
            if out and all(r["status"] == "sent" for r in out):
                click.echo(f"  邮件已发送：{', '.join(row['recipients'])}")
            elif any(r["status"] == "failed" for r in out):
                errors = "；".join(r["last_error"] or "" for r in out if r["status"] == "failed")
                raise click.ClickException(f"邮件发送失败：{errors}")
            else:
                click.echo(f"  邮件未能立即发出，已排队，值班台运行时会重试：{', '.join(row['recipients'])}")
        if row["mail_note"]:
            click.echo(f"  邮件问题：{row['mail_note']}", err=True)


@briefing_group.command("list")
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="How many, newest first.")
@click.pass_context
def list_cmd(ctx: click.Context, limit: int) -> None:
    """The briefings made, newest first: number, title, when, figures, mail and file."""
    from datetime import datetime

    desk = _desk(ctx, False)
    rows = desk.list(limit)
    if not rows:
        click.echo("还没有简报")
    for r in rows:
        at = datetime.fromisoformat(r["generated_at"]).astimezone(desk.tz).strftime("%Y-%m-%d %H:%M")
        mail = {"queued": f"已发送 {len(r['recipients'])} 人", "error": "邮件未发送"}.get(r["mail_status"], "未发邮件")
        mail = {"failed": "邮件发送失败", "pending": "邮件发送中"}.get(r.get("delivery", ""), mail)
        click.echo(f"#{r['id']:<4} {r['title']}  生成于 {at}  信息 {r['figures'].get('posts', 0):,} 条  {mail}  "
                   f"{desk.dir / r['docx_file']}")


COMMANDS = [briefing_group]
