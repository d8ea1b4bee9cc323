"""``opinion-desk sources check|list|run``: the sources declared in ``sources/*.yaml``."""

from __future__ import annotations

import json

import click

from .common import get_config


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
        raise click.ClickException(f"sources directory {d} does not exist ([collectors] sources_dir)")
    found = load_sources(d, resolve=not no_secrets)
    for spec in found.specs:
        state = "" if spec.enabled else "  (enabled: false)"
        click.echo(f"ok  {spec.name:<28} {spec.type:<7} every {spec.cadence:g}s  {spec.where}{state}")
    for p in found.problems:
        click.echo(f"ERR {p}", err=True)
    click.echo(f"{len(found.files)} file(s), {len(found.specs)} valid source(s), {len(found.problems)} problem(s)")
    if found.problems:
        ctx.exit(1)


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per source) instead of a table.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Each source with its health: last success, last error, items of the last run, failures in a row."""
    from .. import create_app
    from ..web.sources import source_rows

    app = create_app(config=get_config(ctx))
    with app.app_context():
        rows = source_rows(app)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        last = r.get("last_success") or "从未成功"
        err = f"  原因: {r['reason']}（{r['detail']}）" if r.get("failures_in_row") else ""
        click.echo(f"{r['name']:<28} {r.get('type', ''):<7} {r['status']:<8} 上次成功 {last}  "
                   f"本次 {r.get('last_items', 0)} 条  连续失败 {r.get('failures_in_row', 0)}{err}")


@sources_group.command("run")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Collect and print the posts; index nothing and keep the cursor.")
@click.pass_context
def run_cmd(ctx: click.Context, name: str, dry_run: bool) -> None:
    """Run source NAME once now (ignoring its backoff) and print what happened."""
    from .. import create_app
    from ..collectors import build_collector
    from ..collectors.service import SOURCES_KEY
    from ..errors import CollectorError

    app = create_app(config=get_config(ctx))
    spec = app.extensions[SOURCES_KEY].get(name)
    if spec is None:
        known = ", ".join(s.name for s in app.extensions[SOURCES_KEY].specs) or "none"
        raise click.ClickException(f"no valid source named {name!r} (known: {known}; see 'sources check')")
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
            click.echo(f"{p.created_at.isoformat()}  {who}{flags}{parent}  {(p.title or p.text)[:60].replace(chr(10), ' ')}  {p.url}")
        for n in res.notes:
            click.echo(f"note: {n}", err=True)
        click.echo(f"{len(res.posts)} post(s) (dry run: nothing indexed)")
        return
    from .. import stop_background

    sched = app.extensions["opinion_desk.scheduler"]
    sched.collectors[name] = collector
    import threading

    sched._run_locks.setdefault(name, threading.Lock())
    try:
        with app.app_context():
            h = sched.run_source(name, force=True)
        app.extensions["opinion_desk.store"].refresh()
    finally:
        collector.close()
        stop_background(app)  # the pipeline's queue, then the alert outbox: nothing left running at exit
    for n in h.get("last_notes") or []:
        click.echo(f"note: {n}", err=True)
    if h.get("failures_in_row"):
        raise click.ClickException(f"{name}: {h['last_error']}")
    if h.get("skipped"):
        raise click.ClickException(f"{name}: 未运行：{h['skipped']}")
    click.echo(f"{name}: {h['last_items']} post(s) collected in {h.get('last_duration')}s")


COMMANDS = [sources_group]
