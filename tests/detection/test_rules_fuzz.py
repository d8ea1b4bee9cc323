"""Fuzz: 1,200 hostile rule files grown from the shipped rules. Every one loads or is refused with a RuleError naming
the file and line; none raises anything else, none logs a traceback, each loads (or is refused) in under a second;
every rule that loads evaluates a few posts and a tick without an error. Times are CPU seconds of this process
(other work on the machine does not count)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from opinion_desk.detection.engine import Engine
from opinion_desk.detection.loader import load_rule_file
from opinion_desk.detection.schema import COMMON
from opinion_desk.detection.types import RULE_TYPES
from opinion_desk.errors import RuleError

from ..yaml_fuzz import cases
from .helpers import T0, post

REPO = Path(__file__).resolve().parents[2]
N = 1200


def test_fuzzed_rule_files(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    extra = sorted(set(COMMON) | {k for c in RULE_TYPES.values() for k in c.OPTIONS})
    loaded = refused = 0
    slowest = 0.0
    posts = [post(m, "化工厂爆炸 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", tokens=["化工厂", "爆炸"], keywords=["爆炸"],
                  sentiment_label="neg", rumour_score=0.9, hashtags=["#爆炸#"]) for m in range(0, 30, 3)]
    for name, text in cases(sorted((REPO / "rules").glob("*.yaml")), N, seed=15, extra_keys=extra):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
        t = time.process_time()
        try:
            lr = load_rule_file(p)
        except RuleError as e:
            slowest = max(slowest, time.process_time() - t)
            refused += 1
            assert e.file == str(p) and str(e).startswith(str(p)), (name, str(e))
            assert e.line is not None, (name, str(e))
        else:
            slowest = max(slowest, time.process_time() - t)
            loaded += 1
            eng = Engine()
            eng.add_rule(lr)
            eng.on_posts(posts)
            eng.tick(T0 + __import__("datetime").timedelta(hours=1))
        p.unlink()
    bad_logs = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not bad_logs, [(r.getMessage(), r.exc_text) for r in bad_logs[:5]]
    assert loaded + refused == N and loaded > 50 and refused > 500, (loaded, refused)
    assert slowest < 1.0, slowest
    print(f"{loaded} loaded, {refused} refused, slowest {slowest:.3f} s")
