"""``opinion-desk store upgrade``: finish the upgrade of an embedded store file made by an older version
(opinion_desk/store/sqlite_upgrade.py) in the foreground, with progress. The desk does the same in the background
after it opens such a file; both may run at once."""

from __future__ import annotations

import time

import click

from .common import get_config


@click.group("store")
def store_group() -> None:
    """The post store ([store] backend)."""


@store_group.command("upgrade")
def upgrade_cmd() -> None:
    """Bring an embedded (SQLite) store file made by an older version up to date: character index, platform and
    reach columns, rollup tables, filter indexes. Resumable (Ctrl-C keeps what is done) and safe while the desk runs.
    Elasticsearch: see `opinion-desk es backfill-grams`."""
    from ..store import sqlite_upgrade
    from ..store.sqlite import SQLiteStore

    cfg = get_config()
    if cfg["store"]["backend"] != "sqlite":
        raise click.ClickException("[store] backend 不是 sqlite：Elasticsearch 的旧帖子请用 opinion-desk es backfill-grams")
    path = cfg.data_path(cfg["store"]["sqlite_path"])
    store = SQLiteStore(path, background_upgrade=False)
    try:
        steps = store.pending_upgrade()
        if not steps:
            click.echo(f"帖子库 {path} 已是最新，无需升级")
            return
        click.echo(f"帖子库 {path} 需要升级：{'、'.join(sqlite_upgrade.NAMES[s] for s in steps)}", err=True)
        started, last = time.monotonic(), [0.0]

        def progress(step: str, done: int, of: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 1 or done >= of:
                last[0] = now
                pct = 100 * done // of if of else 100
                unit = "个" if step == "indexes" else "行"
                click.echo(f"  {sqlite_upgrade.NAMES[step]}：{done:,}/{of:,} {unit}（{pct}%），已用 {now - started:.0f} 秒",
                           err=True)

        done = store.upgrade(progress=progress)
        click.echo(f"升级完成：{'、'.join(sqlite_upgrade.NAMES[s] for s in done)}（{time.monotonic() - started:.0f} 秒）")
    finally:
        store.close()


COMMANDS = [store_group]
