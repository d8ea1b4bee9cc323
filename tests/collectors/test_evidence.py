"""The evidence archive: gzip JSONL per source per day, with a sha256 per payload."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

from opinion_desk.collectors.evidence import EvidenceArchive, digest, verify_file
from opinion_desk.models import Post


def post(sid: str, source: str = "wb", raw=None) -> Post:
    t = datetime(2024, 6, 18, 10, tzinfo=timezone.utc)
    return Post(source=source, source_id=sid, text="化工厂有异味", created_at=t, collected_at=t,
                raw=raw if raw is not None else {"mblog": {"mid": sid, "text": "化工厂有异味<br />"}})


def test_append_read_find_verify(tmp_path):
    arch = EvidenceArchive(tmp_path)
    assert arch.write([post("1"), post("2"), post("9", source="rss/gov")]) == 3
    arch.write([post("1", raw={"mblog": {"mid": "1", "text": "已编辑"}})])  # the same post, captured again
    f = tmp_path / "wb" / "2024-06-18.jsonl.gz"
    assert f.exists() and (tmp_path / "rss_gov" / "2024-06-18.jsonl.gz").exists()
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
