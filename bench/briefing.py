"""Making a 舆情简报 on the embedded store, against the least any report of the same period must ask of it.

    PYTHONPATH=. .venv/bin/python bench/briefing.py [-n 200000] [--days 30] [--rounds 3]

A fresh SQLite store gets ``n`` synthetic posts over ``days`` days (30 topics, three sentiments) and a state database
a few alerts and incidents. For the last whole day and the last whole week it times, best of ``rounds``:

- baseline: ``store.count`` and one hourly ``date_histogram`` of the period (what a single chart needs);
- facts: :func:`opinion_desk.briefings.facts.gather` (every figure, the top events with first posts, the tables);
- make: :meth:`BriefingDesk.make` (facts, charts, .docx, HTML, files and the state row).

It prints each time and its ratio to the baseline of the same period, measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opinion_desk.briefings import BriefingDesk  # noqa: E402
from opinion_desk.briefings import facts, period  # noqa: E402
from opinion_desk.config import load_config  # noqa: E402
from opinion_desk.models import Post  # noqa: E402
from opinion_desk.state import StateDB  # noqa: E402
from opinion_desk.state.alerts import Alert  # noqa: E402
from opinion_desk.state.incidents import Incident  # noqa: E402
from opinion_desk.store import open_store  # noqa: E402
from opinion_desk.store.base import PostQuery  # noqa: E402

WORDS = "暴雨 地铁 停运 积水 学校 食堂 投诉 回应 政府 通报 网友 视频 现场 救援 医院 交通 事故 官方 辟谣 谣言".split()


def fill(store, db: StateDB, n: int, days: int, end: datetime) -> None:
    rnd = random.Random(7)
    start = end - timedelta(days=days)
    step = (end - start) / n
    batch: list[Post] = []
    for i in range(n):
        toks = rnd.choices(WORDS, k=12)
        batch.append(Post(source="weibo-search", source_id=str(i), text="".join(toks), created_at=start + step * i,
                          author=f"用户{rnd.randint(1, 900)}", platform="weibo", tokens=toks, keywords=toks[:3],
                          sentiment_label=rnd.choice(["neg", "neutral", "neutral", "pos"]),
                          topic_id=f"t{rnd.randint(1, 30)}", topic_label="/".join(toks[:3])))
        if len(batch) == 5000:
            store.index(batch)
            batch = []
    if batch:
        store.index(batch)
    store.refresh()
    with db.session_scope() as s:
        for i in range(days * 3):
            t = start + timedelta(hours=8 * i)
            s.add(Alert(id=f"A{i:06d}", rule="量突增", rule_type="spike", severity="medium", key="", status="open",
                        first_match=t, last_match=t, created_at=t, count=1, post_ids=[], duty={}, channels=[], details={}))
        for i in range(days):
            t = start + timedelta(days=i, hours=10)
            s.add(Incident(title=f"事件{i}", level="一般", opened_at=t, info_due=t + timedelta(hours=48),
                           first_info_at=t + timedelta(hours=3), status="published", keywords=[], contacts=[], escalated=[]))


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=200_000, help="posts in the store")
    ap.add_argument("--days", type=int, default=30, help="days they span (ending today)")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(path=None, env={}, overrides={"desk": {"data_dir": tmp}})
        db = StateDB(cfg.state_url())
        db.create_all()
        store = open_store(cfg, segment=str.split)
        tz = period.desk_zone(cfg)
        today = datetime.now(timezone.utc).astimezone(tz).date()
        t0 = time.perf_counter()
        fill(store, db, a.n, a.days, datetime.combine(today, datetime.min.time(), tz).astimezone(timezone.utc))
        print(f"{a.n:,} posts over {a.days} days indexed in {time.perf_counter() - t0:.1f} s (SQLite)")
        desk = BriefingDesk(cfg, store, db)
        for p in (period.day(today - timedelta(days=1), tz), period.week(today - timedelta(days=7), tz)):
            q = PostQuery(since=p.start, until=p.end)
            base = best(lambda: (store.count(q), store.date_histogram(q, "1h")), a.rounds)  # noqa: B023
            with db.session_scope() as s:
                gather = best(lambda: facts.gather(store, s, cfg, p), a.rounds)  # noqa: B023
            make = best(lambda: desk.make(p, "bench"), a.rounds)  # noqa: B023
            n = store.count(q)
            print(f"\n{p.title()}  ({n:,} posts)")
            print(f"  baseline count + hourly histogram  {base * 1000:8.1f} ms   1.0x")
            print(f"  facts.gather (every figure)        {gather * 1000:8.1f} ms  {gather / base:5.1f}x")
            print(f"  make (facts, charts, .docx, HTML)  {make * 1000:8.1f} ms  {make / base:5.1f}x")
        store.close()
        db.dispose()


if __name__ == "__main__":
    main()
