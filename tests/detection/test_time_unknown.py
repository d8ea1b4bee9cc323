"""A post whose date could not be found (``time_unknown``: stamped when collected) is kept out of rate-based
rules (it would fake a burst of "new" posts), while single-post rules such as watch words still see it."""

from __future__ import annotations

from datetime import timedelta

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine

from .helpers import T0, post, rule

FREQ = "name: 频次\ntype: frequency\ntimeframe: 10m\nnum_events: 3\n"
KEYWORD = "name: 关注词\ntype: keyword\nquery_key: keyword\nfilter:\n  keywords: [爆炸]\n"


def _engine() -> Engine:
    eng = Engine(None, clock=ManualClock(T0 + timedelta(minutes=5)))
    eng.add_rule(rule(FREQ, "rules/freq.yaml"))
    eng.add_rule(rule(KEYWORD, "rules/kw.yaml"))
    return eng


def test_undated_posts_do_not_count_in_window_rules_but_still_hit_watch_words():
    eng = _engine()
    out = eng.on_posts([post(1, "爆炸", time_unknown=True) for _ in range(5)])
    assert [m.rule for m in out] == ["关注词"] * len(out) and out
    assert eng.rules["频次"].rtype.window.total("", T0, T0 + timedelta(minutes=10)) == 0
    dated = eng.on_posts([post(1, "爆炸") for _ in range(3)])
    assert "频次" in {m.rule for m in dated}
