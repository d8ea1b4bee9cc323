"""The SQLite store's rollup tables answer as reading the posts would: after writes, re-writes, retention, and for a
file made before them."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import datetime, timedelta, timezone

from opinion_desk.models import Post
from opinion_desk.store.base import PostQuery
from opinion_desk.store import sqlite_upgrade as upgrade
from opinion_desk.store.sqlite import SQLiteStore

END = datetime(2026, 3, 10, 12, 34, 56, 789000, tzinfo=timezone.utc)
WORDS = ["暴雨", "地铁", "停运", "学校", "投诉", "回应", "通报", "救援"]


def posts(n: int, seed: int = 1) -> list[Post]:
    rnd = random.Random(seed)
    return [Post(source=["a", "b"][i % 2], source_id=str(i), text="x", region=rnd.choice(["北京", "", "上海"]),
                 created_at=END - timedelta(seconds=rnd.randrange(4 * 86400)),
                 sentiment_label=rnd.choice(["neg", "neutral", "pos"]),
                 keywords=rnd.sample(WORDS, 3) + [""]) for i in range(n)]


def scanned(store: SQLiteStore, q: PostQuery, field: str) -> list[tuple[str, int]]:
    return store._top_scan(q, field, 1000)


def queries() -> list[PostQuery]:
    return [PostQuery(), PostQuery(since=END - timedelta(hours=24), until=END),
            PostQuery(since=END - timedelta(days=2, minutes=7), until=END - timedelta(minutes=3)),
            PostQuery(until=END - timedelta(hours=30, seconds=5)), PostQuery(since=END - timedelta(hours=50))]


def check(store: SQLiteStore) -> None:
    for q in queries():
        for field in ("keywords", "sentiment_label", "source", "region"):
            assert store.top_terms(q, field, 1000) == scanned(store, q, field), (q, field)
        for interval in ("1m", "10m", "1h", "1d"):
            if interval == "1m" and q.since is None:
                continue
            got = store.date_histogram(q, interval)
            assert sum(n for _t, n in got) == store.count(q)
            for labels in ([], ["neg"], ["pos", "neutral"]):
                lq = PostQuery(since=q.since, until=q.until, sentiment_labels=labels)
                # the same query through the posts (a filter the rollups do not hold forces the scan)
                scan_q = PostQuery(since=q.since, until=q.until, sentiment_labels=labels, sources=["a", "b"])
                assert store.date_histogram(lq, interval) == store.date_histogram(scan_q, interval), (q, interval)


def test_rollups_follow_writes_rewrites_and_retention(tmp_path) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(posts(600))
    check(s)
    again = posts(200, seed=2)  # the same ids 0..199 with other times, words and labels
    s.index(again)
    s.index(again[:50])  # and once more unchanged: counted once
    check(s)
    assert s.count(PostQuery()) == 600
    dropped = s.drop_before(END - timedelta(days=3, minutes=13, seconds=7))
    assert dropped > 0
    check(s)
    s.close()


def test_a_file_made_before_the_rollups_opens_at_once_and_fills_them_in_chunks(tmp_path) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(posts(300))
    s.close()
    c = sqlite3.connect(tmp_path / "p.db")
    c.executescript("DELETE FROM rollup_minute; DELETE FROM rollup_hour; DELETE FROM rollup_total; "
                    "PRAGMA user_version = 2;")
    c.close()
    s = SQLiteStore(tmp_path / "p.db", segment=str.split, background_upgrade=False)
    assert s.pending_upgrade() == ["columns", "rollups", "indexes", "blocks"]
    check(s)  # answered from the posts meanwhile
    with s._conn() as c:  # a third of the fill done (by another process, say) ...
        assert upgrade.step_chunk(c, "rollups", 100) == (100, 300, False)
    s.index(posts(150, seed=3))  # ... then writes below and above its mark, and a retention delete
    s.index(posts(400, seed=4)[300:])
    assert s.drop_before(END - timedelta(days=3, hours=5)) > 0
    check(s)
    seen: list[tuple[str, int, int]] = []
    assert s.upgrade(progress=lambda *a: seen.append(a), chunk=60) == ["columns", "rollups", "indexes", "blocks"]
    indexes = [x for x in seen if x[0] == "indexes"]
    assert s.pending_upgrade() == [] and len(indexes) == 11  # one index a chunk
    assert indexes[-1] == ("indexes", 11, 11)  # 10 indexes, then ANALYZE
    assert [x[1] for x in seen if x[0] == "rollups"] == [160, 220, 280, 340, 400]
    check(s)  # now from the rollups
    with s._conn() as c:
        assert c.execute("SELECT SUM(n) FROM rollup_minute").fetchone()[0] == s.count(PostQuery())
    assert s.top_terms(PostQuery(), "keywords", 3)[0][1] > 0
    s.close()


def test_a_file_made_before_the_platform_and_reach_columns_is_upgraded_in_the_background(tmp_path) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    ps = posts(50)
    for i, p in enumerate(ps):
        p.reposts, p.likes, p.platform = i, i % 7, ["weibo", "news"][i % 2]
    s.index(ps)
    s.close()
    c = sqlite3.connect(tmp_path / "p.db")
    c.executescript("DROP INDEX posts_reach; DROP INDEX posts_platform; DROP INDEX posts_region_platform; "
                    "DROP INDEX posts_topic_authors; "
                    "ALTER TABLE posts DROP COLUMN reach; "
                    "ALTER TABLE posts DROP COLUMN platform; PRAGMA user_version = 3;")
    c.close()
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    deadline = time.monotonic() + 30
    while s.pending_upgrade() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.pending_upgrade() == []
    top = s.search(PostQuery(sort="reach", size=3)).posts
    assert [p.source_id for p in top] == ["48", "47", "46"]  # reposts + likes: 54, 52, 50
    assert s.count(PostQuery(platforms=["news"])) == 25
    s.close()
