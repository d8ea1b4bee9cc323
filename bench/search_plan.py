"""A common word's search page on the embedded store, the new plan against the old one in the same run (so a loaded
machine slows both alike), on the SQLite file bench/dashboard_scale.py keeps:

    .venv/bin/python bench/search_plan.py [--posts 1000000 2000000] [--repeat 15]

Per sort and page: the old plan (exact COUNT of every match + ORDER BY over every match) and the new one (count up
to 10,000 + a walk of the time or reach index, opinion_desk/store/sqlite_search.py), interleaved call by call; p50
and p95 in ms and the ratio new/old of the p95. Also the event summary (opinion_desk/web/events.py) computed
(cold) and answered from its cache. With two sizes, the ratio larger/smaller of each new p95 (same run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CACHE = REPO / ".cache" / "dashboard_scale"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def measure(n: int, repeat: int, common: str) -> dict[str, float]:
    """label -> the new plan's p95 (ms) on the file of ``n`` posts; prints the table."""
    from zoneinfo import ZoneInfo

    from opinion_desk.store import sqlite_search
    from opinion_desk.store.base import PostQuery
    from opinion_desk.store.sqlite import SQLiteStore
    from opinion_desk.web.events import SummaryCache, event_summary

    db = CACHE / f"sqlite-{n}" / "var" / "posts.db"
    if not db.is_file():
        raise SystemExit(f"bench: no {db}; run bench/dashboard_scale.py --posts {n} --store sqlite first")
    out: dict[str, float] = {}
    s = SQLiteStore(db, background_upgrade=False)
    run, sql = s._query, s._sql
    n_posts = run("SELECT MAX(rowid) FROM posts", ())[0][0]
    print(f"\n{n:,} posts, word {common!r}, load {os.getloadavg()[0]:.1f}")

    def old(q: PostQuery) -> int:
        total = s.count(q)
        sqlite_search.page_docs(run, sql, q, total, 1 << 62)  # never walks: ORDER BY over every match
        return total

    def new(q: PostQuery) -> int:
        total = sqlite_search.capped_count(run, sql, q, s.total_cap)
        sqlite_search.page_docs(run, sql, q, total, n_posts)
        return total

    print(f"{'call':28} {'old p50':>8} {'old p95':>8} {'new p50':>8} {'new p95':>8} {'new/old':>8}")
    for label, q in (("relevance p1", PostQuery(text=common, sort="relevance")),
                     ("newest p1", PostQuery(text=common, sort="newest")),
                     ("reach p1", PostQuery(text=common, sort="reach")),
                     ("relevance p5", PostQuery(text=common, sort="relevance", offset=80)),
                     ("newest p50", PostQuery(text=common, sort="newest", offset=980))):
        times: dict[str, list[float]] = {"old": [], "new": []}
        for k in range(repeat + 1):
            for name, fn in (("old", old), ("new", new)) if k % 2 else (("new", new), ("old", old)):
                t = time.perf_counter()
                fn(q)
                if k:
                    times[name].append((time.perf_counter() - t) * 1000)
        o, n = times["old"], times["new"]
        print(f"{label:28} {statistics.median(o):8.1f} {pct(o, 95):8.1f} {statistics.median(n):8.1f} "
              f"{pct(n, 95):8.1f} {pct(n, 95) / pct(o, 95):8.2f}", flush=True)
        out[label] = pct(n, 95)

    zone, cold, warm = ZoneInfo("Asia/Shanghai"), [], []
    cache = SummaryCache()
    for k in range(repeat):
        t = time.perf_counter()
        event_summary(s, f"ev{200 + k:03d}", zone, cache)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        event_summary(s, f"ev{200 + k:03d}", zone, cache)
        warm.append((time.perf_counter() - t) * 1000)
    print(f"{'event summary cold/cached':28} {statistics.median(cold):8.1f} {pct(cold, 95):8.1f} "
          f"{statistics.median(warm):8.1f} {pct(warm, 95):8.1f} {pct(warm, 95) / pct(cold, 95):8.2f}")
    out["event summary cold"], out["event summary cached"] = pct(cold, 95), pct(warm, 95)
    print(f"load after: {os.getloadavg()[0]:.1f}")
    s.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    with open(CACHE / "templates.jsonl", encoding="utf-8") as f:
        common = Counter(k for t in map(json.loads, f) for k in set(t["keywords"])).most_common(1)[0][0]
    res = {n: measure(n, a.repeat, common) for n in a.posts}
    if len(a.posts) > 1:
        lo, hi = a.posts[0], a.posts[-1]
        print(f"\nnew plan p95, {hi:,} / {lo:,} posts (same run):")
        for label in res[lo]:
            print(f"  {label:28} {res[lo][label]:8.1f} {res[hi][label]:8.1f} {res[hi][label] / res[lo][label]:8.2f}")


if __name__ == "__main__":
    main()
