"""Leases on SQLite and PostgreSQL: one holder at a time, take-over after expiry, the race to take a lease, and a
holder killed with SIGKILL replaced by another process within TTL + one renewal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from opinion_desk.detection.clock import ManualClock
from opinion_desk.state.leases import Leases, holder_id

T0 = datetime(2024, 6, 18, 2, 0, tzinfo=timezone.utc)


def test_one_holder_at_a_time_and_release_hands_over(db) -> None:
    clock = ManualClock(T0)
    a, b = Leases(db, "host-a:1:aa", ttl=15, clock=clock), Leases(db, "host-b:2:bb", ttl=15, clock=clock)
    assert a.acquire("rules") and a.holds("rules") and a.token("rules") == 1
    assert not b.acquire("rules") and not b.holds("rules") and b.token("rules") is None
    clock.advance(timedelta(seconds=10))
    assert a.acquire("rules")  # its own: renewed, same token
    clock.advance(timedelta(seconds=10))  # 20 s after taking it, 10 s after the renewal: still a's
    assert not b.acquire("rules") and a.holds("rules")
    a.release("rules")
    assert not a.holds("rules") and b.acquire("rules") and b.token("rules") == 2
    [row] = b.table()
    assert row["holder"] == "host-b:2:bb" and row["live"] and row["mine"] and row["epoch"] == 2


def test_a_silent_holder_loses_the_lease_when_its_ttl_passes(db) -> None:
    clock = ManualClock(T0)
    a, b = Leases(db, "a", ttl=15, clock=clock), Leases(db, "b", ttl=15, clock=clock)
    assert a.acquire("source:gov-rss") and a.acquire("rules")
    clock.advance(timedelta(seconds=5))
    assert a.renew() == {"source:gov-rss", "rules"}
    clock.advance(timedelta(seconds=14.9))  # a stops renewing (stalled or killed)
    assert not b.acquire("rules") and a.holds("rules")
    clock.advance(timedelta(seconds=0.2))  # 15 s after the last renewal
    assert not a.holds("rules") and a.held() == set()  # a knows by itself that it may no longer run the job
    assert b.acquire("rules") and b.token("rules") == 2
    assert a.renew() == {"source:gov-rss"}  # the taken one is dropped; the other, expired but untaken, is kept
    assert a.holds("source:gov-rss") and not a.holds("rules")
    assert not a.acquire("rules")


def test_the_race_to_take_a_lease_has_one_winner(db) -> None:
    clock = ManualClock(T0)
    contenders = [Leases(db, f"w{i}", ttl=15, clock=clock) for i in range(6)]
    for round_ in range(4):  # round 0: the row does not exist (INSERT race); then it exists and has expired
        start = threading.Barrier(len(contenders))
        won: list[str] = []

        def go(lease: Leases) -> None:
            start.wait()
            if lease.acquire("deadlines"):
                won.append(lease.holder)

        threads = [threading.Thread(target=go, args=(c,)) for c in contenders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(won) == 1, f"round {round_}: {won}"
        assert [r["holder"] for r in contenders[0].table()] == won
        clock.advance(timedelta(seconds=16))


def test_holder_ids_name_host_and_process() -> None:
    a, b = holder_id(), holder_id()
    assert a != b and a.split(":")[1] == str(os.getpid()) and len(a.split(":")) == 3


HOLDER = """
import sys, time
from opinion_desk.state import StateDB
from opinion_desk.state.leases import Leases
db = StateDB(sys.argv[1])
leases = Leases(db, "victim", ttl=float(sys.argv[2]))
assert leases.acquire("rules")
print("held", flush=True)
while True:
    time.sleep(float(sys.argv[2]) / 3)
    leases.renew()
"""


def test_a_killed_holder_is_replaced_within_ttl_and_one_renewal(db, tmp_path) -> None:
    ttl = 1.5
    p = subprocess.Popen([sys.executable, "-c", HOLDER, db.url, str(ttl)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "held"
        b = Leases(db, "survivor", ttl=ttl)
        time.sleep(ttl * 1.5)  # the holder renews: nobody else gets it
        assert not b.acquire("rules")
        os.kill(p.pid, signal.SIGKILL)
        killed = time.monotonic()
        while not b.acquire("rules"):
            assert time.monotonic() - killed < ttl + ttl / 3 + 1.0, "no take-over within TTL + one renewal"
            time.sleep(ttl / 3)
        assert [r["holder"] for r in b.table()] == ["survivor"]
    finally:
        p.kill()
        p.wait()
