"""``opinion-desk evidence show|verify|prune``: the duty officer's way into the evidence archive."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.collectors.evidence import EvidenceArchive, digest, source_dir_name
from opinion_desk.models import Post


def setup(tmp_path):
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[collectors]\nevidence_days = 30\n', encoding="utf-8")
    arch = EvidenceArchive(tmp_path / "var" / "evidence")
    t = datetime(2024, 6, 18, 2, 30, tzinfo=timezone.utc)
    mblog = {"mblog": {"mid": "4985", "text": "化工厂有异味，大家别去<br />", "user": {"screen_name": "青山热心网友"}}}
    arch.write([Post(source="weibo-kw", source_id="4985", text="化工厂有异味", created_at=t, collected_at=t, raw=mblog),
                Post(source="weibo-kw", source_id="4986", text="另一条", created_at=t, collected_at=t, raw={"m": 2}),
                Post(source="gov-rss", source_id="a1", text="通报", created_at=t, collected_at=t, raw={"title": "通报"})])
    later = t + timedelta(hours=1)
    arch.write([Post(source="weibo-kw", source_id="4985", text="已编辑", created_at=t, collected_at=later,
                     raw={"mblog": {"mid": "4985", "text": "已编辑"}})])
    return str(cfg), arch, mblog


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_show_prints_each_capture_with_time_and_hash(tmp_path):
    cfg, _arch, mblog = setup(tmp_path)
    pid = Post(source="weibo-kw", source_id="4985", text="x", created_at=datetime.now(timezone.utc)).id
    r = run("--config", cfg, "evidence", "show", pid)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "采集时间: 2024-06-18 10:30:00（北京时间）" in out and "采集时间: 2024-06-18 11:30:00（北京时间）" in out
    assert f"sha256: {digest(mblog)}  校验一致" in out
    assert "化工厂有异味，大家别去<br />" in out and "已编辑" in out
    folder = source_dir_name("weibo-kw")
    assert f"{folder}/2024-06-18.jsonl.gz（gzip 段起点字节 0）" in out
    assert out.count(f"{folder}/2024-06-18.jsonl.gz（gzip 段起点字节") == 2
    assert f"帖子 {pid} 共 2 次采集" in out
    # by the platform's own id, as JSON lines
    r = run("--config", cfg, "evidence", "show", "4985", "--source", "weibo-kw", "--source-id", "--json")
    recs = [json.loads(x) for x in r.output.splitlines()]
    assert r.exit_code == 0 and [x["raw"] for x in recs][0] == mblog and len(recs) == 2
    r = run("--config", cfg, "evidence", "show", "4985", "--source-id")
    assert r.exit_code == 2 and "--source-id 需要同时给出 --source" in r.output
    r = run("--config", cfg, "evidence", "show", "nope")
    assert r.exit_code == 1 and "证据存档中没有帖子 nope" in r.output


def test_show_reads_through_the_index_and_reindex_builds_it(tmp_path):
    """An archive made before the index: show asks for `reindex`; after it, show finds the captures."""
    cfg, arch, mblog = setup(tmp_path)
    pid = Post(source="weibo-kw", source_id="4985", text="x", created_at=datetime.now(timezone.utc)).id
    assert [rec["raw"] for _f, _m, rec in arch.captures(pid)][0] == mblog
    arch.index.path.unlink()  # as an archive written before the index
    r = run("--config", cfg, "evidence", "show", pid)
    assert r.exit_code == 1 and "opinion-desk evidence reindex" in r.output
    r = run("--config", cfg, "evidence", "reindex")
    assert r.exit_code == 0 and "4 次采集已编入索引" in r.output, r.output
    r = run("--config", cfg, "evidence", "show", pid, "--json")
    assert r.exit_code == 0 and len(r.output.splitlines()) == 2
    # pruned days leave the index too
    assert arch.prune(1) and arch.captures(pid) == []


def test_verify_names_file_and_line_of_a_mismatch(tmp_path):
    cfg, arch, _ = setup(tmp_path)
    r = run("--config", cfg, "evidence", "verify")
    assert r.exit_code == 0, r.output
    assert "2 个文件，校验 4 份原始数据，0 个问题" in r.output
    f = arch.path_for("weibo-kw", "2024-06-18")
    lines = gzip.decompress(f.read_bytes()).splitlines()
    rec = json.loads(lines[1])
    rec["raw"]["m"] = 3  # someone edited the evidence
    lines[1] = json.dumps(rec, ensure_ascii=False).encode()
    f.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    r = run("--config", cfg, "evidence", "verify")
    assert r.exit_code == 1
    assert f"不一致  {f}:2: 帖子 {rec['post_id']} 的原始数据与其 sha256" in r.output
    assert "1 个问题" in r.output
    # narrowed to the other source / another day
    assert run("--config", cfg, "evidence", "verify", "--source", "gov-rss").exit_code == 0
    r = run("--config", cfg, "evidence", "verify", "--day", "2024-06-19")
    assert r.exit_code == 1 and "没有日期 2024-06-19 的证据存档文件" in r.output
    r = run("--config", cfg, "evidence", "verify", "--day", "18/06/2024")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output


def test_prune_uses_the_configured_days(tmp_path):
    cfg, arch, _ = setup(tmp_path)  # the files are from 2024: older than 30 days
    r = run("--config", cfg, "evidence", "prune", "--dry-run")
    assert r.exit_code == 0 and "2 个文件早于 30 天（试运行" in r.output and len(arch.files()) == 2
    r = run("--config", cfg, "evidence", "prune", "--days", "0")
    assert "全部保留" in r.output and len(arch.files()) == 2
    r = run("--config", cfg, "evidence", "prune")
    assert r.exit_code == 0 and "已删除 2 个早于 30 天的文件" in r.output and arch.files() == []


def test_every_evidence_command_has_help():
    for cmd in ([], ["show"], ["verify"], ["prune"], ["reindex"]):
        r = run("evidence", *cmd, "--help")
        assert r.exit_code == 0 and "Usage:" in r.output
