"""Rule state is saved incrementally: only rules whose state changed, and new_term's terms and cardinality's keys as
row changes (not the whole table each tick); windows are pruned during an import, which runs no ticks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from opinion_desk.detection import engine as engine_mod
from opinion_desk.detection.clock import ManualClock
from opinion_desk.state.alerts import RuleState, RuleStateRow

from .helpers import T0, post
from .test_engine import SPIKE, _state_db, make, write  # noqa: F401 - _state_db: the state database fixture

NEW_TERM = ("name: 新词\ntype: new_term\ntimeframe: 30m\nfield: keywords\nterms_window: 1d\nmin_count: 3\n"
            "min_history: 1h\n")


def _rows(db, rule: str) -> dict:
    with db.session_scope() as s:
        return dict(s.execute(select(RuleStateRow.key, RuleStateRow.value).where(RuleStateRow.rule == rule)).all())


def _stamp(db, rule: str):
    with db.session_scope() as s:
        return s.get(RuleState, rule).updated_at


def test_only_changed_rules_are_saved(tmp_path) -> None:
    write(tmp_path, "a.yaml", SPIKE)
    write(tmp_path, "b.yaml", NEW_TERM)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    eng.on_posts([post(0, "帖子", keywords=["甲"])])
    clock.set(T0 + timedelta(minutes=1))
    eng.tick()
    first = {r: _stamp(db, r) for r in ("突增", "新词")}
    clock.set(T0 + timedelta(minutes=2))
    eng.tick()  # nothing new, nothing old enough to prune: nothing written
    assert {r: _stamp(db, r) for r in ("突增", "新词")} == first
    eng.on_posts([post(2, "帖子", keywords=["乙"], source="weibo")])
    clock.set(T0 + timedelta(minutes=3))
    eng.tick()
    assert _stamp(db, "新词") > first["新词"] and _stamp(db, "突增") > first["突增"]


def test_new_term_rows_hold_the_changes_and_survive_a_restart(tmp_path) -> None:
    write(tmp_path, "b.yaml", NEW_TERM)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    eng.on_posts([post(m, "帖子", keywords=[f"词{m}", "常见"]) for m in range(5)])
    clock.set(T0 + timedelta(minutes=5))
    eng.tick()
    rows = _rows(db, "新词")
    assert set(rows) == {"常见"} | {f"词{m}" for m in range(5)}
    with db.session_scope() as s:
        assert "last_seen" not in s.get(RuleState, "新词").state  # the big part is not in the JSON
    rt = eng.rules["新词"].rtype
    assert rt.row_changes() == ({}, set())  # all saved
    eng.on_posts([post(6, "帖子", keywords=["常见"])])  # one term seen again: one changed row
    changed, removed = rt.row_changes()
    assert list(changed) == ["常见"] and not removed
    assert changed["常见"][0] == int((T0 + timedelta(minutes=6)).timestamp()) and len(changed["常见"][1]) == 6
    eng.on_posts([post(7, "帖子", keywords=["新来"])])
    clock.set(T0 + timedelta(minutes=8))
    eng.tick()
    clock.set(T0 + timedelta(days=1, minutes=5))  # past terms_window for the first posts: rows deleted
    eng.tick()
    rows = _rows(db, "新词")
    assert set(rows) == {"常见", "新来"}
    again, _ = make(tmp_path, clock)  # a restart restores the terms (and candidate hits) from the rows
    rt2 = again.rules["新词"].rtype
    assert set(rt2.last_seen) == {"常见", "新来"} and rt2.candidates == rt.candidates
    assert rt2.last_seen == {k: float(int(v)) for k, v in rt.last_seen.items()}


def test_windows_are_pruned_during_an_import(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine_mod, "PRUNE_EVERY_POSTS", 100)
    write(tmp_path, "a.yaml", SPIKE.replace("name: 突增", "name: 突增\nquery_key: author"))
    clock = ManualClock(T0 + timedelta(days=30))  # importing last month's posts: no tick runs
    eng, _ = make(tmp_path, clock)
    for i in range(20):
        eng.on_posts([post(m, "帖子", author=f"作者{i}-{m}") for m in range(100)])
    # without pruning the window would hold 2,000 authors; pruned, only what the last batch added remains
    assert len(eng.rules["突增"].rtype.window.keys()) <= 100


def test_state_write_volume_per_tick_is_small(tmp_path) -> None:
    """5,000 known terms, then one new post per tick: each tick writes one or two rows, not 5,000."""
    write(tmp_path, "b.yaml", NEW_TERM)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    eng.on_posts([post(m / 100, "帖子", keywords=[f"词{m}"]) for m in range(5000)])
    clock.set(T0 + timedelta(minutes=60))
    eng.tick()
    assert len(_rows(db, "新词")) == 5000
    for k in range(3):
        eng.on_posts([post(61 + k, "帖子", keywords=[f"新{k}"])])
        changed = set(eng.rules["新词"].rtype._changed)
        assert changed == {f"新{k}"}
        clock.set(T0 + timedelta(minutes=62 + k))
        eng.tick()
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(RuleStateRow).where(RuleStateRow.rule == "新词")) == 5003


def test_cardinality_keys_are_rows(tmp_path) -> None:
    write(tmp_path, "c.yaml", "name: 多账号\ntype: cardinality\nquery_key: keyword\nmax_cardinality: 50\ntimeframe: 10m\n")
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    eng.on_posts([post(m, "帖子", keywords=[f"话题{m % 3}"], author=f"a{m}") for m in range(9)])
    clock.set(T0 + timedelta(minutes=9))
    eng.tick()
    assert set(_rows(db, "多账号")) == {"话题0", "话题1", "话题2"}
    eng.on_posts([post(10, "帖子", keywords=["话题1"], author="b")])
    assert eng.rules["多账号"].rtype.row_changes()[0].keys() == {"话题1"}
    again, _ = make(tmp_path, clock)
    assert again.rules["多账号"].rtype.seen.keys() == {"话题0", "话题1", "话题2"}


def test_an_import_saves_the_rule_state_as_it_goes(tmp_path, monkeypatch) -> None:
    """No tick runs during an import: on_posts saves every SAVE_EVERY_POSTS posts, so the changes waiting to be
    written (new_term's terms) stay few and the rows are on disk before the import ends."""
    monkeypatch.setattr(engine_mod, "SAVE_EVERY_POSTS", 200)
    write(tmp_path, "b.yaml", NEW_TERM)
    clock = ManualClock(T0 + timedelta(hours=2))
    eng, db = make(tmp_path, clock)
    for b in range(10):
        eng.on_posts([post(m / 100, "帖子", keywords=[f"词{b}-{m}"]) for m in range(100)])
        assert len(eng.rules["新词"].rtype._changed) <= 200
    assert len(_rows(db, "新词")) >= 800  # saved without a tick
