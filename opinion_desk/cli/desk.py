"""``opinion-desk run``, ``opinion-desk import`` and ``opinion-desk config check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .common import get_config


@click.command("run")
@click.option("--host", default=None, help="Address to listen on (default: [desk] host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [desk] port, 5000).")
@click.option("--threads", type=click.IntRange(min=8), default=None,
              help="Web server threads; each open dashboard holds one (default: [desk] web_threads, 256).")
@click.option("--demo/--no-demo", default=None, help="Replay demo posts so the live feed moves (default: [desk] demo).")
@click.pass_context
def run_cmd(ctx: click.Context, host: str | None, port: int | None, threads: int | None, demo: bool | None) -> None:
    """Run the desk: web dashboard, collectors, rules and alerts, served by gunicorn (one worker process, a
    thread per connection, WebSockets through simple-websocket). Stop it with Ctrl-C or SIGTERM."""
    import logging

    from .. import create_app, start_background, stop_background
    from ..config import load_config
    from ..errors import ConfigError
    from ..livefeed import client_manager
    from ..serving import serve

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
        app = create_app(config=cfg)
        start_background(app)
        return app

    try:  # a bad [desk] message_queue is named here, not as a worker that fails to boot
        client_manager(cfg)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    queue = ", Socket.IO message queue: on" if cfg["desk"]["message_queue"] else ""
    click.echo(f"舆情值班台 running at http://{h}:{p}/  (store: {cfg['store']['backend']}, demo: {cfg['desk']['demo']}, "
               f"gunicorn gthread, {n} threads{queue})")
    serve(build, stop_background, host=h, port=p, threads=n)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--source", default="import", show_default=True, help="Source name for posts that carry none.")
@click.option("--format", "fmt", default="desk", show_default=True, help="Item format (see the push API formats).")
@click.option("--batch", default=500, show_default=True, help="Posts per analysis/index batch.")
@click.pass_context
def import_cmd(ctx: click.Context, file: str, source: str, fmt: str, batch: int) -> None:
    """Load posts from a JSONL file (one JSON object per line; '-' for stdin) with a progress bar.

    A bad line is reported with its line number, field and reason; the good lines are still indexed.
    """
    from tqdm import tqdm

    from .. import create_app
    from ..collectors.push import convert_items
    from ..errors import InputError

    cfg = get_config(ctx)
    app = create_app(config=cfg)
    pipeline = app.extensions["opinion_desk.pipeline"]
    name = "<stdin>" if file == "-" else file
    stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    total_bytes = None if file == "-" else Path(file).stat().st_size
    done = indexed = spooled = 0
    bad: list[InputError] = []
    pending: list = []

    def flush() -> None:
        nonlocal indexed, spooled
        if pending:
            res = pipeline.process(pending)
            indexed += res.indexed
            spooled += res.spooled
            for err in res.errors:
                click.echo(f"{name}: store error: {err}", err=True)
            pending.clear()

    with tqdm(total=total_bytes, unit="B", unit_scale=True, desc="导入", file=sys.stderr,
              disable=None) as bar, app.app_context():
        for lineno, raw in enumerate(stream, 1):
            bar.update(len(raw))
            line = raw.strip()
            if not line:
                continue
            where = f"{name}:{lineno}"
            try:
                try:
                    item = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError as e:
                    raise InputError(where, None, f"not UTF-8 ({e.reason} at byte {e.start})") from None
                except json.JSONDecodeError as e:
                    raise InputError(where, None, f"not JSON: {e.msg} at column {e.colno}") from None
                posts, errors = convert_items([item], fmt, source, where=lambda _i: where)
                if errors:
                    raise errors[0]
            except InputError as e:
                bad.append(e)
                bar.write(f"error: {e}", file=sys.stderr)
                continue
            pending.extend(posts)
            done += 1
            if len(pending) >= batch:
                flush()
        flush()
    if stream is not sys.stdin.buffer:
        stream.close()
    app.extensions["opinion_desk.store"].refresh()
    click.echo(f"{name}: {done} posts read, {indexed} indexed, {spooled} spooled, {len(bad)} bad lines")
    if bad:
        ctx.exit(1)


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
        click.echo(f"\n{len(problems)} problem(s):", err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        ctx.exit(1)
    click.echo("\n# config OK")


@config_group.command("example")
def config_example() -> None:
    """Print a documented config file with every key at its default."""
    from ..config import example

    click.echo(example(), nl=False)


COMMANDS = [run_cmd, import_cmd, config_group]
