"""AlertBook's unique match key, on SQLite and PostgreSQL: one match recorded by two processes, or replayed after a
crash, is one alert and one notification."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.noise import AlertBook, match_key
from opinion_desk.detection.rule import Match
from opinion_desk.state import StateDB
from opinion_desk.state.alerts import Alert

from .helpers import T0, rule

KEYWORD = "name: 关注词\ntype: keyword\nquery_key: keyword\nrealert: 30m\nfilter:\n  keywords: [爆炸]\n"


@pytest.fixture
def dbs(state_url):
    """Two processes' engines on one state database."""
    out = [StateDB(state_url) for _ in range(2)]
    out[0].upgrade()
    yield out
    for d in out:
        d.dispose()


def match(minute: float, key: str = "爆炸") -> Match:
    return Match(rule="关注词", key=key, time=T0 + timedelta(minutes=minute), reason="命中关注词：爆炸",
                 post_ids=[f"p{minute}"])


def alerts(db: StateDB) -> list[Alert]:
    with db.session_scope() as s:
        return list(s.query(Alert).order_by(Alert.created_at))


def test_the_match_key_names_rule_key_and_time() -> None:
    assert match_key(match(0)) == match_key(match(0)) and len(match_key(match(0))) == 64
    assert len({match_key(match(0)), match_key(match(1)), match_key(match(0, "坍塌"))}) == 3


def test_book_records_a_match_seen_by_two_processes_once(dbs) -> None:
    spec = rule(KEYWORD).spec
    heard: list[str] = []
    clock = ManualClock(T0)
    books = [AlertBook(db, clock, [lambda a: heard.append(a.id)], []) for db in dbs]
    start = threading.Barrier(2)
    results: list = []

    def handle(book: AlertBook) -> None:
        start.wait()
        results.append(book.handle(match(0), spec))

    threads = [threading.Thread(target=handle, args=(b,)) for b in books]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    [alert] = alerts(dbs[0])
    assert alert.match_key == match_key(match(0)) and alert.count == 1
    assert heard == [alert.id]  # one notification
    assert sorted(r is None for r in results) == [False, True]


def test_book_replay_after_a_crash_adds_nothing(dbs) -> None:
    spec = rule(KEYWORD).spec
    heard: list[str] = []
    clock = ManualClock(T0)
    book = AlertBook(dbs[0], clock, [lambda a: heard.append(a.id)], [])
    book.handle(match(0), spec)
    book.handle(match(5), spec)  # a later match folds into the open alert
    restarted = AlertBook(dbs[1], clock, [lambda a: heard.append(a.id)], [])
    assert restarted.handle(match(0), spec) is None  # the posts behind the first match, replayed
    [alert] = alerts(dbs[0])
    assert alert.count == 2 and len(heard) == 1
    clock.set(T0 + timedelta(minutes=45))  # realert passed: a new match is a new alert, told again
    restarted.handle(match(45), spec)
    assert len(alerts(dbs[0])) == 2 and len(heard) == 2


def test_book_replay_of_a_resolved_alerts_match_is_not_a_new_alert(dbs) -> None:
    """The alert is no longer open, so nothing folds: the insert itself meets the unique key."""
    spec = rule(KEYWORD).spec
    heard: list[str] = []
    book = AlertBook(dbs[0], ManualClock(T0), [lambda a: heard.append(a.id)], [])
    book.handle(match(0), spec)
    book.handle(Match(rule="关注词", key="爆炸", time=T0 + timedelta(minutes=20), reason="平息", kind="resolved"), spec)
    assert book.handle(match(0), spec) is None
    [alert] = alerts(dbs[0])
    assert alert.status == "resolved" and len(heard) == 1


def test_a_repeat_match_within_realert_is_a_quiet_update(dbs) -> None:
    """Folded into the open alert and told to no one: the update listeners hear the grown alert, once per batch."""
    spec = rule(KEYWORD).spec
    heard: list[str] = []
    grown: list[tuple[str, int, str]] = []
    clock = ManualClock(T0)
    book = AlertBook(dbs[0], clock, [lambda a: heard.append(a.id)], [],
                     update_listeners=[lambda a: grown.append((a.id, a.count, a.post_ids[-1]))])
    book.handle(match(0), spec)
    assert len(heard) == 1 and grown == []  # a new alert is a notice, not an update
    clock.set(T0 + timedelta(minutes=5))
    assert book.handle(match(5), spec) is None
    assert grown == [(heard[0], 2, "p5")] and len(heard) == 1
    with book.batch():  # one batch of posts folding three times: one update, with the last figures
        for minute in (6, 7, 8):
            book.handle(match(minute), spec)
        assert len(grown) == 1
    assert grown[-1] == (heard[0], 5, "p8") and len(heard) == 1
    [alert] = alerts(dbs[0])
    assert alert.count == 5
    clock.set(T0 + timedelta(minutes=45))  # realert passed: a new alert and its notice, no update
    book.handle(match(45), spec)
    assert len(heard) == 2 and len(grown) == 2


def test_an_alert_told_again_in_the_batch_is_not_also_updated(dbs) -> None:
    spec = rule(KEYWORD).spec
    heard: list[int] = []
    grown: list[int] = []
    clock = ManualClock(T0)
    book = AlertBook(dbs[0], clock, [lambda a: heard.append(a.count)], [],
                     update_listeners=[lambda a: grown.append(a.count)])
    book.handle(match(0), spec)
    clock.set(T0 + timedelta(minutes=10))
    with book.batch():
        book.handle(match(10), spec)  # within realert: folds quietly...
        clock.set(T0 + timedelta(minutes=40))
        grown_window = Match(rule="关注词", key="爆炸", time=T0 + timedelta(minutes=40), reason="窗口增长",
                             post_ids=["p40"], kind="update")
        book.handle(grown_window, spec)  # ...then the key's window grows after realert: told again, count 3
    assert heard == [1, 3] and grown == []  # the notice carries the newer figures; no update after it
