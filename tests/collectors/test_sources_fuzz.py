"""Fuzz: 1,200 hostile source files grown from the shipped sources/*.yaml. Every one loads or is refused with
problems naming the file (and line, when the YAML parsed); nothing raises, each takes under a second. Times are
CPU seconds of this process (other work on the machine does not count)."""

from __future__ import annotations

import time
from pathlib import Path

from opinion_desk.collectors.sources import COMMON_KEYS, load_sources

from ..yaml_fuzz import cases

REPO = Path(__file__).resolve().parents[2]
N = 1200


def test_fuzzed_source_files(tmp_path) -> None:
    extra = sorted(COMMON_KEYS | {"mode", "keywords", "url", "path", "cookie_env", "feeds", "sources"})
    ok = refused = 0
    slowest = 0.0
    for i, (name, text) in enumerate(cases(sorted((REPO / "sources").glob("*.yaml")), N, seed=15, extra_keys=extra)):
        d = tmp_path / str(i)
        d.mkdir()
        p = d / name
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        t = time.process_time()
        result = load_sources(d, resolve=False)
        slowest = max(slowest, time.process_time() - t)
        if result.problems:
            refused += 1
        else:
            ok += 1
        for prob in result.problems:
            assert prob.file == str(p) and str(prob).startswith(str(p)), (name, str(prob))
            assert prob.line is not None or "UTF-8" in prob.reason, (name, str(prob))
            assert prob.reason
        p.unlink()
        d.rmdir()
    assert ok + refused == N and ok > 50 and refused > 500, (ok, refused)
    assert slowest < 1.0, slowest
    print(f"{ok} loaded, {refused} refused, slowest {slowest:.3f} s")
