"""``opinion-desk evidence show|verify|prune``: the archive of raw payloads (:mod:`opinion_desk.collectors.evidence`)."""

from __future__ import annotations

import json
import sys

import click

from .common import get_config


def _archive(ctx: click.Context):  # noqa: ANN202
    from ..collectors.evidence import EvidenceArchive

    cfg = get_config(ctx)
    return EvidenceArchive(cfg.data_path(cfg["collectors"]["evidence_dir"])), cfg


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from ..collectors.evidence import parse_day

    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.group("evidence")
def evidence_group() -> None:
    """证据存档: show the raw payload of a post as it was collected, verify the archive's hashes, prune old days."""


def _local(iso: str | None, tz) -> str:  # noqa: ANN001
    """An archived ISO time in the desk's zone ([desk] timezone), e.g. ``2024-06-18 10:30:00（北京时间）``."""
    from .. import timefmt

    if not iso:
        return "—"
    return f"{timefmt.fmt(iso, tz)}（{timefmt.zone_label(tz)}）"


@evidence_group.command("show", short_help="Print the archived raw payload(s) of one post.")
@click.argument("post_id")
@click.option("--source", "-s", default=None, help="The source of POST_ID; needed with --source-id.")
@click.option("--source-id", "source_id", is_flag=True,
              help="POST_ID is the platform's own id (e.g. a Weibo mid) of a post of --source.")
@click.option("--json", "as_json", is_flag=True, help="Print each archived record as one JSON line.")
@click.pass_context
def show_cmd(ctx: click.Context, post_id: str, source: str | None, source_id: bool, as_json: bool) -> None:
    """Print every archived capture of post POST_ID (the desk's post id): when it was collected (in the desk's
    time zone), the sha256 of its raw payload (checked again now) and the payload itself. The captures are found
    through the archive's index (run `opinion-desk evidence reindex` once on an archive made before it). Exit 1
    when the archive holds none."""
    from .. import timefmt
    from ..collectors.evidence import digest
    from ..models import post_id as make_post_id

    if source_id:
        if not source:
            raise click.UsageError("--source-id 需要同时给出 --source（帖子编号由两者组成）")
        post_id = make_post_id(source, post_id)
    archive, cfg = _archive(ctx)
    if not archive.root.is_dir():
        raise click.ClickException(f"证据存档不存在：{archive.root}（[collectors] evidence_dir）")
    if not archive.index.complete:
        raise click.ClickException(f"证据存档 {archive.root} 还没有索引（建于索引功能之前）：请先运行一次 "
                                   "opinion-desk evidence reindex")
    tz = timefmt.zone(cfg)
    found = 0
    for path, member, rec in archive.captures(post_id):
        if source and rec.get("source") != source:
            continue
        found += 1
        if as_json:
            click.echo(json.dumps(rec, ensure_ascii=False))
            continue
        ok = digest(rec.get("raw")) == rec.get("sha256")
        click.echo(f"== 第 {found} 次采集  {path}（gzip 段起点字节 {member}）")
        click.echo(f"   采集时间: {_local(rec.get('collected_at'), tz)}")
        click.echo(f"   发布时间: {_local(rec.get('created_at'), tz)}")
        click.echo(f"   来源: {rec.get('source')}  原始编号: {rec.get('source_id')}")
        click.echo(f"   链接: {rec.get('url') or '—'}")
        click.echo(f"   sha256: {rec.get('sha256')}  {'校验一致' if ok else '校验不一致（内容已被改动）'}")
        click.echo(json.dumps(rec.get("raw"), ensure_ascii=False, indent=2, sort_keys=True))
    if not found:
        where = f"来源 {source!r} 的" if source else ""
        raise click.ClickException(f"{where}证据存档中没有帖子 {post_id}（{archive.root}）")
    if not as_json:
        click.echo(f"帖子 {post_id} 共 {found} 次采集")


@evidence_group.command("reindex", short_help="Build the archive's index (once, for an archive made before it).")
@click.pass_context
def reindex_cmd(ctx: click.Context) -> None:
    """Read every archive file once and write the index of where each post's captures lie
    (<evidence_dir>/index.sqlite), so `evidence show` and the post page find them without a scan. The running
    desk keeps the index up to date by itself after this."""
    archive, _cfg = _archive(ctx)
    files = archive.files()
    with click.progressbar(files, label="建立证据索引", file=sys.stderr,
                           item_show_func=lambda f: f.name if f else "") as bar:
        it = iter(bar)
        n = archive.index.rebuild(files, progress=lambda _f: next(it, None))
    click.echo(f"{len(files)} 个文件，{n} 次采集已编入索引（{archive.index.path}）")


@evidence_group.command("verify", short_help="Check every archived payload against its sha256.")
@click.option("--source", "-s", default=None, help="Check only this source's archive.")
@click.option("--day", default=None, callback=_day, help="Check only this day's files (YYYY-MM-DD, UTC).")
@click.pass_context
def verify_cmd(ctx: click.Context, source: str | None, day: str | None) -> None:
    """Recompute the sha256 of every archived payload; each mismatch (or damaged line or file) is printed with
    its file and line. Exit 1 on any problem, or when nothing matched the filters."""
    from ..collectors.evidence import check_file

    archive, _cfg = _archive(ctx)
    files = archive.files(source, day)
    if not files:
        what = "、".join(x for x in (f"信息源 {source!r}" if source else "", f"日期 {day}" if day else "") if x)
        raise click.ClickException(f"{archive.root} 下没有{what + ' 的' if what else ''}证据存档文件")
    checked, problems = 0, []
    with click.progressbar(files, label="校验证据", file=sys.stderr,
                           item_show_func=lambda f: f.name if f else "") as bar:
        for f in bar:
            n, bad = check_file(f)
            checked += n
            problems.extend(bad)
    for p in problems:
        click.echo(f"不一致  {p}")
    click.echo(f"{len(files)} 个文件，校验 {checked} 份原始数据，{len(problems)} 个问题")
    if problems:
        ctx.exit(1)


@evidence_group.command("prune", short_help="Remove archive days older than the retention.")
@click.option("--days", type=int, default=None, help="Keep this many days (default: [collectors] evidence_days).")
@click.option("--dry-run", is_flag=True, help="Only list the files that would be removed.")
@click.pass_context
def prune_cmd(ctx: click.Context, days: int | None, dry_run: bool) -> None:
    """Remove archive days older than the retention (the running desk does this hourly by itself)."""
    from datetime import datetime, timedelta, timezone

    from ..collectors.evidence import DAY_FILE

    archive, cfg = _archive(ctx)
    days = int(cfg["collectors"]["evidence_days"]) if days is None else days
    if days <= 0:
        click.echo("保留天数为 0：全部保留，不清理")
        return
    if dry_run:
        cut = (datetime.now(timezone.utc).date() - timedelta(days=days)).isoformat()
        old = [f for f in archive.files() if DAY_FILE.match(f.name).group(1) < cut]  # type: ignore[union-attr]
        for f in old:
            click.echo(f"将删除 {f}")
        click.echo(f"{len(old)} 个文件早于 {days} 天（试运行：未删除）")
        return
    removed = archive.prune(days)
    for f in removed:
        click.echo(f"已删除 {f}")
    click.echo(f"已删除 {len(removed)} 个早于 {days} 天的文件")


COMMANDS = [evidence_group]
