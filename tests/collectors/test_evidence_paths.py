"""Evidence archive paths come from a hash of the source name, never from the name: no name leaves the archive,
a long name works, and archives written under the old name-based folders are still read, verified and pruned."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.collectors.evidence import EvidenceArchive, digest, source_dir_name
from opinion_desk.models import Post

T = datetime(2024, 6, 18, 2, 30, tzinfo=timezone.utc)


def _post(source: str, sid: str = "1") -> Post:
    return Post(source=source, source_id=sid, text="化工厂", created_at=T, collected_at=T, raw={"s": source, "i": sid})


def _all_files(base) -> list:
    return sorted(p for p in base.rglob("*") if p.is_file())


@pytest.mark.parametrize("source", ["..", ".", "../../etc", "/etc/passwd", "a/../../b", "..\\..\\win", "\x00x",
                                    "源" * 5000, "x" * 300, "中文 来源/子站", "~root", ""])
def test_no_source_name_leaves_the_archive(tmp_path, source):
    root = tmp_path / "data" / "evidence"
    arch = EvidenceArchive(root)
    assert arch.write([_post(source)]) == 1
    files = _all_files(tmp_path)
    assert files and all(root in f.parents for f in files)
    assert {f.parent.name for f in files if not f.name.startswith("index.sqlite")} == {source_dir_name(source)}
    assert len(source_dir_name(source)) == 32
    [rec] = arch.find(_post(source).id)
    assert rec["source"] == source and rec["sha256"] == digest(rec["raw"])
    assert [f.name for f in arch.files(source)] == ["2024-06-18.jsonl.gz"]


def test_old_name_based_folders_are_still_read_verified_and_pruned(tmp_path):
    root = tmp_path / "evidence"
    old = root / "rss_gov"  # what the old rule made of "rss/gov"
    old.mkdir(parents=True)
    raw = {"title": "通报"}
    rec = {"post_id": _post("rss/gov").id, "source": "rss/gov", "source_id": "1", "url": "",
           "created_at": T.isoformat(), "collected_at": T.isoformat(), "sha256": digest(raw), "raw": raw}
    (old / "2024-06-17.jsonl.gz").write_bytes(gzip.compress(json.dumps(rec, ensure_ascii=False).encode() + b"\n"))
    arch = EvidenceArchive(root)
    arch.write([_post("rss/gov", "2")])  # new captures go to the hashed folder
    assert [f.parent.name for f in arch.files("rss/gov")] == [source_dir_name("rss/gov"), "rss_gov"]
    assert arch.find(rec["post_id"])[0]["raw"] == raw

    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "verify", "--source", "rss/gov"])
    assert r.exit_code == 0 and "2 个文件，校验 2 份原始数据，0 个问题" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "show", rec["post_id"]])
    assert r.exit_code == 1 and "evidence reindex" in r.output  # an archive older than its index
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "reindex"])
    assert r.exit_code == 0 and "2 次采集已编入索引" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "show", rec["post_id"]])
    assert r.exit_code == 0 and "通报" in r.output
    removed = arch.prune(1, now=datetime(2024, 6, 19, 1, tzinfo=timezone.utc))
    assert [p.name for p in removed] == ["2024-06-17.jsonl.gz"] and not old.exists()


def test_a_dotdot_source_never_reaches_an_old_style_folder_outside(tmp_path):
    root = tmp_path / "evidence"
    root.mkdir()
    (tmp_path / "secret").mkdir()
    arch = EvidenceArchive(root)
    assert arch.source_dirs("..") == [root / source_dir_name("..")]
    assert all(root in d.parents for d in arch.source_dirs("../secret"))
    assert arch.files("..") == []


def test_evidence_show_with_a_hostile_source_option(tmp_path):
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    EvidenceArchive(tmp_path / "evidence").write([_post("ok")])
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "show", "x", "--source", "../.."])
    assert r.exit_code == 1 and "证据存档中没有帖子 x" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "evidence", "verify", "--source", ".."])
    assert r.exit_code == 1 and "证据存档文件" in r.output
