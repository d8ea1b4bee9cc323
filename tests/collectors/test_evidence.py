"""The evidence archive: gzip JSONL per source per day, with a sha256 per payload."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

from opinion_desk.collectors.evidence import EvidenceArchive, check_file, digest, source_dir_name, verify_file
from opinion_desk.models import Post


def post(sid: str, source: str = "wb", raw=None) -> Post:
    t = datetime(2024, 6, 18, 10, tzinfo=timezone.utc)
    return Post(source=source, source_id=sid, text="化工厂有异味", created_at=t, collected_at=t,
                raw=raw if raw is not None else {"mblog": {"mid": sid, "text": "化工厂有异味<br />"}})


def test_append_read_find_verify(tmp_path):
    arch = EvidenceArchive(tmp_path)
    assert arch.write([post("1"), post("2"), post("9", source="rss/gov")]) == 3
    arch.write([post("1", raw={"mblog": {"mid": "1", "text": "已编辑"}})])  # the same post, captured again
    f = tmp_path / source_dir_name("wb") / "2024-06-18.jsonl.gz"
    assert f.exists() and (tmp_path / source_dir_name("rss/gov") / "2024-06-18.jsonl.gz").exists()
    assert (f.parent / "SOURCE").read_text(encoding="utf-8") == "wb\n"
    recs = list(arch.records("wb"))
    assert [r["source_id"] for r in recs] == ["1", "2", "1"]
    assert recs[0]["sha256"] == digest(recs[0]["raw"])
    assert [r["raw"]["mblog"]["text"] for r in arch.find(post("1").id)] == ["化工厂有异味<br />", "已编辑"]
    assert verify_file(f) == []
    # tampering is detected
    lines = gzip.decompress(f.read_bytes()).splitlines()
    rec = json.loads(lines[1])
    rec["raw"]["mblog"]["text"] = "改过的"
    lines[1] = json.dumps(rec, ensure_ascii=False).encode()
    f.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    assert len(verify_file(f)) == 1


def test_locate_names_file_and_line(tmp_path):
    arch = EvidenceArchive(tmp_path)
    arch.write([post("1"), post("2")])
    arch.write([post("2", raw={"mblog": {"mid": "2", "text": "第二次"}})])
    hits = list(arch.locate(post("2").id))
    assert [(f.name, n) for f, n, _ in hits] == [("2024-06-18.jsonl.gz", 2), ("2024-06-18.jsonl.gz", 3)]
    assert list(arch.locate(post("2").id, source="other")) == []
    assert list(arch.locate("no-such-post")) == []


def test_check_file_reports_bad_lines_and_a_cut_off_file(tmp_path):
    arch = EvidenceArchive(tmp_path)
    arch.write([post("1"), post("2"), post("3")])
    f = arch.path_for("wb", "2024-06-18")
    lines = gzip.decompress(f.read_bytes()).splitlines()
    lines[2] = b"{broken"
    f.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    assert check_file(f) == (2, [f"{f}:3: 不是 JSON 记录"])
    # a crash in the middle of an append leaves a cut-off gzip member: reported, the lines before still count
    arch.write([post("4")])
    f.write_bytes(f.read_bytes()[:-12])
    n, bad = check_file(f)
    assert n >= 2 and bad[-1].startswith(f"{f}: 第 ")


def test_prune_removes_old_days_and_empty_folders(tmp_path):
    arch = EvidenceArchive(tmp_path)
    for day in ("2024-01-01", "2024-06-17", "2024-06-18"):
        t = datetime.fromisoformat(day + "T12:00:00+00:00")
        arch.write([Post(source="wb", source_id=day, text="x", created_at=t, collected_at=t, raw={"d": day})])
    t = datetime(2023, 1, 1, tzinfo=timezone.utc)
    arch.write([Post(source="old", source_id="1", text="x", created_at=t, collected_at=t, raw={})])
    now = datetime(2024, 6, 18, 1, tzinfo=timezone.utc)
    removed = arch.prune(1, now=now)
    assert sorted(p.name for p in removed) == ["2023-01-01.jsonl.gz", "2024-01-01.jsonl.gz"]
    assert [p.name for p in arch.files()] == ["2024-06-17.jsonl.gz", "2024-06-18.jsonl.gz"]
    assert not (tmp_path / source_dir_name("old")).exists()
    assert arch.prune(0, now=now) == [] and len(arch.files()) == 2  # 0 keeps everything


def test_retention_job_is_scheduled_and_prunes(tmp_path, analyzer):
    from opinion_desk import create_app, stop_background
    from opinion_desk import jobs
    from tests.conftest import make_test_config

    app = create_app(make_test_config(tmp_path, collectors={"evidence_days": 30}), analyzer_factory=lambda: analyzer)
    try:
        arch = app.desk.evidence
        t = datetime(2020, 1, 1, tzinfo=timezone.utc)
        arch.write([Post(source="wb", source_id="1", text="x", created_at=t, collected_at=t, raw={})])
        jobs.collector_jobs(app.desk)
        job = app.desk.scheduler.aps.get_job("evidence-retention")
        assert job is not None and job.trigger.interval.total_seconds() == jobs.EVIDENCE_RETENTION_EVERY
        job.func()  # what the scheduler runs: the guarded pass
        assert arch.files() == []
    finally:
        stop_background(app)
        app.desk.close()
