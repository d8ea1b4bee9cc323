"""The SQLite store's time map (store/sqlite_blocks.py): a search with a time range finds exactly what it finds
without the map, whatever order the posts were stored in (collected live, a backfill of old posts, rewrites that
move a post in time, retention), and a collected-live store's recent week is one small rowid range."""

from __future__ import annotations

import random
import sqlite3

import pytest
from datetime import datetime, timedelta, timezone

from opinion_desk.models import Post
from opinion_desk.store import sqlite_blocks as blocks
from opinion_desk.store.base import PostQuery
from opinion_desk.store.sqlite import SQLiteStore

END = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
TEXTS = ["东河桥出现裂缝 请绕行", "化工园区附近发生爆炸", "今天天气不错 加油", "地铁停运 加油 等待", "学校 通报 食堂"]


def post(i: int, created: datetime, text: str) -> Post:
    return Post(source="s", source_id=str(i), text=text, created_at=created, tokens=text.split())


def collected(n: int, days: float, seed: int = 1, prefix: str = "") -> list[Post]:
    """``n`` posts in time order over ``days`` before END, each up to an hour late (as a desk collects them)."""
    rnd = random.Random(seed)
    span = days * 86400
    return [post(f"{prefix}{i}", END - timedelta(seconds=span * (1 - (i + 0.5) / n) + rnd.random() * 3600),
                 rnd.choice(TEXTS)) for i in range(n)]


def ids(store: SQLiteStore, q: PostQuery) -> list[str]:
    q.size = 10_000
    return [p.id for p in store.search(q).posts]


def unmapped(store: SQLiteStore, q: PostQuery) -> list[str]:
    """The same search without the time map (the plain SQL of an older file)."""
    saved, store._sql.ranges = store._sql.ranges, None
    try:
        return ids(store, q)
    finally:
        store._sql.ranges = saved


def queries() -> list[PostQuery]:
    out = []
    for text in ("加油", "东河桥", "园区爆炸", "通报"):
        for since, until in ((timedelta(days=7), None), (timedelta(hours=30), timedelta(hours=2)),
                             (timedelta(hours=20), None), (timedelta(hours=40), timedelta(hours=10)),
                             (timedelta(days=40), timedelta(days=20)), (None, timedelta(days=50))):
            for sort in ("newest", "relevance", "reach", "oldest"):
                out.append(PostQuery(text=text, sort=sort, since=END - since if since else None,
                                     until=END - until if until else None))
    return out


def check(store: SQLiteStore) -> None:
    for q in queries():
        got = ids(store, q)
        assert got == unmapped(store, q), q
        assert store.search(q).total == len(got), q
        for p in store.search(PostQuery(text=q.text, size=10_000, since=q.since, until=q.until)).posts:
            assert (q.since is None or p.created_at >= q.since) and (q.until is None or p.created_at < q.until)


@pytest.mark.parametrize("n,days", [(3000, 60), (6000, 1)])  # blocks of weeks; blocks of 4 hours (whole ones inside)
def test_bounded_searches_find_what_unbounded_ones_do_in_any_storing_order(tmp_path, n, days) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    live = collected(n, days)
    for k in range(0, len(live), 500):
        s.index(live[k:k + 500])
    check(s)
    assert days > 1 or s._rowid_ranges(int((END - timedelta(hours=20)).timestamp() * 1e6), None)[0]  # inner ranges
    s.index(collected(1500, 60, seed=2, prefix="old")[:700])  # a backfill of old posts: high rowids, old times
    moved = [post(i, END - timedelta(days=59, minutes=i), "东河桥 又 加油") for i in range(2900, 2960)]
    s.index(moved)  # the newest posts rewritten with old times: their blocks widen
    shuffled = collected(800, 60, seed=3, prefix="rnd")
    random.Random(4).shuffle(shuffled)
    s.index(shuffled)  # stored in no time order at all
    check(s)
    assert s.drop_before(END - timedelta(days=45)) > 0
    check(s)
    with s._conn() as c:
        assert c.execute("SELECT MIN(lo) FROM post_blocks").fetchone()[0] is not None
    s.close()


