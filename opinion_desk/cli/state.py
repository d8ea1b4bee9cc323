"""``opinion-desk state upgrade|current``: the state database's schema revision (Alembic, run from code;
:mod:`opinion_desk.state.migrate`)."""

from __future__ import annotations

import click

from .common import get_config


@click.group("state")
def state_group() -> None:
    """The state database ([state] url; default the SQLite file state.db in data_dir): its schema revision.
    The desk migrates it by itself at start; these commands do it, or show it, by hand."""


def _open(ctx: click.Context):  # noqa: ANN202 - (StateDB, the URL as shown, without password)
    from ..state import StateDB

    cfg = get_config(ctx)
    if not cfg["state"]["url"]:
        cfg.data_path().mkdir(parents=True, exist_ok=True)
    db = StateDB(cfg.state_url())
    return db, db.engine.url.render_as_string(hide_password=True)


@state_group.command("upgrade")
@click.pass_context
def state_upgrade(ctx: click.Context) -> None:
    """Migrate the state database to the newest revision: an empty one is built from nothing, one made before
    migrations is checked against the first revision and recorded as it, then upgraded. Safe to run while
    other desk processes start (they wait for one another)."""
    from ..state.migrate import BASELINE, upgrade

    db, shown = _open(ctx)
    try:
        done = upgrade(db.engine)
    finally:
        db.dispose()
    if done.adopted:
        made = f"，补建了表 {'、'.join(done.created)}" if done.created else ""
        click.echo(f"状态库建于迁移机制之前：已核对表结构{made}，记为版本 {BASELINE}")
    start = BASELINE if done.adopted else (done.before or "（空库）")
    if start == done.after:
        click.echo(f"状态库 {shown} 已是最新版本 {done.after}，无需升级")
    else:
        click.echo(f"状态库 {shown} 已升级：{start} -> {done.after}")


@state_group.command("current")
@click.pass_context
def state_current(ctx: click.Context) -> None:
    """Show the state database's revision and the newest one this desk knows; changes nothing."""
    from sqlalchemy import inspect

    from ..state.migrate import current, head

    db, shown = _open(ctx)
    try:
        rev = current(db.engine)
        tables = inspect(db.engine).get_table_names() if rev is None else []
    finally:
        db.dispose()
    newest = head()
    click.echo(f"状态库：{shown}")
    if rev is None:
        what = "建于迁移机制之前（有表，无版本记录）" if tables else "空库（尚未建表）"
        click.echo(f"当前版本：无 —— {what}")
    else:
        click.echo(f"当前版本：{rev}")
    click.echo(f"最新版本：{newest}")
    if rev == newest:
        click.echo("已是最新")
    else:
        click.echo("需要升级：运行 opinion-desk state upgrade（值班台启动时也会自动升级）")


COMMANDS = [state_group]
