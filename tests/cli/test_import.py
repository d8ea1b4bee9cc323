"""`opinion-desk import FILE.jsonl`: per-line errors naming line and field, the good lines indexed, odd lines
(BOM, year 1, 1e400, NaN, surrogates, deep nesting) reported without stopping, and a killed import resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.collectors.evidence import EvidenceArchive
from opinion_desk.config import load_config
from opinion_desk.store import open_store
from opinion_desk.store.base import PostQuery

REPO = Path(__file__).resolve().parents[2]


def _conf(tmp_path: Path) -> Path:
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[rules]\ndir = "{tmp_path / "rules"}"\n'
                    f'[collectors]\nsources_dir = "{tmp_path / "sources"}"\n', encoding="utf-8")
    return conf


def _count(conf: Path, **q: object) -> int:
    store = open_store(load_config(conf, env={}))
    try:
        return store.count(PostQuery(**q))  # type: ignore[arg-type]
    finally:
        store.close()


def test_import_reports_bad_lines_and_keeps_good_ones(tmp_path):
    f = tmp_path / "posts.jsonl"
    good = [{"id": f"g{i}", "text": f"城南小学食堂问题，第{i}条", "created_at": "2026-11-24T08:00:00+08:00"} for i in range(4)]
    lines = [json.dumps(good[0], ensure_ascii=False), "{not json", json.dumps(good[1], ensure_ascii=False), "",
             json.dumps({"id": "x", "text": "", "created_at": "2026-11-24"}, ensure_ascii=False),
             json.dumps(good[2], ensure_ascii=False), json.dumps({"id": "y", "text": "有字", "created_at": "下午"}),
             json.dumps(good[3], ensure_ascii=False)]
    f.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + b'\xff\xfe{"bad": "utf8"}\n')
    conf = _conf(tmp_path)

    r = CliRunner().invoke(main, ["--config", str(conf), "import", str(f), "--source", "file-a"])
    assert r.exit_code == 1, r.output
    out = r.output
    assert f"{f}:2: 不是 JSON（not JSON" in out
    assert f"{f}:5: field 'text': 缺少正文或正文为空" in out
    assert f"{f}:7: field 'created_at': 无法识别的时间" in out
    assert f"{f}:9: 不是 UTF-8 文本" in out
    assert "读取 4 条，入库 4 条，暂存 0 条，帖子库拒收 0 条，坏行 4 行" in out
    assert _count(conf) == 4
    assert _count(conf, text="食堂", sources=["file-a"]) == 4


def test_odd_lines_are_reported_by_number_and_the_import_goes_on(tmp_path):
    ok = {"text": "青山县暴雨积水", "created_at": "2026-11-24T08:00:00+08:00"}
    odd = [
        ({**ok, "created_at": "0001-01-01T00:00:00"}, "created_at"),
        ({**ok, "created_at": "0999-05-01T00:00:00Z"}, "created_at"),
        ({**ok, "created_at": "3000-01-01T00:00:00Z"}, "created_at"),
        ('{"id": "n1", "text": "x", "created_at": "2026-11-24", "reposts": 1e400}', "reposts"),
        ('{"id": "n2", "text": "x", "created_at": NaN}', "created_at"),
        ('{"id": "n3", "text": "x", "created_at": "2026-11-24", "likes": NaN}', "likes"),
        ('{"id": "\\ud800", "text": "x", "created_at": "2026-11-24"}', "source_id"),
        ('{"id": "s1", "text": "x\\udfff", "created_at": "2026-11-24"}', "text"),
        ("[" * 50_000 + "]" * 50_000, None),
        ('{"id": "d1", "text": "x", "created_at": "2026-11-24", "raw": ' + "[" * 200 + "]" * 200 + "}", "raw"),
        ({**ok, "title": 123}, "title"),
        ({**ok, "author": {"a": 1}}, "author"),
        ({**ok, "author": "长" * 40_000}, "author"),
        ({**ok, "reposts": 3_000_000_000}, "reposts"),
    ]
    lines, bad_lines, good_n = [], {}, 0
    for i, (item, field) in enumerate(odd):
        lines.append(json.dumps({"id": f"g{i}", **ok, "text": f"好的第{i}条"}, ensure_ascii=False))
        good_n += 1
        lines.append(item if isinstance(item, str) else json.dumps({"id": f"b{i}", **item}, ensure_ascii=False))
        bad_lines[len(lines)] = field
    f = tmp_path / "odd.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))  # a UTF-8 BOM on line 1
    conf = _conf(tmp_path)

    r = CliRunner().invoke(main, ["--config", str(conf), "import", str(f), "--batch", "3"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    for n, field in bad_lines.items():
        expect = f"{f}:{n}: field '{field}'" if field else f"{f}:{n}: "
        assert expect in r.output, (n, field, r.output)
    assert f"{f}:1:" not in r.output  # the BOM line is a good line
    assert f"读取 {good_n} 条，入库 {good_n} 条，暂存 0 条，帖子库拒收 0 条，坏行 {len(bad_lines)} 行" \
        in r.output
    assert _count(conf) == good_n


def test_a_finished_import_is_not_repeated_unless_restarted(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps({"id": f"p{i}", "text": f"第{i}条", "created_at": "2026-11-24T08:00:00+08:00"},
                                    ensure_ascii=False) + "\n" for i in range(5)), encoding="utf-8")
    conf = _conf(tmp_path)
    r1 = CliRunner().invoke(main, ["--config", str(conf), "import", str(f)])
    assert r1.exit_code == 0 and "读取 5 条，入库 5 条" in r1.output
    r2 = CliRunner().invoke(main, ["--config", str(conf), "import", str(f)])
    assert r2.exit_code == 0 and "已导入过" in r2.output and "--restart" in r2.output
    r3 = CliRunner().invoke(main, ["--config", str(conf), "import", str(f), "--restart"])
    assert r3.exit_code == 0 and "读取 5 条，入库 5 条" in r3.output
    assert _count(conf) == 5
    with f.open("a", encoding="utf-8") as fh:  # a changed file is a new import
        fh.write(json.dumps({"id": "p5", "text": "新增", "created_at": "2026-11-24T09:00:00+08:00"},
                            ensure_ascii=False) + "\n")
    r4 = CliRunner().invoke(main, ["--config", str(conf), "import", str(f)])
    assert r4.exit_code == 0 and "读取 6 条，入库 6 条" in r4.output
    assert _count(conf) == 6


def test_a_killed_import_resumes_where_it_stopped(tmp_path):
    n, batch = 3000, 100
    f = tmp_path / "big.jsonl"
    f.write_text("".join(json.dumps({"id": f"k{i}", "text": f"城南小学食堂第{i}条消息", "created_at":
                                     "2026-11-24T08:00:00+08:00", "raw": {"i": i}}, ensure_ascii=False) + "\n"
                         for i in range(n)), encoding="utf-8")
    conf = _conf(tmp_path)
    cmd = [sys.executable, "-c", "from opinion_desk.cli import main; main()", "--config", str(conf), "import", str(f), "--batch", str(batch)]
    env = {**os.environ, "OPINION_DESK_CONFIG": str(conf)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    progress_dir = tmp_path / "var" / "imports"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill it once some batches are in
        files = list(progress_dir.glob("*.json")) if progress_dir.is_dir() else []
        if files and json.loads(files[0].read_text() or "{}").get("line", 0) >= 5 * batch:
            break
        assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = json.loads(files[0].read_text())["line"]
    assert 0 < done_before < n

    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "行之后继续上次中断的导入" in r.stderr
    assert _count(conf) == n
    archived = [rec for rec in EvidenceArchive(tmp_path / "var" / "evidence").records()]
    # each batch is archived once; only a kill between a batch's store write and its progress save (a few ms)
    # could repeat that one batch
    assert n <= len(archived) <= n + batch, len(archived)


def test_import_missing_file_is_a_clean_error(tmp_path):
    r = CliRunner().invoke(main, ["import", str(tmp_path / "nope.jsonl")])
    assert r.exit_code != 0
    assert "nope.jsonl" in r.output


@pytest.mark.elasticsearch
def test_store_refusals_fail_the_import_and_are_retried_after_the_fix(tmp_path, es_url):
    import uuid

    from elasticsearch import Elasticsearch

    prefix = f"odtest-imp-{uuid.uuid4().hex[:8]}"
    es = Elasticsearch(es_url)
    # an index someone made by hand with a wrong mapping: Elasticsearch refuses that month's posts (likes: 5 is
    # not a boolean), and only those
    es.indices.create(index=f"{prefix}-2026.10", mappings={"properties": {"likes": {"type": "boolean"}}})
    rows = [{"id": f"n{i}", "text": f"十一月第{i}条", "created_at": "2026-11-20T08:00:00+08:00", "likes": 5}
            for i in range(3)]
    rows[2:2] = [{"id": f"o{i}", "text": f"十月第{i}条", "created_at": "2026-10-15T08:00:00+08:00", "likes": 5}
                 for i in range(2)]
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    conf = _conf(tmp_path)
    with conf.open("a", encoding="utf-8") as fh:
        fh.write(f'[store]\nbackend = "elasticsearch"\n[store.elasticsearch]\nurls = ["{es_url}"]\n'
                 f'index_prefix = "{prefix}"\n')
    try:
        r = CliRunner().invoke(main, ["--config", str(conf), "import", str(f)])
        assert r.exit_code == 1, r.output
        assert "读取 5 条，入库 3 条，暂存 0 条，帖子库拒收 2 条，坏行 0 行" in r.output
        assert f"{f}:3: 帖子库拒收" in r.output and f"{f}:4: 帖子库拒收" in r.output
        assert "mapper_parsing_exception" in r.output or "document_parsing_exception" in r.output
        r = CliRunner().invoke(main, ["--config", str(conf), "rejected", "list"])
        assert r.exit_code == 0 and "有 2 条被拒帖子" in r.output
        r = CliRunner().invoke(main, ["--config", str(conf), "rejected", "retry"])
        assert r.exit_code == 1 and "重试 2 条被拒帖子：入库 0 条，暂存 0 条，再次被拒 2 条" in r.output
        es.indices.delete(index=f"{prefix}-2026.10")  # the fix
        r = CliRunner().invoke(main, ["--config", str(conf), "rejected", "retry"])
        assert r.exit_code == 0 and "重试 2 条被拒帖子：入库 2 条，暂存 0 条，再次被拒 0 条" in r.output
        assert _count(conf) == 5
        r = CliRunner().invoke(main, ["--config", str(conf), "rejected", "list"])
        assert "有 0 条被拒帖子" in r.output
    finally:
        for name in es.indices.get(index=f"{prefix}-*").body:
            es.indices.delete(index=name)
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-posts")
        es.close()
