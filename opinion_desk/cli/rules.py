"""``opinion-desk rules check|test|schema`` and ``opinion-desk silence add|list|remove``."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from .. import timefmt
from .common import get_config, open_statedb


@click.group("rules")
def rules_group() -> None:
    """Check and dry-run the YAML rules of rules/."""


@rules_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.pass_context
def check_cmd(ctx: click.Context, directory: str | None) -> None:
    """Validate every rule file of DIRECTORY (default: [rules] dir); each error names file, line and field."""
    from ..alerting.channels import build_channels
    from ..alerting.service import channel_definitions
    from ..detection.loader import load_dir

    cfg = get_config(ctx)
    d = directory or cfg["rules"]["dir"]
    if not Path(d).is_dir():
        raise click.ClickException(f"{d}：目录不存在")
    rules, errors = load_dir(d)
    defs, problems = channel_definitions(cfg["alerting"])
    channels, more = build_channels(defs, cfg["alerting"])
    for lr in rules.values():
        click.echo(f"正常  {lr.path}: {lr.spec.name}（{lr.spec.type}）")
        for note in lr.spec.notes:  # e.g. RE2's \w is ASCII-only, unlike Python's re
            click.echo(f"注意  {note}")
        for c in lr.spec.channels:
            if c not in channels:
                click.echo(f"注意  {lr.path}:{lr.spec.lines.get('channels', 1)}: field 'channels': 通知渠道 {c!r} "
                           f"未定义（[alerting] channels），告警只显示在值班台上")
    for p in problems + more:
        click.echo(f"注意  通知渠道: {p}")
    for e in errors:
        click.echo(f"错误  {e}", err=True)
    click.echo(f"{len(rules)} 条规则正常，{len(errors)} 条有错误")
    if errors:
        ctx.exit(1)


@rules_group.command("schema")
@click.option("--write", "out", type=click.Path(dir_okay=False), default=None, help="Write the schema to this file.")
def schema_cmd(out: str | None) -> None:
    """Print (or write) the JSON Schema of rule files."""
    from ..detection.schema import rule_schema, write_schema

    if out:
        click.echo(f"已写入 {write_schema(out)}")
    else:
        click.echo(json.dumps(rule_schema(), ensure_ascii=False, indent=2))


def _read_posts(path: str) -> list:
    from ..errors import InputError
    from ..models import Post

    posts, bad = [], 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                posts.append(Post.from_dict(json.loads(raw.decode("utf-8")), where=f"{path}:{n}",
                                            default_source="file"))
            except UnicodeDecodeError as e:
                click.echo(f"错误  {path}:{n}: 不是 UTF-8 文本（第 {e.start} 字节：{e.reason}）", err=True)
                bad += 1
            except json.JSONDecodeError as e:
                click.echo(f"错误  {path}:{n}: 不是 JSON（{e.msg}）", err=True)
                bad += 1
            except RecursionError:
                click.echo(f"错误  {path}:{n}: 嵌套过深，无法读取的 JSON", err=True)
                bad += 1
            except InputError as e:
                click.echo(f"错误  {e}", err=True)
                bad += 1
    return posts


@rules_group.command("test")
@click.argument("rule_file", type=click.Path(exists=True))
@click.option("--posts", "posts_file", type=click.Path(exists=True, dir_okay=False), help="JSONL file of posts to replay.")
@click.option("--since", default=None, help="Replay the store's posts of this last span instead, e.g. 7d, 24h.")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@click.option("--analyze/--no-analyze", default=True, show_default=True,
              help="Analyse posts from the file that carry no tokens (segmentation, sentiment, topic, rumour).")
@click.option("--raw", is_flag=True,
              help="List every time a condition became true, without the desk's realert, updates and silences.")
@click.pass_context
def test_cmd(ctx: click.Context, rule_file: str, posts_file: str | None, since: str | None, as_json: bool,
             analyze: bool, raw: bool) -> None:
    """Dry-run RULE_FILE (or every rule of a directory) over posts, as the live desk would: its tick
    ([rules] tick_seconds), allowed lateness, realert, updates of a growing alert and active silences. Prints
    each notice the desk would send (告警 / 更新 / 平息) with its time and posts; sends nothing."""
    from ..detection.loader import load_dir, load_rule_file
    from ..detection.replay import match_record
    from ..errors import RuleError

    if bool(posts_file) == bool(since):
        raise click.UsageError("--posts 文件 与 --since 时长 须且只能给出一个")
    if Path(rule_file).is_dir():
        loaded, errors = load_dir(rule_file)
        for e in errors:
            click.echo(f"错误  {e}", err=True)
        rules = sorted(loaded.values(), key=lambda lr: lr.path)
        if not rules:
            raise click.ClickException(f"{rule_file}：没有可用的规则")
    else:
        try:
            rules = [load_rule_file(rule_file)]
        except RuleError as e:
            raise click.ClickException(str(e)) from None
    lr = rules[0]
    run = _live_replay(ctx, rules, raw)
    if posts_file:
        posts = _read_posts(posts_file)
        if analyze and any(not p.tokens for p in posts):
            import analyzers

            from ..pipeline import annotate

            need = [p for p in posts if not p.tokens]
            for i in range(0, len(need), 500):
                annotate(need[i:i + 500], analyzers.Analyzer())
        by_id = {p.id: p for p in posts}
        matches = run(posts)
        n_posts = len(posts)
    else:
        matches, by_id, n_posts = _replay_store(ctx, rules, since, run)
    records = [match_record(m, by_id) for m, _ in matches]
    tz = timefmt.zone(get_config(ctx))
    if as_json:
        click.echo(json.dumps({"rule": lr.spec.name, "rules": [x.spec.name for x in rules], "file": rule_file,
                               "posts": n_posts, "matches": records}, ensure_ascii=False, indent=2))
        return
    marks = {"resolved": "平息", "update": "更新"}
    for r in records:
        t = timefmt.fmt(r["time"], tz)
        click.echo(f"{t}  [{marks.get(r['kind'], '告警')}] {r['rule']}{('「' + r['key'] + '」') if r['key'] else ''}  "
                   f"{r['reason']}")
        msg = (r.get("details") or {}).get("message") or {}
        if msg and r["kind"] != "resolved":  # what the rule's alert_subject / alert_text make of it
            click.echo(f"    消息：{msg.get('subject') or ''}{' | ' if msg.get('subject') and msg.get('text') else ''}"
                       f"{(msg.get('text') or '').replace(chr(10), ' ')}")
        for p in r["posts"]:
            pt = timefmt.fmt(p["created_at"], tz, "%m-%d %H:%M")
            click.echo(f"    {pt} {p['id']} {p['author'] or ''}: {p['text'][:80]}")
    click.echo(f"回放 {n_posts} 条，告警 {sum(1 for r in records if r['kind'] == 'match')} 次，"
               f"更新 {sum(1 for r in records if r['kind'] == 'update')} 次，"
               f"平息 {sum(1 for r in records if r['kind'] == 'resolved')} 次（试运行：未发送任何通知）")


def _live_replay(ctx: click.Context, rules: list, raw: bool):  # noqa: ANN202
    """A replay as the live desk runs: its tick, lateness and history settings, and (unless ``raw``) its noise
    control with the silences now in force."""
    from datetime import timedelta

    from ..detection.replay import replay
    from ..detection.service import engine_options

    cfg = get_config(ctx)
    step = timedelta(seconds=float(cfg["rules"]["tick_seconds"]))
    options = engine_options(cfg)
    silences: list = []
    if not raw:
        from sqlalchemy import select

        from ..state.alerts import Silence

        try:
            with open_statedb(ctx).session_scope() as s:
                silences = list(s.scalars(select(Silence)))
        except Exception:  # no state database yet: no silences
            silences = []

    def run(posts, ordered: bool = False):  # noqa: ANN001, ANN202
        return replay(rules, posts, step=step, ordered=ordered, noise=not raw, silences=silences, **options)

    return run


def _replay_store(ctx: click.Context, rules: list, since: str, run):  # noqa: ANN001, ANN202
    """Replay the store's posts of the last ``since`` through ``lr``, one page at a time (memory stays bounded
    whatever the span); returns the matches, the posts behind them (fetched by id) and how many were read."""
    from tqdm import tqdm

    from ..detection.replay import parse_since, posts_by_id, store_posts, store_query
    from ..errors import StoreError
    from ..store import open_store

    cfg = get_config(ctx)
    now = datetime.now(timezone.utc)
    try:
        start = parse_since(since, now)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--since") from None
    store = open_store(cfg)
    try:
        q = store_query([lr.spec for lr in rules], start, now)
        total = store.count(q)
        read = [0]
        with tqdm(total=total, desc="读取", unit="条", file=sys.stderr, disable=None) as bar:
            def progress(n: int) -> None:
                read[0] += n
                bar.update(n)

            matches = run(store_posts(store, q, progress=progress), ordered=True)
        return matches, posts_by_id(store, matches), read[0]
    except StoreError as e:
        raise click.ClickException(f"帖子库（{cfg['store']['backend']}）：{e}") from None
    finally:
        store.close()


# -- silences ------------------------------------------------------------------------------------
@click.group("silence")
def silence_group() -> None:
    """Silence a rule (or one of its keys) for a while: matches are recorded but nobody is notified."""


@silence_group.command("add")
@click.argument("rule")
@click.option("--key", default="", help="Only this query_key value (default: every value).")
@click.option("--for", "duration", default="2h", show_default=True, help="How long, e.g. 30m, 2h, 1d.")
@click.option("--reason", default="", help="Why (shown on the desk).")
@click.pass_context
def silence_add(ctx: click.Context, rule: str, key: str, duration: str, reason: str) -> None:
    """Silence RULE ('*' for every rule)."""
    from ..detection.durations import parse_duration
    from ..state.alerts import Silence

    try:
        td = parse_duration(duration)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--for") from None
    now = datetime.now(timezone.utc)
    with open_statedb(ctx).session_scope() as s:
        row = Silence(rule=rule, key=key, until=now + td, reason=reason, created_by="cli", created_at=now)
        s.add(row)
        s.flush()
        made = row.to_dict()
        tz = timefmt.zone(get_config(ctx))
        click.echo(f"静默 {row.id}：{rule}{('「' + key + '」') if key else ''} 至 "
                   f"{timefmt.fmt(now + td, tz, timefmt.MINUTES)}（{timefmt.zone_label(tz)}）")
    _audit_silence(ctx, "silence_add", made)


@silence_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@click.pass_context
def silence_list(ctx: click.Context, show_all: bool) -> None:
    """List silences (active ones unless --all)."""
    from sqlalchemy import select

    from ..display import user_name
    from ..state.alerts import Silence

    now = datetime.now(timezone.utc)
    tz = timefmt.zone(get_config(ctx))
    shown = 0
    with open_statedb(ctx).session_scope() as s:
        for row in s.scalars(select(Silence).order_by(Silence.id)):
            active = row.covers(row.rule, row.key, now)
            if active or show_all:
                if not shown:
                    click.echo(f"编号\t规则\t关键词\t静默至（{timefmt.zone_label(tz)}）\t状态\t原因\t设置人")
                shown += 1
                click.echo(f"{row.id}\t{row.rule}\t{row.key or '*'}\t{timefmt.fmt(row.until, tz, timefmt.MINUTES)}\t"
                           f"{'生效中' if active else '已过期'}\t{row.reason or '—'}\t{user_name(row.created_by, {})}")
    if not shown:
        click.echo("没有生效中的静默" if not show_all else "没有静默")


@silence_group.command("remove")
@click.argument("silence_id", type=int)
@click.pass_context
def silence_remove(ctx: click.Context, silence_id: int) -> None:
    """Remove silence SILENCE_ID."""
    from ..state.alerts import Silence

    with open_statedb(ctx).session_scope() as s:
        row = s.get(Silence, silence_id)
        if row is None:
            raise click.ClickException(f"没有编号为 {silence_id} 的静默")
        gone = row.to_dict()
        s.delete(row)
    _audit_silence(ctx, "silence_remove", gone)
    click.echo(f"已取消静默 {silence_id}")


def _audit_silence(ctx: click.Context, action: str, silence: dict) -> None:
    """Silences withhold alerts: each one added or removed is written to the audit log."""
    import getpass

    from ..incidents.audit import record

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    record(open_statedb(ctx), f"cli:{who}", action, {"via": "cli", "silence": silence})


COMMANDS = [rules_group, silence_group]
