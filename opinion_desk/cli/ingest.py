"""``opinion-desk import`` (JSONL files, resumable) and ``opinion-desk rejected list|retry`` (the dead letters).

Import reads one JSON object per line. A bad line (not UTF-8, not JSON, nested too deep, a bad field: a year-1
date, ``1e400``, ``NaN``, a lone surrogate) is reported with its line number and field and the import goes on;
posts the store refuses are counted as failures (kept in the dead letters with the store's reason) and the exit
code is 1 when anything failed. Progress is saved after every batch that reached the store (or the spool) in
``data_dir/imports/``, keyed by the file's path, size and modification time: a killed import run again continues
after the last saved batch (``--restart`` starts from line 1), so no batch is indexed or archived twice.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from .common import get_config

COUNTS = ("read", "indexed", "spooled", "refused", "bad")


class Progress:
    """Where an import of one file got to: ``data_dir/imports/<sha1 of the path>.json`` (atomic, fsynced)."""

    def __init__(self, directory: Path, file: Path) -> None:
        self.file = file.resolve()
        st = self.file.stat()
        self.key = {"file": str(self.file), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        self.path = directory / (hashlib.sha1(str(self.file).encode("utf-8", "surrogateescape")).hexdigest() + ".json")
        self.state: dict[str, Any] = {"offset": 0, "line": 0, "done": False, **{k: 0 for k in COUNTS}}

    def load(self) -> bool:
        """Take up the saved progress when it is for this very file (same size and mtime); True if so."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(saved, dict) or any(saved.get(k) != v for k, v in self.key.items()):
            return False
        self.state.update({k: saved[k] for k in self.state if k in saved})
        return True

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({**self.key, **self.state}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _parse_line(raw: bytes, where: str) -> Any:
    from ..errors import InputError

    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(where, None, f"不是 UTF-8 文本（not UTF-8: {e.reason} at byte {e.start}）") from None
    except json.JSONDecodeError as e:
        raise InputError(where, None, f"不是 JSON（not JSON: {e.msg} at column {e.colno}）") from None
    except RecursionError:
        raise InputError(where, None, "嵌套过深，无法读取（not JSON that can be read: nested too deep）") from None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--source", default="import", show_default=True, help="Source name for posts that carry none.")
@click.option("--format", "fmt", default="desk", show_default=True, help="Item format (see the push API formats).")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(min=1),
              help="Posts per analysis/index batch (progress is saved after each).")
@click.option("--restart", is_flag=True,
              help="Ignore the saved progress of an earlier run of this file and start again from line 1.")
