"""The engine with the state database: state survives a restart, reloads keep a working version, noise control."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.noise import AlertBook
from opinion_desk.state import StateDB
from opinion_desk.state.alerts import Alert, Silence

from .helpers import T0, post

SPIKE = "name: 突增\ntype: spike\ntimeframe: 10m\nthreshold_cur: 5\nspike_height: 3\nresolve_after: 10m\n"
KEYWORD = "name: 关注词\ntype: keyword\nquery_key: keyword\nrealert: 30m\nfilter:\n  keywords: [爆炸]\n"


_URLS: dict = {}


@pytest.fixture(autouse=True)
def _state_db(state_url, tmp_path):
    """Each test's state database: SQLite, then PostgreSQL (tests/pg_fixture.py); a restart reopens it."""
    _URLS[tmp_path] = state_url
    yield
    _URLS.pop(tmp_path, None)


def make(tmp_path, clock):
    db = StateDB(_URLS[tmp_path])
    db.upgrade()
    eng = Engine(tmp_path / "rules", clock=clock, statedb=db)
    eng.book = AlertBook(db, clock, eng.alert_listeners, eng.resolve_listeners)
    eng.sink = eng.book.handle
    eng.reload()
    return eng, db


def write(tmp_path, name, text):
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8")
    st = p.stat()
    os.utime(p, (st.st_atime, st.st_mtime + time.time() % 7 + 1))  # a distinct mtime even within one second


def test_window_state_survives_a_restart(tmp_path) -> None:
    write(tmp_path, "spike.yaml", SPIKE)
    clock = ManualClock(T0)
    eng, _ = make(tmp_path, clock)
    for m in range(0, 30, 5):
        clock.set(T0 + timedelta(minutes=m))
        eng.on_posts([post(m)])
        eng.tick()
    eng2, _ = make(tmp_path, clock)  # a restart: same state database
    lr = eng2.rules["突增"]
    assert lr.rtype.window.total("", T0 - timedelta(minutes=1), T0 + timedelta(minutes=30)) == 6
    assert lr.rtype.started == T0


def test_broken_edit_keeps_the_previous_version(tmp_path) -> None:
    write(tmp_path, "kw.yaml", KEYWORD)
    eng, _ = make(tmp_path, ManualClock(T0))
    write(tmp_path, "kw.yaml", KEYWORD.replace("realert: 30m", "realert: 5 minuts"))
    loaded, errors = eng.reload()
    assert loaded == [] and len(errors) == 1
    assert "kw.yaml:4" in str(errors[0]) and "previous version keeps running" in str(errors[0])
    assert "关注词" in eng.rules
    assert eng.status()["errors"][0]["field"] == "realert"
    write(tmp_path, "kw.yaml", KEYWORD.replace("[爆炸]", "[坍塌]"))
    loaded, errors = eng.reload()
    assert loaded == ["关注词"] and not errors and eng.rules["关注词"].spec.filter.keywords == ["坍塌"]
    (tmp_path / "rules" / "kw.yaml").unlink()
    eng.reload()
    assert eng.rules == {}


def test_realert_folds_matches_and_listeners_hear_new_alerts(tmp_path) -> None:
    write(tmp_path, "kw.yaml", KEYWORD)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    heard = []
    eng.alert_listeners.append(lambda a: heard.append(a.to_dict()))
    for m in (0, 5, 10):
        clock.set(T0 + timedelta(minutes=m))
        eng.on_posts([post(m, tokens=["发生爆炸"])])
    clock.set(T0 + timedelta(minutes=45))
    eng.on_posts([post(45, tokens=["爆炸"])])
    assert len(heard) == 2 and heard[0]["key"] == "爆炸" and heard[0]["id"].startswith("A20240501-")
    with db.session_scope() as s:
        alerts = s.query(Alert).order_by(Alert.created_at).all()
        assert [a.count for a in alerts] == [3, 1] and len(alerts[0].post_ids) == 3


def test_silence_records_without_notifying(tmp_path) -> None:
    write(tmp_path, "kw.yaml", KEYWORD)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    with db.session_scope() as s:
        s.add(Silence(rule="关注词", key="", until=T0 + timedelta(hours=1), reason="演练", created_at=T0))
    heard = []
    eng.alert_listeners.append(heard.append)
    eng.on_posts([post(0, tokens=["爆炸"])])
    assert heard == []
    with db.session_scope() as s:
        assert s.query(Alert).one().status == "silenced"
    clock.set(T0 + timedelta(hours=2))  # expired
    eng.book.silences_changed()
    eng.on_posts([post(120, tokens=["爆炸"])])
    assert len(heard) == 1


def test_spike_alert_resolves_after_hold_down(tmp_path) -> None:
    write(tmp_path, "spike.yaml", SPIKE)
    clock = ManualClock(T0)
    eng, db = make(tmp_path, clock)
    resolved = []
    eng.resolve_listeners.append(lambda a: resolved.append(a.to_dict()))
    for m in range(0, 40, 5):
        clock.set(T0 + timedelta(minutes=m))
        eng.on_posts([post(m)])
        eng.tick()
    clock.set(T0 + timedelta(minutes=40))
    eng.on_posts([post(40 + k * 0.1) for k in range(10)])
    with db.session_scope() as s:
        assert s.query(Alert).one().status == "open"
    for m in range(41, 90):
        clock.set(T0 + timedelta(minutes=m))
        eng.tick()
    assert len(resolved) == 1 and resolved[0]["status"] == "resolved"
    assert "舆情平息" in resolved[0]["details"]["resolved_reason"]


def test_flatline_fires_on_the_tick_within_a_bucket_of_the_timeframe(tmp_path) -> None:
    """As rules/README.md says: silence is seen only on the tick, between timeframe minus one bucket (6 min for
    1h) and timeframe after the last post."""
    write(tmp_path, "quiet.yaml", "name: 信息源静默\ntype: flatline\nquery_key: source\ntimeframe: 1h\n"
                                  "expect: [青山县融媒体]\n")
    clock = ManualClock(T0)
    eng, _db = make(tmp_path, clock)
    heard = []
    eng.alert_listeners.append(lambda a: heard.append(a.to_dict()))
    assert eng.tick() == []  # watching from 00:00
    clock.set(T0 + timedelta(minutes=3))
    assert eng.on_posts([post(3, source="青山县融媒体")]) == []
    fired = None
    for m in range(4, 80):
        clock.set(T0 + timedelta(minutes=m))
        if eng.tick() and fired is None:
            fired = m
    assert fired == 60  # the post's bucket (00:00-00:06) left the 1h window at 01:00: 57 minutes after it
    assert len(heard) == 1 and heard[0]["key"] == "青山县融媒体" and "已静默" in heard[0]["reason"]


def test_one_odd_post_does_not_switch_off_rules_for_its_batch(tmp_path, caplog) -> None:
    from opinion_desk.detection.clock import ManualClock as Clock

    clock = Clock(T0 + timedelta(minutes=1))
    write(tmp_path, "k.yaml", KEYWORD)
    eng, _ = make(tmp_path, clock)
    odd = post(0, "的", tokens=[])
    odd.title = 123  # type: ignore[assignment]  # what a crawler sent; the filter cannot read it
    matches = eng.on_posts([odd, post(0.5, "化工厂爆炸"), post(0.6, "又一声爆炸")])
    assert [m.rule for m in matches] == ["关注词", "关注词"]  # the posts after the odd one were still seen
    assert "failed on post" in caplog.text  # the odd post itself is logged, and only it
