"""The state-database primitives that let several desk processes share work, measured against a plain insert.

For each state database (a SQLite file, and PostgreSQL: the test server of tests/pg_fixture.py unless
``--pg URL``), in one run:

- baseline: web processes' ``IngestQueue.put`` (batches of 100), posts per second;
- the ingest queue drained by 1 and by 2 worker processes (``claim(100)`` + ``done``), posts per second;
- the rule feed appended by 1 and by 2 worker processes (batches of 50; appends are serialised by design), posts
  per second.

Prints each rate and its ratio to the baseline, and 2 workers / 1 worker. Nothing here analyses or stores posts:
it shows whether the queue and the feed could be the bottleneck of the ingest path (they are not when their rates
are far above the pipeline's). Usage: ``python -m bench.work_sharing [--posts 6000] [--pg URL]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opinion_desk.state import StateDB  # noqa: E402
from opinion_desk.state.ingest_queue import IngestQueue  # noqa: E402
from opinion_desk.state.rule_feed import RuleFeed  # noqa: E402


def post(i: int) -> dict:
    return {"id": f"p{i}", "source": "api", "source_id": str(i), "text": f"化工厂 第{i}条 帖子 " * 4,
            "created_at": "2024-06-18T02:00:00+00:00"}


def _drain(url: str, holder: str, go: mp.Event, out: mp.Queue) -> None:
    db = StateDB(url)
    q = IngestQueue(db)
    q.depth()  # connected before the clock starts
    n = 0
    go.wait()
    while batch := q.claim(100, holder, 300):
        q.done([b.id for b in batch])
        n += len(batch)
    out.put((n, time.time()))
    db.dispose()


def _append(url: str, start: int, count: int, go: mp.Event, out: mp.Queue) -> None:
    db = StateDB(url)
    feed = RuleFeed(db)
    feed.head()
    go.wait()
    for i in range(start, start + count, 50):
        feed.append([post(j) for j in range(i, min(i + 50, start + count))])
    out.put((count, time.time()))
    db.dispose()


def _run(target, argsets: list[tuple]) -> float:  # noqa: ANN001
    """Posts per second from the common start (processes already up and connected) to the last one's end."""
    ctx = mp.get_context("spawn")
    out, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*a, go, out)) for a in argsets]
    for p in procs:
        p.start()
    time.sleep(3)  # spawn, imports, connections
    t0 = time.time()
    go.set()
    got = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return sum(n for n, _ in got) / (max(t for _, t in got) - t0)


def measure(url: str, n: int) -> dict[str, float]:
    db = StateDB(url)
    db.upgrade()
    q = IngestQueue(db)
    rates: dict[str, float] = {}
    t0 = time.perf_counter()
    for i in range(0, n, 100):
        q.put([post(j) for j in range(i, min(i + 100, n))])
    rates["put (baseline)"] = n / (time.perf_counter() - t0)
    rates["drain, 1 worker"] = _run(_drain, [(url, "w1")])
    for i in range(0, n, 100):  # refill for the 2-worker round (not timed)
        q.put([post(j) for j in range(i, min(i + 100, n))])
    rates["drain, 2 workers"] = _run(_drain, [(url, "w1"), (url, "w2")])
    rates["feed append, 1 worker"] = _run(_append, [(url, 0, n)])
    rates["feed append, 2 workers"] = _run(_append, [(url, n, n // 2), (url, n + n // 2, n - n // 2)])
    db.dispose()
    return rates


def report(name: str, rates: dict[str, float]) -> None:
    base = rates["put (baseline)"]
    print(f"\n{name}")
    for k, v in rates.items():
        print(f"  {k:<24} {v:9.0f} posts/s   {v / base:5.2f}x baseline")
    print(f"  drain 2/1 workers: {rates['drain, 2 workers'] / rates['drain, 1 worker']:.2f}x   "
          f"feed append 2/1 workers: {rates['feed append, 2 workers'] / rates['feed append, 1 worker']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=6000, help="posts per round (default 6000)")
    ap.add_argument("--pg", help="a PostgreSQL server URL (default: the test server, started when needed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite (WAL)", measure(f"sqlite:///{Path(tmp) / 'state.db'}", args.posts))
    from tests.pg_fixture import create_database, drop_database, ensure_server

    url = create_database(args.pg.rstrip("/") if args.pg else ensure_server(), prefix="bench")
    try:
        report("PostgreSQL", measure(url, args.posts))
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
