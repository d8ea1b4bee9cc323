"""``opinion-desk es up|down|status|fetch``: the local Elasticsearch node (see :mod:`opinion_desk.esnode`)."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import ESNodeError
from .common import get_config


def _node(port: int | None, home: str | None) -> Any:
    from ..esnode import ESNode

    section = dict(get_config()["es_node"])
    if port is not None:
        section["port"] = port
    if home is not None:
        section["home"] = home
    return ESNode(section)


_port = click.option("--port", type=click.IntRange(1, 65535), default=None,
                     help="HTTP port on 127.0.0.1 (default: es_node.port).")
_home = click.option("--home", type=click.Path(file_okay=False), default=None,
                     help="Directory holding the server, data and logs (default: es_node.home).")


@click.group("es")
def es_group() -> None:
    """The local Elasticsearch node (server core, fetched from Maven Central, version es_node.version)."""


@es_group.command("backfill-grams")
def backfill_grams_cmd() -> None:
    """Re-index posts stored before string search (the bigram field) from their own _source, so a search finds
    them by any string too and the reach sort orders them; safe to run again, and while the desk runs."""
    from ..store import open_store
    from ..store.elastic import ElasticStore

    cfg = get_config()
    store = open_store(cfg)
    try:
        if not isinstance(store, ElasticStore):
            raise click.ClickException("[store] backend 不是 elasticsearch：内嵌 SQLite 库在打开时已自动补建字符索引")
        seen = [0]

        def tick(n: int) -> None:
            seen[0] += n
            click.echo(f"已重建 {seen[0]} 条", err=True)

        n = store.backfill_grams(progress=tick)
        click.echo(f"共 {n} 条旧帖子补建了字符二元组索引")
    finally:
        store.close()


@es_group.command("fetch")
@_home
def fetch_cmd(home: str | None) -> None:
    """Download and unpack the pinned Elasticsearch server (no start)."""
    node = _node(None, home)
    click.echo(f"正在下载 Elasticsearch {node.version}（Maven Central，首次约 100 MB）到 {node.home} …", err=True)
    try:
        path = node.fetch()
    except ESNodeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Elasticsearch {node.version} 已就绪：{path}")


@es_group.command("up")
@_port
@_home
@click.option("--timeout", type=float, default=90.0, show_default=True, help="Seconds to wait for health.")
def up_cmd(port: int | None, home: str | None, timeout: float) -> None:
    """Start the node (fetching it first if needed), or reuse one already up; prints its URL."""
    node = _node(port, home)
    click.echo(f"正在启动 Elasticsearch {node.version}：127.0.0.1:{node.port}，目录 {node.home}"
               f"（需要时先下载；最多等 {timeout:g} 秒至健康）…", err=True)
    try:
        url = node.up(timeout=timeout)
    except ESNodeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(url)


@es_group.command("down")
@_home
def down_cmd(home: str | None) -> None:
    """Stop the node started from this home (SIGTERM, then SIGKILL)."""
    node = _node(None, home)
    try:
        stopped = node.down()
    except ESNodeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"已停止 {node.home} 的节点" if stopped else f"{node.home} 没有运行中的节点")


@es_group.command("status")
@_port
@_home
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_cmd(port: int | None, home: str | None, as_json: bool) -> None:
    """Show whether the node runs and answers; exit code 1 when it is not healthy."""
    st = _node(port, home).status()
    if as_json:
        click.echo(json.dumps(st, indent=2))
    else:
        state = "运行中" if st["healthy"] else ("启动中或不健康" if st["running"] else "未运行")
        click.echo(f"{state}：{st['url']}（健康状态 {st['health'] or '-'}，进程 {st['pid'] or '-'}，"
                   f"版本 {st['version']}，目录 {st['home']}，{'已下载' if st['fetched'] else '未下载'}）")
    if not st["healthy"]:
        raise SystemExit(1)


COMMANDS = [es_group]
