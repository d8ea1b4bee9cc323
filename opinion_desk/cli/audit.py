"""``opinion-desk audit verify|digest|log``: the hash-chained audit log and the signed digests that anchor it
outside the database (:mod:`opinion_desk.incidents.audit_digest`)."""

from __future__ import annotations

import json

import click

from .common import get_config, open_statedb


@click.group("audit")
def audit_group() -> None:
    """The append-only, hash-chained audit log (incident steps, logins, users, tokens, silences, rule and source
    files, the configuration at start) and its daily signed digests."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check every entry's hash and link, then check the chain against every digest in data_dir/audit-digests.jsonl
    (signature, and the hash each digest recorded). Exit 1 naming the first broken entry or the digest that no
    longer matches: a chain rewritten with recomputed hashes is reported as tampered."""
    from ..incidents.audit_digest import verify

    cfg = get_config(ctx)
    with open_statedb(ctx).session_scope() as s:
        v = verify(cfg, s)
    for w in v.warnings:
        click.echo(f"注意：{w}", err=True)
    if v.ok:
        click.echo(f"审计链完整：{v.entries} 条记录，与 {v.digests} 份摘要一致")
        return
    for p in v.problems:
        click.echo(p, err=True)
    click.echo(f"审计链校验失败：{len(v.problems)} 个问题（tampered）", err=True)
    ctx.exit(1)


@audit_group.command("digest")
@click.option("--no-mail", is_flag=True, help="Only append to the digest file; do not queue the leaders' mail.")
@click.pass_context
def audit_digest_cmd(ctx: click.Context, no_mail: bool) -> None:
    """Write a signed digest of the chain head now (the running desk writes one a day by itself) and queue it for
    [audit] digest_recipients (the running desk's outbox sends it)."""
    from ..incidents.audit_digest import digest_path, write_digest

    cfg = get_config(ctx)
    rec = write_digest(cfg, open_statedb(ctx), mail=not no_mail)
    click.echo(f"已写入摘要：第 {rec['seq']} 条 {rec['hash']} -> {digest_path(cfg)}")
    if cfg["audit"]["digest_recipients"] and not no_mail:
        click.echo(f"已排队发送给：{'、'.join(cfg['audit']['digest_recipients'])}", err=True)


@audit_group.command("log")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 100000),
              help="How many of the latest entries.")
@click.option("--action", default=None, help="Only this action (e.g. login_failed, silence_add, rules_changed).")
@click.pass_context
def audit_log(ctx: click.Context, limit: int, action: str | None) -> None:
    """Print the latest entries as JSON lines (oldest first); ``at`` as stored (UTC, part of the hash chain), and
    ``at_local`` in the desk's zone ([desk] timezone)."""
    from sqlalchemy import select

    from .. import timefmt
    from ..state.incidents import AuditEntry

    tz = timefmt.zone(get_config(ctx))

    with open_statedb(ctx).session_scope() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
        if action:
            q = q.where(AuditEntry.action == action)
        rows = list(s.scalars(q))
        for e in reversed(rows):
            d = e.to_dict()
            click.echo(json.dumps({**d, "at_local": timefmt.fmt(d["at"], tz)}, ensure_ascii=False))


COMMANDS = [audit_group]
