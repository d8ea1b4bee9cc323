"""``opinion-desk users add|list|passwd|token`` (each change written to the audit log), ``opinion-desk incidents
export|routes``."""

from __future__ import annotations

import sys

import click

from .common import get_config, open_statedb


def _bad(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


def _audit(ctx: click.Context, action: str, payload: dict) -> None:
    """Write a users/tokens change to the audit log, as the operating-system user who ran the command."""
    import getpass

    from ..incidents.audit import record

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    record(open_statedb(ctx), f"cli:{who}", action, {"via": "cli", **payload})


# -- users ---------------------------------------------------------------------------------------------------
@click.group("users")
def users_group() -> None:
    """Desk users (值班员 duty, 审核领导 approver, 分析员 analyst, 管理员 admin) and machine API tokens."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="Role: duty, approver, analyst or admin (repeat for several). The first user: --role admin.")
@click.option("--name", "display_name", default="", help="Display name (e.g. 王值班).")
@click.option("--email", default="", help="Email for escalations.")
@click.option("--password", default=None, help="Password (default: prompt, hidden). At least 8 characters.")
@click.pass_context
def users_add(ctx: click.Context, username: str, roles: tuple[str, ...], display_name: str, email: str,
              password: str | None) -> None:
    """Add a user."""
    from ..errors import InputError
    from ..state.users import create_user

    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        with open_statedb(ctx).session_scope() as s:
            u = create_user(s, username, password, list(roles), display_name, email)
            click.echo(f"已创建用户 {u.username}（{'、'.join(u.to_dict()['role_names'])}）")
            made = {"username": u.username, "roles": list(u.roles), "display_name": u.name, "email": email}
    except InputError as e:
        raise _bad(e) from None
    _audit(ctx, "user_add", made)


@users_group.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users and their tokens."""
    from sqlalchemy import select

    from ..state.users import ApiToken, User

    from .. import timefmt

    tz = timefmt.zone(get_config(ctx))
    with open_statedb(ctx).session_scope() as s:
        for u in s.scalars(select(User).order_by(User.id)):
            d = u.to_dict()
            state = "" if u.active else "  [停用]"
            click.echo(f"{u.username}\t{u.name}\t{'、'.join(d['role_names'])}\t{u.email}{state}")
        for t in s.scalars(select(ApiToken).order_by(ApiToken.id)):
            owner = (t.user.name or t.user.username) if t.user else "-"
            used = f"最近使用 {timefmt.fmt(t.last_used, tz, timefmt.MINUTES)}" if t.last_used else "从未使用"
            state = "  [已吊销]" if t.revoked else ""
            click.echo(f"令牌 {t.id}\t{t.name}\t{t.prefix}…\t{','.join(t.scopes)}\t{owner}\t{used}{state}")


@users_group.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="New password (default: prompt, hidden).")
@click.pass_context
def users_passwd(ctx: click.Context, username: str, password: str | None) -> None:
    """Set a user's password (their open sessions end)."""
    from ..errors import InputError
    from ..state.users import get_user, set_password

    if password is None:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt=True)
    try:
        with open_statedb(ctx).session_scope() as s:
            u = get_user(s, username)
            if u is None:
                raise click.ClickException(f"用户 {username!r} 不存在")
            set_password(u, password)
    except InputError as e:
        raise _bad(e) from None
    _audit(ctx, "user_passwd", {"username": username, "sessions_ended": True})
    click.echo(f"已更新 {username} 的密码")


@users_group.command("token")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, default=("ingest",), show_default=True,
              help="ingest (push posts), read (GET API), write (change through the API as --user). Repeatable.")
@click.option("--user", "username", default=None, help="The user a read/write token acts as.")
@click.option("--revoke", is_flag=True, help="Revoke the token(s) named NAME instead.")
@click.pass_context
def users_token(ctx: click.Context, name: str, scopes: tuple[str, ...], username: str | None, revoke: bool) -> None:
    """Make a machine API token (printed once) or revoke one. Send it as 'Authorization: Bearer TOKEN'."""
    from sqlalchemy import select

    from ..errors import InputError
    from ..state.users import ApiToken, create_token, get_user

    if revoke:
        with open_statedb(ctx).session_scope() as s:
            rows = list(s.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked.is_(False))))
            for r in rows:
                r.revoked = True
            revoked = [{"id": r.id, "name": r.name, "prefix": r.prefix} for r in rows]
        if revoked:
            _audit(ctx, "token_revoke", {"tokens": revoked})
        click.echo(f"已吊销 {len(revoked)} 个令牌")
        return
    with open_statedb(ctx).session_scope() as s:
        user = None
        if username:
            user = get_user(s, username)
            if user is None:
                raise click.ClickException(f"用户 {username!r} 不存在（--user）")
        if set(scopes) - {"ingest"} and user is None:
            raise click.ClickException("read/write 令牌以某个用户的身份操作：请用 --user 指定用户")
        try:
            row, token = create_token(s, name, list(scopes), user)
        except InputError as e:
            raise _bad(e) from None
        made = {"id": row.id, "name": name, "prefix": row.prefix, "scopes": list(scopes),
                "user": user.username if user else None}
    _audit(ctx, "token_add", made)
    click.echo(token)
    click.echo("（令牌只显示这一次，请妥善保存）", err=True)


