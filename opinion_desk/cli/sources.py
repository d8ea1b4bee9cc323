"""``opinion-desk sources check|list|run``: the sources declared in ``sources/*.yaml``."""

from __future__ import annotations

import json

import click

from .common import get_config

#: source health status -> the word a person reads
STATUS_ZH = {"ok": "正常", "failing": "失败", "never": "未运行", "auth": "需重新登录", "disabled": "已停用"}


@click.group("sources")
def sources_group() -> None:
    """信息源: check the source files, list each source's health, run one source now."""


@sources_group.command("check")
@click.option("--no-secrets", is_flag=True, help="Do not resolve credentials (check files on a machine without them).")
@click.pass_context
def check_cmd(ctx: click.Context, no_secrets: bool) -> None:
    """Validate every sources/*.yaml; each problem names the file, line and field. Exit 1 on any problem."""
    from ..collectors.service import sources_dir
    from ..collectors.sources import load_sources

    cfg = get_config(ctx)
    d = sources_dir(cfg)
    if not d.is_dir():
        raise click.ClickException(f"信息源目录 {d} 不存在（[collectors] sources_dir）")
    found = load_sources(d, resolve=not no_secrets)
    for spec in found.specs:
        state = "" if spec.enabled else "  （已停用 enabled: false）"
        title = f"  {spec.title}" if spec.title else ""
        click.echo(f"正常  {spec.name:<28}{title} {spec.type:<7} 每 {spec.cadence:g} 秒  {spec.where}{state}")
    for p in found.problems:
        click.echo(f"错误  {p}", err=True)
    click.echo(f"{len(found.files)} 个文件，{len(found.specs)} 个有效信息源，{len(found.problems)} 个问题")
    if found.problems:
        ctx.exit(1)


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per source) instead of a table.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Each source with its health: last success, last error, items of the last run, failures in a row."""
    from .. import timefmt
    from ..collectors.service import load
    from ..state import StateDB
    from ..web.sources import source_rows

    cfg = get_config(ctx)
    tz = timefmt.zone(cfg)
    db = StateDB(cfg.state_url())  # the source files and the health the desk recorded; no desk, no web app
    db.create_all()
    c = cfg["collectors"]
    rows = source_rows(load(cfg), db, {}, int(c["alert_after"]), float(c["backoff_max"]))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("还没有信息源（见 sources/*.yaml 与 'sources check'）")
        return
    click.echo(f"（时间为{timefmt.zone_label(tz)}）")
    for r in rows:
        last = timefmt.fmt(r["last_success"], tz) if r.get("last_success") else "从未成功"
        err = f"  原因: {r['reason']}（{r['detail']}）" if r.get("failures_in_row") else ""
        name = r["name"] if r.get("label", r["name"]) == r["name"] else f"{r['label']}（{r['name']}）"
        click.echo(f"{name}  {r.get('type_label') or r.get('type', '')}  {STATUS_ZH.get(r['status'], r['status'])}  "
                   f"上次成功 {last}  本次 {r.get('last_items', 0)} 条  连续失败 {r.get('failures_in_row', 0)}{err}")


@sources_group.command("run")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Collect and print the posts; index nothing and keep the cursor.")
@click.pass_context
def run_cmd(ctx: click.Context, name: str, dry_run: bool) -> None:
    """Run source NAME once now (ignoring its backoff) and print what happened."""
    from .. import timefmt
    from ..collectors import build_collector
    from ..collectors.service import load
    from ..errors import CollectorError

    cfg = get_config(ctx)
    tz = timefmt.zone(cfg)
    found = load(cfg)
    spec = found.get(name)
    if spec is None:
        known = "、".join(s.name for s in found.specs) or "无"
        raise click.ClickException(f"没有名为 {name!r} 的有效信息源（已有：{known}；见 'sources check'）")
    try:
        collector = build_collector(spec)
    except CollectorError as e:
        raise click.ClickException(str(e)) from None
    if dry_run:
        try:
            res = collector.collect({})
        except CollectorError as e:
            raise click.ClickException(str(e)) from None
        for p in res.posts:
            flags = "".join(f"[{f}]" for f, on in (("时间未知", p.time_unknown), ("正文不全", p.truncated),
                                                    (f"图{len(p.images)}", p.images)) if on)
            who = f"{p.author or '-'}({p.author_type or '?'})"
            parent = f" ↩{p.reply_to}" if p.reply_to else (f" ⟲{p.repost_of}" if p.repost_of else "")
            click.echo(f"{timefmt.fmt(p.created_at, tz)}  {who}{flags}{parent}  {(p.title or p.text)[:60].replace(chr(10), ' ')}  {p.url}")
        for n in res.notes:
            click.echo(f"提示：{n}", err=True)
        click.echo(f"{len(res.posts)} 条（试运行：未入库）")
        return
    from ..root import Desk

    desk = Desk(cfg, live_feed=False)  # the posts go through the pipeline and the rules, as the running desk's do
    try:
        h = desk.scheduler.run_once(collector)
        desk.store.refresh()
    finally:
        collector.close()
        desk.stop()  # the pipeline's queue, then the alert outbox: nothing left running at exit
    for n in h.get("last_notes") or []:
        click.echo(f"提示：{n}", err=True)
    if h.get("failures_in_row"):
        raise click.ClickException(f"{name}: {h['last_error']}")
    if h.get("skipped"):
        raise click.ClickException(f"{name}: 未运行：{h['skipped']}")
    click.echo(f"{name}：采集 {h['last_items']} 条，用时 {h.get('last_duration')} 秒")


COMMANDS = [sources_group]
