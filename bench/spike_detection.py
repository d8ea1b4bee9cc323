"""Spike detection on real repost cascades laid on one simulated timeline.

How the timeline is built (printed again at the end of a run):
- Background: ``--days`` simulated days of quiet traffic, a Poisson process whose rate follows a daily rhythm
  (night 0.15/min, day peak ``--peak`` posts/min, smooth in between), seeded.
- Cascades: real Weibo repost cascades from ``../shared/data/weibo/event_streams_dev.jsonl`` (each a root post and
  its reposts with timestamps). A cascade's *burst start* is the first post of the first 10-minute window that
  holds at least ``--burst`` of its posts; cascades that never burst that hard are not used. Each chosen
  cascade is shifted so that its burst start falls at a known offset (random, at least 5 h apart, seeded), and
  its posts from 1 h before to 6 h after the burst start are laid over the background.
- Rule: ``spike`` over all posts, timeframe 10 min, 3x the median of the previous six 10-minute windows, at
  least ``--min-count`` posts (the shipped 声量突增 shape, with a baseline suited to a 3-day replay).
- Ours: each post is evaluated as it arrives (event-time clock) and window rules tick every 10 s.
  Baseline: the same rule evaluated ElastAlert-style, polling once a minute over the posts of the last minute.
- A match within [burst start - 5 min, burst start + 60 min] detects that cascade (delay = match - burst start);
  any other match is a false alarm.

Run: .venv/bin/python bench/spike_detection.py [--days 3 --cascades 12]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opinion_desk.detection.clock import ManualClock  # noqa: E402
from opinion_desk.detection.engine import Engine  # noqa: E402
from opinion_desk.detection.loader import LoadedRule, build, parse_rule  # noqa: E402
from opinion_desk.models import Post  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "weibo" / "event_streams_dev.jsonl"
T0 = datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)
RULE = """
name: 声量突增
type: spike
timeframe: 10m
spike_height: 3
threshold_cur: {min_count}
baseline: median
baseline_windows: 6
resolve_after: 30m
realert: 1h
"""


def burst_start(times: list[float], need: int) -> float | None:
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - 600:
            j += 1
        if i - j + 1 >= need:
            return times[j]
    return None


def load_cascades(need: int) -> list[tuple[str, list[float], float]]:
    out = []
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            times = sorted(float(p["ts"]) for p in ev["posts"])
            b = burst_start(times, need)
            if b is not None:
                out.append((ev["event_id"], [t - b for t in times if -3600 <= t - b <= 6 * 3600], b))
    return out


def background(days: int, peak: float, rng: random.Random) -> list[float]:
    times, t = [], 0.0
    end = days * 86400.0
    top = peak / 60.0
    while True:
        t += rng.expovariate(top)
        if t >= end:
            return times
        hour = (t / 3600.0) % 24
        rate = 0.15 / 60 + (top - 0.15 / 60) * max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.15 / 60
        if rng.random() < rate / top:
            times.append(t)


def rule(min_count: int) -> LoadedRule:
    spec = parse_rule(RULE.format(min_count=min_count), "bench/spike.yaml")
    return LoadedRule(spec=spec, rtype=build(spec), path="bench/spike.yaml", digest="")


def run_ours(posts: list[Post], min_count: int) -> list[datetime]:
    hits: list[datetime] = []
    clock = ManualClock(posts[0].created_at)
    eng = Engine(clock=clock, sink=lambda m, s: hits.append(m.time) if m.kind == "match" else None)
    eng.add_rule(rule(min_count))
    tick = posts[0].created_at + timedelta(seconds=10)
    for p in posts:
        while p.created_at >= tick:
            clock.set(tick)
            eng.tick(tick)
            tick += timedelta(seconds=10)
        clock.set(p.created_at)
        eng.on_posts([p])
    return hits


def run_polling(posts: list[Post], min_count: int) -> list[datetime]:
    """ElastAlert-style: every minute, query the posts of the last minute, then evaluate."""
    hits: list[datetime] = []
    clock = ManualClock(posts[0].created_at)
    eng = Engine(clock=clock, sink=lambda m, s: hits.append(m.time) if m.kind == "match" else None)
    eng.add_rule(rule(min_count))
    poll = posts[0].created_at + timedelta(minutes=1)
    batch: list[Post] = []
    for p in posts + [None]:  # type: ignore[list-item]
        while p is None and batch or (p is not None and p.created_at >= poll):
            clock.set(poll)
            if batch:
                eng.on_posts(batch)
                batch = []
            eng.tick(poll)
            poll += timedelta(minutes=1)
            if p is None:
                break
        if p is None:
            break
        batch.append(p)
    return hits


def score(hits: list[datetime], bursts: list[datetime], days: int) -> tuple[list[float], int, int]:
    delays, false_alarms, detected = [], 0, set()
    for h in hits:
        for i, b in enumerate(bursts):
            if b - timedelta(minutes=5) <= h <= b + timedelta(minutes=60):
                if i not in detected:
                    detected.add(i)
                    delays.append(max(0.0, (h - b).total_seconds() / 60))
                break
        else:
            false_alarms += 1
    return delays, false_alarms, len(detected)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--cascades", type=int, default=12)
    ap.add_argument("--peak", type=float, default=1.5, help="background posts per minute at the daily peak")
    ap.add_argument("--burst", type=int, default=40, help="cascade posts within 10 min that make a burst")
    ap.add_argument("--min-count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found")
    rng = random.Random(a.seed)
    cascades = load_cascades(a.burst)
    chosen = rng.sample(cascades, min(a.cascades, len(cascades)))
    span = a.days * 86400
    offsets: list[float] = []
    while len(offsets) < len(chosen):
        o = rng.uniform(2 * 3600, span - 7 * 3600)
        if all(abs(o - x) >= 5 * 3600 for x in offsets):
            offsets.append(o)
        if len(offsets) < len(chosen) and rng.random() < 0.001:
            offsets = []  # rare restart when the draws crowd
    posts: list[Post] = []
    for i, t in enumerate(background(a.days, a.peak, rng)):
        posts.append(Post(source="bg", source_id=f"bg{i}", text="日常信息", created_at=T0 + timedelta(seconds=t)))
    bursts = []
    for (eid, rel, _b), off in zip(chosen, offsets):
        bursts.append(T0 + timedelta(seconds=off))
        for k, r in enumerate(rel):
            if 0 <= off + r < span:
                posts.append(Post(source="weibo", source_id=f"{eid}-{k}", text="转发", created_at=T0 + timedelta(seconds=off + r)))
    posts.sort(key=lambda p: p.created_at)
    print(f"timeline: {a.days} days, {len(posts)} posts ({len(posts) - sum(len(c[1]) for c in chosen)} background), "
          f"{len(chosen)} of {len(cascades)} bursting cascades (>= {a.burst} posts in 10 min) at known offsets")
    for name, fn in (("ours (as posts arrive + 10 s tick)", run_ours), ("baseline (ElastAlert-style 1-min poll)", run_polling)):
        hits = fn(posts, a.min_count)
        delays, fa, n = score(hits, bursts, a.days)
        med = statistics.median(delays) if delays else float("nan")
        print(f"{name:40s} detected {n}/{len(bursts)}  median delay {med:.2f} min  "
              f"p90 {sorted(delays)[int(0.9 * (len(delays) - 1))] if delays else float('nan'):.2f} min  "
              f"false alarms {fa} ({fa / a.days:.2f}/day)")
        if name.startswith("ours"):
            ours = med
        else:
            print(f"median delay ratio ours/baseline: {ours / med:.2f}" if med else "")
    print("goal: median delay <= 5 min, <= 1 false alarm per simulated day")


if __name__ == "__main__":
    main()