# -- incidents -----------------------------------------------------------------------------------------------
@click.group("incidents")
def incidents_group() -> None:
    """Incidents: timeliness export, the jurisdiction table (属地管理)."""


@incidents_group.command("accounts")
@click.option("--rip", default="", metavar="IP", help="The operator's IP to report to Weibo (default: [incidents.weibo] rip).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def incidents_accounts(ctx: click.Context, rip: str, as_json: bool) -> None:
    """Check the Weibo and WeChat accounts before publishing, as the workspace's 发布前检查 does: token valid,
    mass-send quota left, the answer's link under the bound safe domain, rip. Exits 1 when one cannot publish."""
    import json

    from ..incidents import publish
    from ..incidents.publishing import account_checks, mass_sends

    cfg = get_config(ctx)
    base = str(cfg["incidents"]["public_base_url"] or "").rstrip("/")
    link = str(cfg["incidents.weibo"]["link_url"] or "") or (f"{base}/statements/" if base else "")
    res = account_checks(cfg, mass_sends(open_statedb(ctx)),
                         publish.PublishContext(link=link, rip=str(cfg["incidents.weibo"]["rip"] or rip)))
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
    else:
        click.echo(f"发布方式：{'演示（不会真正发出）' if res['demo'] else '平台接口'}；全文链接：{res['link'] or '（未设置）'}")
        for a in res["accounts"]:
            click.echo(f"{'✔' if a['ok'] else '✘'} {a['channel_zh']}：{a['summary']}")
            for p in a["problems"]:
                click.echo(f"    - {p}")
            if a["detail"]:
                click.echo(f"    配置：{a['detail']}")
    if not res["ok"]:
        sys.exit(1)


@incidents_group.command("routes")
@click.option("--example", is_flag=True, help="Print the shipped example table (青山县) to start your own from.")
@click.option("--check", "text", default=None, metavar="TEXT",
              help="Show which department a post with this text would be routed to, and why.")
@click.pass_context
def incidents_routes(ctx: click.Context, example: bool, text: str | None) -> None:
    """The jurisdiction table in use ([incidents] routing_file; the demo falls back to the shipped example):
    list its departments, or --check which one a text routes to."""
    from ..errors import ConfigError
    from ..incidents import routing

    if example:
        sys.stdout.write(routing.EXAMPLE.read_text(encoding="utf-8"))
        return
    cfg = get_config(ctx)
    path = routing.table_path(cfg)
    if path is None:
        raise click.ClickException(f"没有属地管理表：{cfg['incidents']['routing_file']!r} 不存在"
                                   f"（可从 `opinion-desk incidents routes --example` 开始编写）")
    try:
        table = routing.load(path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"属地管理表：{path}（{len(table)} 个责任单位）", err=True)
    if text is None:
        for j in table:
            who = "、".join(c.get("name", "") for c in j.contacts) or "-"
            extra = "（兜底）" if j.fallback else ""
            click.echo(f"{j.department}{extra}\t{'、'.join(j.match)}{'  区域 ' + j.region if j.region else ''}\t{who}")
        return
    r = routing.route(table, [{"text": text}])
    if r is None:
        click.echo("未匹配任何责任单位")
        ctx.exit(1)
    click.echo(f"{r.department}\t命中：{'、'.join(r.matched)}")


@incidents_group.command("export")
@click.option("--month", required=True, help="Month to export, YYYY-MM (in [desk] timezone), e.g. 2026-11.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Output file ('-' = stdout).")
@click.pass_context
def incidents_export(ctx: click.Context, month: str, fmt: str, output: str) -> None:
    """Timeliness of each incident opened in a month (acknowledge, first information, publication, deadlines)."""
    from ..incidents.timeliness import export, parse_month
    from .. import timefmt

    cfg = get_config(ctx)
    try:
        parse_month(month, timefmt.zone(cfg))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--month") from None
    with open_statedb(ctx).session_scope() as s:
        text = export(s, cfg, month, fmt)
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        click.echo(f"已导出到 {output}", err=True)


COMMANDS = [users_group, incidents_group]
