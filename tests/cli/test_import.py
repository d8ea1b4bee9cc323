"""`opinion-desk import FILE.jsonl`: per-line errors naming line and field; the good lines are indexed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import load_config
from opinion_desk.store import open_store
from opinion_desk.store.base import PostQuery


def test_import_reports_bad_lines_and_keeps_good_ones(tmp_path):
    f = tmp_path / "posts.jsonl"
    good = [{"id": f"g{i}", "text": f"城南小学食堂问题，第{i}条", "created_at": "2026-11-24T08:00:00+08:00"} for i in range(4)]
    lines = [json.dumps(good[0], ensure_ascii=False), "{not json", json.dumps(good[1], ensure_ascii=False), "",
             json.dumps({"id": "x", "text": "", "created_at": "2026-11-24"}, ensure_ascii=False),
             json.dumps(good[2], ensure_ascii=False), json.dumps({"id": "y", "text": "有字", "created_at": "下午"}),
             json.dumps(good[3], ensure_ascii=False)]
    f.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + b'\xff\xfe{"bad": "utf8"}\n')
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")

    r = CliRunner().invoke(main, ["--config", str(conf), "import", str(f), "--source", "file-a"])
    assert r.exit_code == 1, r.output
    out = r.output
    assert f"{f}:2: not JSON" in out
    assert f"{f}:5: field 'text': missing or empty text" in out
    assert f"{f}:7: field 'created_at': bad timestamp" in out
    assert f"{f}:9: not UTF-8" in out
    assert "4 posts read, 4 indexed, 0 spooled, 4 bad lines" in out

    store = open_store(load_config(conf, env={}))
    try:
        assert store.count(PostQuery()) == 4
        assert store.search(PostQuery(text="食堂", sources=["file-a"])).total == 4
    finally:
        store.close()


def test_import_missing_file_is_a_clean_error(tmp_path):
    r = CliRunner().invoke(main, ["import", str(tmp_path / "nope.jsonl")])
    assert r.exit_code != 0
    assert "nope.jsonl" in r.output