def test_a_live_store_s_recent_week_is_one_small_range(tmp_path) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(collected(12000, 20))  # 600 posts a day: a week is about 4 blocks
    inner, edge = s._rowid_ranges(int((END - timedelta(days=7)).timestamp() * 1e6), None)
    assert len(inner) == 1 and len(edge) <= 1  # the week's blocks, and the block (or two) where it starts
    lo, hi = min(r[0] for r in inner + edge), max(r[1] for r in inner + edge)
    assert hi - lo + 1 <= 12000 * 7 / 20 + 2 * blocks.SIZE  # about a week of rowids, give or take a block each end
    assert s._rowid_ranges(int((END + timedelta(days=1)).timestamp() * 1e6), None) == ([], [])
    assert ids(s, PostQuery(text="加油", since=END + timedelta(days=1))) == []
    s.close()


def test_ranges_merge_across_the_smallest_gaps() -> None:
    c = sqlite3.connect(":memory:")
    c.executescript(blocks.SCHEMA_SQL)
    c.executemany("INSERT INTO post_blocks VALUES (?, ?, ?)",
                  [(b, 100, 200) for b in (0, 1, 5, 9, 10, 30, 31, 40, 60)] + [(2, 0, 10)])
    inner, got = blocks.ranges(c, 50, None)
    assert inner == [] and len(got) == blocks.MAX_RANGES  # every block starts before 50: all edge
    for b in (0, 1, 5, 9, 10, 30, 31, 40, 60):  # every block that may hold the range lies in one of them
        assert any(lo <= b << blocks.BITS and ((b + 1) << blocks.BITS) - 1 <= hi for lo, hi in got), b
    assert got[0][0] == 0 and got[-1][1] == (61 << blocks.BITS) - 1
    assert blocks.ranges(c, 300, None) == ([], [])
    assert blocks.ranges(c, None, 5) == ([], [(2 << blocks.BITS, (3 << blocks.BITS) - 1)])
    assert blocks.ranges(c, None, 15) == ([(2 << blocks.BITS, (3 << blocks.BITS) - 1)], [])  # wholly before 15
    inner, edge = blocks.ranges(c, 100, None)  # every block but 2 lies wholly after 100: 9 pieces, too many
    assert inner == [] and len(edge) == blocks.MAX_RANGES


def test_a_file_made_before_the_map_searches_meanwhile_and_fills_it(tmp_path) -> None:
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(collected(2500, 30))
    before = [ids(s, q) for q in queries()]
    s.close()
    c = sqlite3.connect(tmp_path / "p.db")
    c.executescript("DELETE FROM post_blocks; PRAGMA user_version = 5;")
    c.close()
    s = SQLiteStore(tmp_path / "p.db", segment=str.split, background_upgrade=False)
    assert "blocks" in s.pending_upgrade() and s._rowid_ranges(0, None) is None
    assert [ids(s, q) for q in queries()] == before  # answered without the map meanwhile
    assert s.upgrade(chunk=1000)[-1] == "blocks"
    assert s._rowid_ranges(0, None) and [ids(s, q) for q in queries()] == before
    s.close()


def test_an_all_time_search_is_answered_from_the_most_recent_window_that_fills_its_page(tmp_path) -> None:
    from opinion_desk.store import sqlite_search as ss

    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(collected(4000, 400))  # ten posts a day over 400 days: windows of 7, 30 and 180 days, and beyond
    s.index([post("late", END - timedelta(days=300), "东河桥 加油 旧闻")])  # an old post stored last
    newest = s._query("SELECT MAX(created_at) FROM posts", ())[0][0]
    top = s._query("SELECT MAX(rowid) FROM posts", ())[0][0]
    tried: set[str] = set()
    for text in ("加油", "东河桥", "园区爆炸", "加油 东河桥", "旧闻"):
        for sort in ("newest", "relevance"):
            for offset, size in ((0, 20), (40, 20), (0, 100), (300, 50), (900, 100)):
                q = PostQuery(text=text, sort=sort, offset=offset, size=size)
                total = ss.capped_count(s._query, s._sql, q, 10_000)
                whole = ss.page_docs(s._query, s._sql, q, total, top)
                got = ss.recent_first(s._query, s._sql, q, top, newest, 10_000)
                if got is not None:
                    tried.add(sort)
                    assert got == whole, (text, sort, offset, size)
    assert tried == {"newest", "relevance"}
    assert ss.recent_first(s._query, s._sql, PostQuery(text="加油", sort="reach"), top, newest, 10_000) is None
    s.close()
