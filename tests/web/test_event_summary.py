"""The event page's summary (opinion_desk/web/events.py): read once, then answered from its cache until the event
gains a post."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from opinion_desk.models import Post
from opinion_desk.store.sqlite import SQLiteStore
from opinion_desk.web.events import SummaryCache, event_summary

T0 = datetime(2026, 5, 1, 8, tzinfo=timezone.utc)
ZONE = ZoneInfo("Asia/Shanghai")


def mk(i: int, minutes: int, text: str = "化工园区 发生 爆炸") -> Post:
    return Post(source="weibo", source_id=str(i), text=text, tokens=text.split(), author=f"网友{i}",
                created_at=T0 + timedelta(minutes=minutes), collected_at=T0, topic_id="ev1", topic_label="园区爆炸")


def test_summary_is_cached_until_the_event_changes(tmp_path) -> None:  # noqa: ANN001
    store = SQLiteStore(tmp_path / "p.db", segment=str.split)
    cache = SummaryCache(size=2)
    try:
        store.index([mk(1, 0), mk(2, 5, "转发 //@网友1: 化工园区 发生 爆炸"), mk(3, 9)])
        a = event_summary(store, "ev1", ZONE, cache)
        assert a is not None and a["total"] == 3 and a["first"]["author"] == "网友1" and a["label"] == "园区爆炸"
        assert event_summary(store, "ev1", ZONE, cache) is a  # nothing changed: the same summary
        store.index([mk(4, 30)])  # a new post of the event
        b = event_summary(store, "ev1", ZONE, cache)
        assert b is not a and b["total"] == 4 and b["last_time"] == "2026-05-01 16:30"
        store.index([mk(2, 5, "改过的 正文")])  # a rewrite of an older post changes neither count nor newest post
        assert event_summary(store, "ev1", ZONE, cache) is b
        assert event_summary(store, "ev1", ZoneInfo("Asia/Tokyo"), cache)["last_time"] == "2026-05-01 17:30"
        assert event_summary(store, "no-such-event", ZONE, cache) is None
    finally:
        store.close()


def test_a_large_event_draws_its_earliest_posts_and_counts_every_post(tmp_path) -> None:  # noqa: ANN001
    from dataclasses import replace

    from opinion_desk.web.events import MAX_POSTS

    store = SQLiteStore(tmp_path / "p.db", segment=str.split)
    try:
        posts = [mk(i, i // 4) for i in range(1300)]  # four posts a minute for about five and a half hours
        posts[1200] = replace(posts[1200], author="大V", author_type="verified", reposts=5000)  # a late big spreader
        store.index(posts)
        s = event_summary(store, "ev1", ZONE, SummaryCache())
        assert MAX_POSTS < 1300 and s["posts"] == MAX_POSTS and s["total"] == 1300
        assert sum(b["n"] for b in s["timeline"]) == 1300 == s["timeline"][-1]["total"]
        assert s["timeline"][0]["t"] == "05-01 16:00" and s["timeline"][1]["t"] == "05-01 16:30"  # 30-minute steps
        assert s["last_time"] == "2026-05-01 21:24"  # the newest post of all, not of those drawn
        top = s["spreaders"][0]  # the key spreaders are of every post: the late 大V leads
        assert (top["author"], top["reach"], top["post_id"], top["first"]) == ("大V", 5000, posts[1200].id,
                                                                               "2026-05-01 21:00")
    finally:
        store.close()


def test_the_time_axis_steps_by_the_events_whole_span_when_the_store_counts_it(tmp_path) -> None:  # noqa: ANN001
    """2 h 10 min of posts: 30-minute steps. The store's 30-minute buckets start 16:00 and 18:00 (2 h apart, a
    5-minute span by themselves): the axis must not cut them into 5-minute steps with holes."""
    store = SQLiteStore(tmp_path / "p.db", segment=str.split)
    try:
        store.index([mk(1, 5), mk(2, 20), mk(3, 135)])  # 16:05, 16:20, 18:15 Beijing time
        s = event_summary(store, "ev1", ZONE, SummaryCache())
        assert [(b["t"], b["n"]) for b in s["timeline"]] == [
            ("05-01 16:00", 2), ("05-01 16:30", 0), ("05-01 17:00", 0), ("05-01 17:30", 0), ("05-01 18:00", 1)]
    finally:
        store.close()