@click.pass_context
def import_cmd(ctx: click.Context, file: str, source: str, fmt: str, batch: int, restart: bool) -> None:
    """Load posts from a JSONL file (one JSON object per line; '-' for stdin) with a progress bar.

    A bad line is reported with its line number, field and reason and the import goes on; posts the store
    refuses are kept in the dead letters (see `opinion-desk rejected`). Exit code 1 when any line or post
    failed. A killed import of the same (unchanged) file continues where it stopped; --restart starts over.
    """
    from tqdm import tqdm

    from ..collectors.push import convert_items
    from ..errors import InputError
    from ..extensions import socketio
    from ..livefeed import bind_publisher
    from ..root import Desk

    cfg = get_config(ctx)
    # the running desk's browsers hear this import only through a message queue; without one, numbering and keeping
    # each batch for replay would only hold up to [desk] replay_max_mb of it in memory for nobody
    desk = Desk(cfg, live_feed=bind_publisher(socketio, cfg))
    pipeline = desk.pipeline
    name = "<stdin>" if file == "-" else file
    stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    prog = None if file == "-" else Progress(cfg.data_path("imports"), Path(file))
    if prog is not None and not restart and prog.load():
        if prog.state["done"]:
            s = prog.state
            click.echo(f"{name}：已导入过（读取 {s['read']} 条，入库 {s['indexed']} 条，拒收 {s['refused']} 条，"
                       f"坏行 {s['bad']} 行）；如需重新导入，请加 --restart")
            stream.close()
            ctx.exit(1 if s["refused"] or s["bad"] else 0)
        click.echo(f"{name}：从第 {prog.state['line']} 行之后继续上次中断的导入（--restart 从第 1 行重新开始）",
                   err=True)
        stream.seek(prog.state["offset"])
    st = prog.state if prog is not None else {"offset": 0, "line": 0, "done": False, **{k: 0 for k in COUNTS}}
    total_bytes = None if prog is None else prog.key["size"]
    pending: list = []
    lines_of: dict[str, int] = {}
    offset, lineno = st["offset"], st["line"]

    def flush() -> None:
        if pending:
            res = pipeline.process(pending)
            st["indexed"] += res.indexed
            st["spooled"] += res.spooled
            st["refused"] += res.rejected
            for pid, reason in res.refused.items():
                click.echo(f"{name}:{lines_of.get(pid, '?')}: 帖子库拒收（已保存到 rejected/）：{reason}",
                           err=True)
            pending.clear()
            lines_of.clear()
        st["offset"], st["line"] = offset, lineno
        if prog is not None:
            prog.save()

    with tqdm(total=total_bytes, initial=offset, unit="B", unit_scale=True, desc="导入", file=sys.stderr,
              disable=None) as bar:
        for raw in stream:
            lineno += 1
            offset += len(raw)
            bar.update(len(raw))
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            line = raw.strip()
            if not line:
                continue
            where = f"{name}:{lineno}"
            try:
                posts, errors = convert_items([_parse_line(line, where)], fmt, source, where=lambda _i: where,
                                              checks=pipeline.checks)
                if errors:
                    raise errors[0]
            except InputError as e:
                st["bad"] += 1
                bar.write(f"error: {e}", file=sys.stderr)
                continue
            pending.extend(posts)
            lines_of.update((p.id, lineno) for p in posts)
            st["read"] += 1
            if len(pending) >= batch:
                flush()
        flush()
    if stream is not sys.stdin.buffer:
        stream.close()
    st["done"] = True
    if prog is not None:
        prog.save()
    desk.store.refresh()
    desk.engine.save_state()  # the windows and baselines the import built are kept for the desk
    click.echo(f"{name}：读取 {st['read']} 条，入库 {st['indexed']} 条，暂存 {st['spooled']} 条，"
               f"帖子库拒收 {st['refused']} 条，坏行 {st['bad']} 行")
    if st["bad"] or st["refused"]:
        ctx.exit(1)


@click.group("rejected")
def rejected_group() -> None:
    """Posts refused for good (failed checks, refused by the store), kept with the reason in
    <data_dir>/<spool_dir>/rejected/*.jsonl."""


def _dead_letters(ctx: click.Context):  # noqa: ANN202
    from ..store.spool import Spool

    cfg = get_config(ctx)
    return Spool(cfg.data_path(cfg["store"]["spool_dir"])).dead


@rejected_group.command("list")
@click.option("--limit", default=20, show_default=True, help="Most posts to show (0 = only the counts).")
@click.pass_context
def rejected_list(ctx: click.Context, limit: int) -> None:
    """Count the kept posts by reason and show the latest few."""
    from collections import Counter

    from .. import timefmt

    dead = _dead_letters(ctx)
    recs = [r for f in dead.files() for r in dead.read(f)]
    tz = timefmt.zone(get_config(ctx))
    click.echo(f"{dead.dir} 中有 {len(recs)} 条被拒帖子")
    for reason, n in Counter(str(r.get("reason"))[:120] for r in recs).most_common(20):
        click.echo(f"  {n:6d}  {reason}")
    for r in recs[-limit:] if limit > 0 else []:
        post = r.get("post") or {}
        click.echo(f"{timefmt.fmt(r.get('at'), tz)}  {post.get('source', '?')}/{post.get('source_id', '?')}  ({r.get('where')}): "
                   f"{r.get('reason')}")


@rejected_group.command("retry")
@click.pass_context
def rejected_retry(ctx: click.Context) -> None:
    """Send every kept post through the pipeline again (after a fix: the store's mapping, the [ingest] date
    window). Those refused again are kept again with their new reason. Exit code 1 if any were."""
    from tqdm import tqdm

    from ..root import Desk

    pipeline = Desk(get_config(ctx), live_feed=False).pipeline  # retried posts reach the rules, as new ones do
    before = pipeline.dead.count()
    with tqdm(total=before, unit=" posts", desc="重试", file=sys.stderr, disable=None) as bar:
        res = pipeline.retry_rejected(progress=bar.update)
    pipeline.store.refresh()
    for e in res.errors[:50]:
        click.echo(f"仍被拒收：{e}", err=True)
    click.echo(f"重试 {before} 条被拒帖子：入库 {res.indexed} 条，暂存 {res.spooled} 条，再次被拒 {res.rejected} 条")
    if res.rejected:
        ctx.exit(1)


COMMANDS = [import_cmd, rejected_group]
