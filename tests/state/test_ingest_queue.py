"""The ingest queue on SQLite and PostgreSQL: durable put, claims that never overlap (workers in threads), done,
release, and rows of a dead worker claimed again once its claim expires."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


from opinion_desk.state import StateDB
from opinion_desk.state.ingest_queue import IngestQueue

T0 = datetime(2024, 6, 18, 2, 0, tzinfo=timezone.utc)




def posts(n: int, start: int = 0) -> list[dict]:
    return [{"id": f"p{i}", "source": "api", "text": f"帖子 {i}"} for i in range(start, start + n)]


def test_put_claim_done_oldest_first(db) -> None:
    now = [T0]
    q = IngestQueue(db, clock=lambda: now[0])
    ids = q.put(posts(5))
    assert len(ids) == 5 and q.depth() == {"waiting": 5, "claimed": 0}
    again = IngestQueue(StateDB(db.url), clock=lambda: now[0])  # another process sees them: they are committed
    got = again.claim(3, "w1", lease_seconds=60)
    assert [g.post["id"] for g in got] == ["p0", "p1", "p2"] and all(g.attempts == 1 for g in got)
    assert q.depth() == {"waiting": 2, "claimed": 3}
    assert [g.post["id"] for g in q.claim(10, "w2")] == ["p3", "p4"]  # the rest only
    assert q.claim(10, "w3") == []
    assert q.done([g.id for g in got]) == 3
    assert q.depth() == {"waiting": 0, "claimed": 2}
    again.db.dispose()


def test_a_dead_workers_claim_expires_and_release_hands_back_at_once(db) -> None:
    now = [T0]
    q = IngestQueue(db, clock=lambda: now[0])
    q.put(posts(4))
    dead = q.claim(2, "worker-killed", lease_seconds=30)
    kept = q.claim(2, "worker-alive", lease_seconds=30)
    now[0] += timedelta(seconds=29)
    assert q.claim(10, "w3") == []
    q.release([kept[1].id])  # could not store this one: someone else may take it now
    assert [g.post["id"] for g in q.claim(10, "w3")] == ["p3"]
    now[0] += timedelta(seconds=2)  # the killed worker's claim has expired
    redo = q.claim(10, "w4", lease_seconds=30)
    assert [g.post["id"] for g in redo] == ["p0", "p1", "p2"]  # p2: worker-alive's claim expired too
    assert [g.attempts for g in redo] == [2, 2, 2]
    assert {g.id for g in redo} >= {g.id for g in dead}


def test_concurrent_workers_never_claim_the_same_post(db) -> None:
    q = IngestQueue(db)
    q.put(posts(300))
    seen: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        start.wait()
        while True:
            batch = q.claim(7, name, lease_seconds=120)
            if not batch:
                return
            with lock:
                seen.extend(g.post["id"] for g in batch)
            q.done([g.id for g in batch])

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 300 and set(seen) == {f"p{i}" for i in range(300)}
    assert q.depth() == {"waiting": 0, "claimed": 0}
