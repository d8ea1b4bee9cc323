"""Rule-state saving with the shipped rules: tick time and bytes written per tick, incremental (only rules whose
state changed; new_term's known terms as row changes) against the old whole-state write (every windowed rule's
entire state as JSON every tick), measured in the same run on the same engine.

    python bench/rule_state.py [--posts 200000] [--ticks 30] [--per-tick 40]

The posts are synthetic (seeded): keywords from a Zipf-distributed vocabulary of 300,000 words (so 新词爆发 learns as
many terms as a busy desk does), authors, sources and sentiment at random, rumour scores distributed as the shipped
model scores everyday posts, spread over two days of event time, a third of them reposts of a recent post; then each
tick adds ``--per-tick`` posts (about 4 posts/s at the 10 s tick; ``--per-tick 5000`` is 500 posts/s) and runs the
engine's tick. Last, each rule's saved state size.
Also shows that an import (no ticks) keeps the windows pruned: the windows' key count after the load.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opinion_desk.detection.clock import ManualClock  # noqa: E402
from opinion_desk.detection.engine import Engine  # noqa: E402
from opinion_desk.models import Post  # noqa: E402
from opinion_desk.state import StateDB  # noqa: E402
from opinion_desk.state.alerts import RuleState  # noqa: E402

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
WATCH = ["爆炸", "火灾", "塌方", "中毒", "坠楼", "维权", "讨薪", "疫情", "停水", "拆迁"]


class Posts:
    def __init__(self, seed: int, vocab: int = 300_000) -> None:
        self.rng = random.Random(seed)
        weights = [1 / (i + 1) ** 1.05 for i in range(vocab)]
        self.words = [f"词{i:06d}" for i in range(vocab)]
        self.cum = list(_accumulate(weights))
        self.n = 0

    def make(self, t: datetime) -> Post:
        rng = self.rng
        kws = list(dict.fromkeys(rng.choices(self.words, cum_weights=self.cum, k=5)))
        if rng.random() < 0.02:
            kws.append(rng.choice(WATCH))
        self.n += 1
        # a third of the posts repost one of the last 2,000 (Weibo's retweeted_status), so the rumour rule follows
        # cascades as a desk's does
        repost_of = f"m{self.n - rng.randrange(1, 2000)}" if self.n > 2000 and rng.random() < 0.33 else ""
        return Post(source_id=str(self.n), mid=f"m{self.n}", repost_of=repost_of,
                    source=rng.choice(["weibo", "wechat", "news", "county-gov"]),
                    text="".join(kws), created_at=t, tokens=kws, keywords=kws, author=f"u{rng.randrange(50_000)}",
                    sentiment_label=rng.choice(["neg", "neutral", "neutral", "pos"]),
                    rumour_score=round(everyday_rumour_score(rng.random()), 3), region=rng.choice(["青山县", "东城区", ""]),
                    hashtags=[f"#{kws[0]}#"] if rng.random() < 0.1 else [])


# the shipped text model's rumour scores of everyday posts (every 5th row of sentiment_dev.jsonl, 11,433 posts,
# measured 2026-11-26): quantiles, so that claims (>= 0.5) are ~15 % of posts as on a desk, not half
SCORE_QUANTILES = [(0.0, 0.0), (0.1, 0.061), (0.25, 0.119), (0.5, 0.230), (0.75, 0.396), (0.9, 0.580), (0.95, 0.687),
                   (0.99, 0.850), (1.0, 1.0)]


def everyday_rumour_score(u: float) -> float:
    """The score at quantile ``u`` (0..1) of :data:`SCORE_QUANTILES`, linear between them."""
    for (p0, v0), (p1, v1) in zip(SCORE_QUANTILES, SCORE_QUANTILES[1:]):
        if u <= p1:
            return v0 + (v1 - v0) * (u - p0) / (p1 - p0)
    return 1.0


def _accumulate(xs: list[float]) -> list[float]:
    out, s = [], 0.0
    for x in xs:
        s += x
        out.append(s)
    return out


class Meter:
    """Bytes of statement parameters sent to the state database (what the save writes)."""

    def __init__(self, db: StateDB) -> None:
        from sqlalchemy import event

        self.bytes = 0
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, params, context, executemany) -> None:  # noqa: ANN001
        rows = params if executemany else [params]
        for row in rows:
            for v in (row.values() if isinstance(row, dict) else row or ()):
                self.bytes += len(v.encode()) if isinstance(v, str) else len(v) if isinstance(v, bytes) else 8


def _rss_mb() -> float:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def old_save(eng: Engine, db: StateDB) -> None:
    """The save as it was: every windowed rule's whole state (new_term's every known term included) as JSON
    (into its own database, so that the two ways never read each other's rows)."""
    now = eng.clock()
    with db.session_scope() as s:
        for lr in eng.by_path.values():
            if not lr.rtype.windowed:
                continue
            row = s.get(RuleState, lr.spec.name) or RuleState(rule=lr.spec.name, rule_type=lr.spec.type)
            row.rule_type, row.state = lr.spec.type, lr.rtype.state()
            row.active, row.updated_at = dict(eng.active.get(lr.spec.name, {})), now
            s.merge(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000, help="posts loaded before the ticks are measured")
    ap.add_argument("--ticks", type=int, default=30)
    ap.add_argument("--per-tick", type=int, default=40, help="posts added before each tick")
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-rule-state-"))
    db = StateDB(f"sqlite:///{tmp / 'state.db'}")
    db.create_all()
    clock = ManualClock(T0)
    eng = Engine(ROOT / "rules", clock=clock, statedb=db)
    eng.reload()
    gen = Posts(15)
    span = timedelta(days=2)
    step = span / a.posts
    t = T0
    started = time.perf_counter()
    rss = []
    for i in range(0, a.posts, 500):
        batch = []
        for _ in range(min(500, a.posts - i)):
            t += step
            batch.append(gen.make(t))
        clock.set(t)
        eng.on_posts(batch)
        if (i // 500 + 1) % max(1, a.posts // 2000) == 0:
            rss.append(_rss_mb())
    load_s = time.perf_counter() - started
    print("RSS (MB) at each quarter of the load (windows pruned as posts arrive, no ticks): "
          + ", ".join(f"{x:.0f}" for x in rss))
    keys = {lr.spec.name: len(list(lr.rtype.tracked_keys())) for lr in eng.by_path.values() if lr.rtype.windowed}
    eng.tick()  # the first save writes everything once (both ways)
    nt = next(lr.rtype for lr in eng.by_path.values() if lr.spec.type == "new_term")
    print(f"{a.posts} posts loaded in {load_s:.1f} s with {len(eng.by_path)} shipped rules; "
          f"新词爆发 knows {len(nt.last_seen)} terms; tracked keys per window rule after the load: {keys}")

    meter = Meter(db)
    old_db = StateDB(f"sqlite:///{tmp / 'old-state.db'}")
    old_db.create_all()
    old_save(eng, old_db)  # its first save too
    old_meter = Meter(old_db)
    save_time = [0.0]
    real_save = eng.save_state

    def timed_save() -> None:
        s0 = time.perf_counter()
        real_save()
        save_time[0] += time.perf_counter() - s0

    eng.save_state = timed_save  # type: ignore[method-assign]
    new_tick, new_save, new_bytes, old_saves, old_bytes, evals = [], [], [], [], [], []
    for _ in range(a.ticks):
        batch = []
        for _ in range(a.per_tick):
            t += timedelta(seconds=10) / a.per_tick
            batch.append(gen.make(t))
        clock.set(t)
        eng.on_posts(batch)
        save_time[0], meter.bytes = 0.0, 0
        s0 = time.perf_counter()
        eng.tick()
        new_tick.append(time.perf_counter() - s0)
        new_save.append(save_time[0])
        new_bytes.append(meter.bytes)
        evals.append(new_tick[-1] - save_time[0])
        old_meter.bytes = 0
        s0 = time.perf_counter()
        old_save(eng, old_db)
        old_saves.append(time.perf_counter() - s0)
        old_bytes.append(old_meter.bytes)

    med = statistics.median
    old_tick = [e + o for e, o in zip(evals, old_saves)]
    print(f"per tick ({a.ticks} ticks, {a.per_tick} new posts each), medians:")
    print(f"  incremental  tick {med(new_tick) * 1000:7.1f} ms (save {med(new_save) * 1000:6.1f} ms)  "
          f"written {med(new_bytes) / 1024:9.1f} KiB")
    print(f"  whole state  tick {med(old_tick) * 1000:7.1f} ms (save {med(old_saves) * 1000:6.1f} ms)  "
          f"written {med(old_bytes) / 1024:9.1f} KiB")
    print(f"  ratio (whole / incremental): tick {med(old_tick) / med(new_tick):.1f}x, "
          f"save {med(old_saves) / max(med(new_save), 1e-9):.1f}x, bytes {med(old_bytes) / max(med(new_bytes), 1):.0f}x")
    sizes = sorted(((len(json.dumps(lr.rtype.saved_state(), ensure_ascii=False).encode()), lr.spec.name, lr.spec.type)
                    for lr in eng.by_path.values() if lr.rtype.windowed), reverse=True)
    print("saved JSON state per rule after the ticks (largest first): "
          + ", ".join(f"{name} ({typ}) {size / 1024:.0f} KiB" for size, name, typ in sizes[:6]))


if __name__ == "__main__":
    main()
