"""The eval's replay of the shipped rumour rule (rules/30-rumour.yaml) on a tiny synthetic stream: real analyzer,
real rule file, real Engine and AlertBook."""

from __future__ import annotations

from collections import Counter

from analyzers import Analyzer
from analyzers.live_rumour_eval import EVERYDAY, live_rule_figures, live_stream, replay_live_rule

T0 = 1_700_000_000.0
CLAIMS = ["听说青山水库要泄洪了，内部消息，大家快转", "听说青山水库大坝裂了，内部消息，赶紧转",
          "听说水库要泄洪，朋友在水利局说的，大家快转", "朋友圈都在传青山水库要垮了，听说是真的",
          "听说青山水库要泄洪了，内部消息，大家快转"]
NOTICE = ["县文化馆周六举办书法展，欢迎市民参观", "书法展的作品真不错", "我也去看了书法展", "周末带孩子去看书法展"]
EVERYDAY_TEXTS = ["今天天气不错，和朋友去公园散步[太阳]", "晚饭吃了火锅，很开心", "图书馆新书上架了，周末去看看",
                  "早上跑了五公里，舒服", "新买的绿萝长得挺好"]


def cascade(eid: str, texts: list[str], start: float) -> list[dict]:
    """A root and its reposts, as :func:`analyzers.evaluate.cascade_stream` delivers them (own words + repost_of)."""
    out = []
    for i, t in enumerate(texts):
        p = {"id": f"{eid}{i}", "mid": f"{eid}{i}", "text": t, "ts": start + 240 * i, "event": eid}
        if i:
            p["repost_of"] = f"{eid}0"
        out.append(p)
    return out


def test_everyday_posts_are_spread_evenly_over_the_cascades_windows() -> None:
    posts = cascade("R", CLAIMS, T0)
    windows = [(T0, T0 + 3600), (T0 + 7200, T0 + 10800)]
    everyday = [{"id": str(i), "text": EVERYDAY_TEXTS[i % 5]} for i in range(20)]
    stream = live_stream(posts, windows, everyday)
    days = [p for p in stream if p["event"] == EVERYDAY]
    assert len(stream) == 25 and len(days) == 20
    assert [p["ts"] for p in stream] == sorted(p["ts"] for p in stream)
    assert Counter(p["ts"] < T0 + 3600 for p in days) == {True: 10, False: 10}
    assert all(any(a <= p["ts"] < b for a, b in windows) for p in days)


def test_the_shipped_rule_alerts_the_spreading_claim_and_nothing_else() -> None:
    posts = cascade("R", CLAIMS, T0) + cascade("N", NOTICE, T0 + 7200)
    windows = [(T0, T0 + 3600), (T0 + 7200, T0 + 10800)]
    everyday = [{"id": str(i), "text": EVERYDAY_TEXTS[i % 5]} for i in range(20)]
    replay = replay_live_rule(live_stream(posts, windows, everyday), Analyzer().load())
    assert replay["posts"] == 29
    assert [a["owner"] for a in replay["alerts"]] == ["R"]
    assert replay["alerts"][0]["events"]["R"] == 5
    f = live_rule_figures(replay, ["R"], ["N"])
    assert f["alerted_cascades"] == 1 and f["recall"] == 1.0 and f["precision"] == 1.0
    assert f["on_everyday_posts"] == 0 and f["on_non_rumour_cascades"] == 0 and f["notices"] == 1


def test_figures_count_alerts_by_the_cascade_or_everyday_posts_they_belong_to() -> None:
    alerts = [{"owner": "R1"}, {"owner": "R1"}, {"owner": "N1"}, {"owner": EVERYDAY}]
    f = live_rule_figures({"alerts": alerts, "notices": 5, "posts": 100}, ["R1", "R2"], ["N1"])
    assert (f["alerts"], f["true_alerts"], f["on_non_rumour_cascades"], f["on_everyday_posts"]) == (4, 2, 1, 1)
    assert f["alerted_cascades"] == 1 and f["recall"] == 0.5 and f["precision"] == 0.5
    assert live_rule_figures({"alerts": [], "notices": 0, "posts": 0}, ["R1"], [])["precision"] == 0.0
