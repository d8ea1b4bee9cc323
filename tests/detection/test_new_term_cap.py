"""new_term remembers at most MAX_TERMS known terms: the least recently seen are forgotten first (their state rows
deleted), a forgotten term seen again starts as new and alerts only if it then bursts (issue 15: memory)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from opinion_desk.detection.clock import ManualClock
from opinion_desk.state.alerts import RuleStateRow

from .helpers import T0, post
from .test_engine import _state_db, make, write  # noqa: F401 - _state_db: the state database fixture

NEW_TERM = ("name: 新词\ntype: new_term\ntimeframe: 30m\nfield: keywords\nterms_window: 7d\nmin_count: 3\n"
            "min_history: 1h\n")


def test_the_least_recently_seen_terms_go_first_and_their_rows_with_them(tmp_path) -> None:
    write(tmp_path, "n.yaml", NEW_TERM)
    clock = ManualClock(T0 + timedelta(hours=3))
    eng, db = make(tmp_path, clock)
    rt = eng.rules["新词"].rtype
    rt.MAX_TERMS = 100  # a small cap for the test (the class default is 100,000)
    eng.on_posts([post(m, "帖子", keywords=[f"词{m}", "常用"]) for m in range(99)])  # 100 terms: at the cap
    assert len(rt.last_seen) == 100
    eng.tick()
    eng.on_posts([post(100, "帖子", keywords=["词0"])])  # seen again: now the most recent
    eng.on_posts([post(101, "帖子", keywords=["第一个新词"])])  # 101 terms: forget down to 90
    assert len(rt.last_seen) == 90
    assert {"词0", "常用", "第一个新词"} <= set(rt.last_seen)  # recently seen stay
    assert not {"词1", "词10"} & set(rt.last_seen)  # the least recently seen went
    eng.tick()
    with db.session_scope() as s:
        rows = set(s.scalars(select(RuleStateRow.key).where(RuleStateRow.rule == "新词")))
    assert rows == set(rt.last_seen)

    eng2, _ = make(tmp_path, clock)  # a restart keeps the order of last sight
    rt2 = eng2.rules["新词"].rtype
    assert set(rt2.last_seen) == set(rt.last_seen)
    assert list(rt2.last_seen.values()) == sorted(rt2.last_seen.values())


def test_a_forgotten_term_seen_again_alerts_only_when_it_bursts(tmp_path) -> None:
    write(tmp_path, "n.yaml", NEW_TERM)
    clock = ManualClock(T0 + timedelta(hours=3))
    eng, _ = make(tmp_path, clock)
    fired = []
    eng.alert_listeners.append(fired.append)
    rt = eng.rules["新词"].rtype
    rt.MAX_TERMS = 50
    eng.on_posts([post(m, "帖子", keywords=[f"词{m}"]) for m in range(120)])  # 词0..词69 forgotten
    assert "词1" not in rt.last_seen
    eng.on_posts([post(170, "帖子", keywords=["词1"])])
    assert "词1" in rt.candidates and fired == []  # new again, one post: no alert
    eng.on_posts([post(171 + k, "帖子", keywords=["词1"]) for k in range(2)])
    assert [a.key for a in fired] == ["词1"]  # three posts within the timeframe: it burst
