"""``opinion-desk run`` and ``opinion-desk config check|example`` (``import`` is in :mod:`.ingest`)."""

from __future__ import annotations

import click

from .common import get_config


@click.command("run")
@click.option("--host", default=None, help="Address to listen on (default: [desk] host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [desk] port, 5000).")
@click.option("--threads", type=click.IntRange(min=8), default=None,
              help="Web server threads; each open dashboard holds one (default: [desk] web_threads, 256).")
@click.option("--demo/--no-demo", default=None, help="Replay demo posts so the live feed moves (default: [desk] demo).")
@click.option("--role", type=click.Choice(["all", "web", "worker"]), default="all", show_default=True,
              help="all: one process does everything (one office, one machine). web: pages, API and Socket.IO only. "
                   "worker: collectors, pipeline, rules, outbox, deadlines, briefings (no web server). Several web "
                   "and worker processes share [state] url (PostgreSQL), [desk] message_queue (Redis) and the store.")
@click.pass_context
def run_cmd(ctx: click.Context, host: str | None, port: int | None, threads: int | None, demo: bool | None,
            role: str) -> None:
    """Run the desk: web dashboard, collectors, rules and alerts, served by gunicorn (one worker process, a
    thread per connection, WebSockets through simple-websocket). Stop it with Ctrl-C or SIGTERM."""
    import logging

    from .. import create_app, start_background, stop_background
    from ..root import Desk
    from ..config import load_config
    from ..errors import ConfigError
    from ..livefeed import client_manager
    from ..serving import serve
    from ..timefmt import zone, zone_label

    cfg = get_config(ctx)
    overrides = {}
    if demo is not None:
        overrides["desk"] = {"demo": demo}
    if overrides:  # re-load so the override is recorded with its origin
        cfg = load_config(cfg.file, overrides=overrides)
        ctx.find_root().obj["config"] = cfg
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run drowns what matters
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)  # the spool reports an unreachable store
    h = host or cfg["desk"]["host"]
    p = port or cfg["desk"]["port"]
    n = threads or cfg["desk"]["web_threads"]

    def build():  # noqa: ANN202 - in the gunicorn worker: background work starts where it is served
        app = create_app(desk=Desk(cfg, role=role))  # type: ignore[arg-type]
        start_background(app)
        return app

    try:  # a bad [desk] message_queue is named here, not as a worker that fails to boot
        client_manager(cfg)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    if role == "worker":
        from ..worker import run_worker

        run_worker(cfg)
        return
    if role == "web" and not cfg["desk"]["message_queue"]:
        click.echo("提示：--role web 未配置 [desk] message_queue（Redis）：浏览器收不到工作进程的实时推送", err=True)
    queue = "，Socket.IO 消息队列：开" if cfg["desk"]["message_queue"] else ""
    roles = {"all": "", "web": "，角色 web"}
    click.echo(f"舆情值班台已启动{roles[role]}：http://{h}:{p}/（帖子库 {cfg['store']['backend']}，演示 {'开' if cfg['desk']['demo'] else '关'}，"
               f"gunicorn gthread {n} 线程{queue}，时间为{zone_label(zone(cfg))}）")
    serve(build, stop_background, host=h, port=p, threads=n)


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Print the effective configuration (each value with where it came from) and every error."""
    from ..config import load_config, render
    from ..errors import ConfigError

    path = ctx.find_root().obj.get("config_path")
    try:
        cfg = load_config(path, strict=False)
    except ConfigError as e:  # unreadable file: nothing more to show
        raise click.ClickException(str(e)) from None
    click.echo(render(cfg), nl=False)
    problems = getattr(cfg, "problems", [])
    if problems:
        click.echo(f"\n{len(problems)} 个问题：", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        ctx.exit(1)
    click.echo("\n# 配置无误（config OK）")


@config_group.command("example")
def config_example() -> None:
    """Print a documented config file with every key at its default."""
    from ..config import example

    click.echo(example(), nl=False)


COMMANDS = [run_cmd, config_group]  # import: cli/ingest.py
