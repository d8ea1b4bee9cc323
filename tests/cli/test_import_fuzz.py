"""Fuzz of `opinion-desk import`: 1,200 seeded JSONL lines mixing good and bad ones (issue 15). Every bad line is
reported by number (and field), the import goes on, every good line is stored, and no traceback is printed."""

from __future__ import annotations

import random

from click.testing import CliRunner

from opinion_desk.cli import main
from tests.cli.test_import import _conf, _count
from tests.collectors.fuzz_items import bad_item, dumps, good_item

SEED = 1125
LINES = 1200
RAW_ODDITIES: list[bytes] = [b"{not json", b"[" * 100_000, b"\xff\xfe{}", b'{"a": 1e400}', b"NaN", b"[1, 2]", b"\xef\xbb\xbf{}"]


def test_a_thousand_mixed_lines(tmp_path):
    rng = random.Random(SEED)
    out: list[bytes] = []
    bad: dict[int, str | None] = {}
    good = 0
    for n in range(LINES):
        r = rng.random()
        if r < 0.05:
            out.append(rng.choice(RAW_ODDITIES))
            bad[len(out)] = None
        elif r < 0.45:
            item, field, _ = bad_item(rng, n)
            out.append(dumps(item).encode())
            bad[len(out)] = field
        else:
            out.append(dumps(good_item(rng, n)).encode())
            good += 1
        if rng.random() < 0.02:
            out.append(b"   ")  # blank lines are skipped, not errors
    f = tmp_path / "fuzz.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + b"\n".join(out) + b"\n")
    conf = _conf(tmp_path)
    r = CliRunner().invoke(main, ["--config", str(conf), "import", str(f), "--batch", "200"])
    assert r.exit_code == 1
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    for line, field in bad.items():
        want = f"{f}:{line}: field '{field}" if field else f"{f}:{line}: "
        assert want in r.output, (line, field)
    assert f"读取 {good} 条，入库 {good} 条，暂存 0 条，帖子库拒收 0 条，坏行 {len(bad)} 行" in r.output
    assert _count(conf) == good
