"""What the engine does with time: late posts, history, growth, resolution, baselines, samples."""

from __future__ import annotations

from datetime import timedelta

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine

from .helpers import T0, post, rule

FREQ = "name: 频次\ntype: frequency\ntimeframe: 10m\nnum_events: 5\nresolve_after: 10m\nfilter:\n  keywords: [积水]\n"
KEYWORD = "name: 词\ntype: keyword\nfilter:\n  keywords: [爆炸]\n"
SURGE = ("name: 负面情绪激增\ntype: sentiment_surge\ntimeframe: 10m\nmin_posts: 10\nreference: 2h\n"
         "min_reference_posts: 10\n")
FLAT = "name: 信息源静默\ntype: flatline\ntimeframe: 2h\nquery_key: source\n"


def engine(*texts: str, at=T0, **kw) -> tuple[Engine, ManualClock, list]:
    out: list = []
    clock = ManualClock(at)
    eng = Engine(clock=clock, sink=lambda m, spec: out.append(m), **kw)
    for i, t in enumerate(texts):
        eng.add_rule(rule(t, f"rules/r{i}.yaml"))
    return eng, clock, out


def flood(minute: float, n: int, gap: float = 0.2, **kw) -> list:
    return [post(minute + k * gap, "人民路积水", tokens=["人民路", "积水"], author=f"网友{k}", **kw) for k in range(n)]


def test_a_late_burst_counts_in_its_own_time_and_says_how_late() -> None:
    eng, clock, out = engine(FREQ, at=T0 + timedelta(minutes=60))
    eng.on_posts(flood(10, 6))  # posted 50 minutes ago, delivered now
    assert [m.kind for m in out] == ["match"]
    assert "迟到数据：晚到" in out[0].reason and out[0].details["lateness_seconds"] >= 48 * 60
    assert len(out[0].samples) == 5 and out[0].samples[0]["text"] == "人民路积水"
    for m in range(61, 80):  # it is not firing now: resolved after the hold-down, like any window rule
        clock.set(T0 + timedelta(minutes=m))
        eng.tick()
    assert [m.kind for m in out] == ["match", "resolved"]


def test_history_is_counted_but_raises_nothing_unless_asked() -> None:
    eng, clock, out = engine(FREQ, KEYWORD, at=T0 + timedelta(hours=5))
    old = flood(0, 8) + [post(3, "城南发生爆炸", tokens=["城南", "发生", "爆炸"])]
    eng.on_posts(old)
    eng.tick()
    assert out == []
    assert eng.rules["频次"].rtype.window.total("", T0, T0 + timedelta(minutes=10)) == 0  # pruned: too old to matter
    eng2, _, out2 = engine(FREQ, KEYWORD, at=T0 + timedelta(hours=5), alert_history=True)
    eng2.on_posts(old)
    assert sorted(m.rule for m in out2) == ["词", "频次"]


def test_a_growing_window_sends_updates_with_its_new_count() -> None:
    eng, clock, out = engine(FREQ)
    clock.set(T0 + timedelta(minutes=1))
    eng.on_posts(flood(0, 5))
    clock.set(T0 + timedelta(minutes=3))
    eng.on_posts(flood(2, 4))
    assert [(m.kind, m.value) for m in out] == [("match", 5), ("update", 9)]
    assert "9 条" in out[1].reason and out[1].samples


def test_frequency_resolves() -> None:
    eng, clock, out = engine(FREQ)
    eng.on_posts(flood(0, 5, gap=0))
    for m in range(1, 40):
        clock.set(T0 + timedelta(minutes=m))
        eng.tick()
    assert [m.kind for m in out] == ["match", "resolved"]


def test_sentiment_surge_waits_for_its_baseline_and_says_so() -> None:
    eng, clock, out = engine(SURGE)
    clock.set(T0 + timedelta(minutes=8))
    eng.on_posts([post(k * 0.5, "太差了", sentiment_label="neg") for k in range(15)])
    eng.tick()
    assert out == []  # eight minutes after a fresh start: no baseline, no "基线 0%"
    lr = eng.rules["负面情绪激增"]
    status = {r["name"]: r for r in eng.status()["rules"]}["负面情绪激增"]
    assert status["baseline"]["message"] == "基线数据不足，还需 2小时2分钟"
    assert eng.baseline(lr, T0 + timedelta(hours=2, minutes=10)) is None


def test_flatline_watches_only_sources_that_post_now() -> None:
    eng, clock, out = engine(FLAT, at=T0 + timedelta(days=30))
    backfill = [post(m, "旧帖", source=f"src{m % 20}") for m in range(0, 600, 3)]  # a month-old import
    eng.on_posts(backfill)
    for h in range(0, 5):
        clock.set(T0 + timedelta(days=30, hours=h))
        eng.tick()
    assert out == []  # no "信息源静默" for twenty sources the import mentioned
    live = post(30 * 24 * 60 + 5 * 60, "新帖", source="本地")
    clock.set(live.created_at)
    eng.on_posts([live])
    for h in range(1, 4):
        clock.set(live.created_at + timedelta(hours=h))
        eng.tick()
    assert [(m.rule, m.key) for m in out] == [("信息源静默", "本地")]
