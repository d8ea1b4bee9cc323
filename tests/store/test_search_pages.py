"""A search's page and total: the counted total stops at the store's cap (both backends), and the embedded store's
index walk (opinion_desk/store/sqlite_search.py) gives the same page as sorting every match."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post
from opinion_desk.store import sqlite_search
from opinion_desk.store.base import PostQuery, PostStore
from opinion_desk.store.sqlite import SQLiteStore

T0 = datetime(2024, 5, 10, tzinfo=timezone.utc)
WORDS = ["暴雨", "地铁", "停运", "学校", "食堂", "加油", "桥梁", "裂缝"]


def corpus(n: int, seed: int = 1) -> list[Post]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        tokens = rnd.sample(WORDS, 3)
        # some posts hold a word only inside a longer one (a string match, not a word match)
        text = " ".join(tokens) + (" 加油站" if i % 7 == 0 else "") + (" 桥梁裂缝" if i % 11 == 0 else "")
        out.append(Post(source="s", source_id=str(i), text=text, tokens=tokens,
                        created_at=T0 + timedelta(minutes=rnd.randrange(600)),  # ties in time on purpose
                        collected_at=T0, reposts=rnd.randrange(4), likes=rnd.randrange(3),
                        sentiment_label=rnd.choice(["neg", "pos"]), author_type=rnd.choice(["gov", "user"])))
    return out


def test_total_stops_at_the_cap(store: PostStore) -> None:
    store.index(corpus(30))
    store.refresh()
    store.total_cap = 5
    q = PostQuery(text="暴雨", size=2)
    n = store.count(q)
    assert n > 5  # count stays exact
    res = store.search(q)
    assert (res.total, res.exact, len(res.posts)) == (5, False, 2)
    few = store.search(PostQuery(text="暴雨 地铁 停运", sentiment_labels=["neg"], author_types=["gov"]))
    assert few.exact and few.total == store.count(PostQuery(text="暴雨 地铁 停运", sentiment_labels=["neg"],
                                                             author_types=["gov"])) <= 5
    everything = store.search(PostQuery(size=1))
    assert (everything.total, everything.exact) == (5, False)


@pytest.mark.parametrize("text", ["加油", "地铁", "桥梁 裂缝", "桥梁裂缝", "加油站"])
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "reach"])
def test_the_index_walk_gives_the_sorted_page(tmp_path, text: str, sort: str) -> None:  # noqa: ANN001
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(corpus(400))
    try:
        for offset, size, filters in ((0, 20, {}), (40, 20, {}), (0, 7, {"sentiment_labels": ["neg"]}),
                                      (10, 10, {"author_types": ["gov"], "since": T0 + timedelta(hours=2)})):
            q = PostQuery(text=text, sort=sort, offset=offset, size=size, **filters)  # type: ignore[arg-type]
            matches = sqlite_search.capped_count(s._query, s._sql, q, 10_000)
            sorted_page = sqlite_search.page_docs(s._query, s._sql, q, matches, 10**12)  # never walks
            walked = sqlite_search.page_docs(s._query, s._sql, q, matches, 1)  # walks whenever it can
            assert walked == sorted_page, (text, sort, offset, filters)
            assert [p.id for p in s.search(q).posts] == [json.loads(d)["id"] for d in sorted_page]
            assert len(sorted_page) == min(size, max(0, s.count(q) - offset))
    finally:
        s.close()


@pytest.mark.parametrize("sort", ["newest", "oldest", "reach"])
def test_strings_only_count_and_walk(tmp_path, sort: str) -> None:  # noqa: ANN001
    """The 投诉诉求 tag's query (strings only): counted from the index alone, and the walked page is the sorted one."""
    s = SQLiteStore(tmp_path / "p.db", segment=str.split)
    s.index(corpus(400))
    try:
        for offset, strings in ((0, ["加油站", "桥梁裂"]), (30, ["裂缝", "停运"]), (0, ["食堂"])):
            q = PostQuery(any_strings=strings, sort=sort, offset=offset, size=20)
            matches = sqlite_search.capped_count(s._query, s._sql, q, 10_000)
            assert matches == s.count(q) == sum(any(w in p.text for w in strings) for p in corpus(400))
            sorted_page = sqlite_search.page_docs(s._query, s._sql, q, matches, 10**12)
            assert sqlite_search.page_docs(s._query, s._sql, q, matches, 1) == sorted_page, (strings, offset)
            assert len(sorted_page) == min(20, max(0, matches - offset))
    finally:
        s.close()


def test_fields_read_only_what_the_caller_needs(store: PostStore) -> None:
    """PostQuery.fields: the same posts in the same order, those fields (and the four every post has) filled, the
    others at their defaults."""
    posts = corpus(40)
    for i, p in enumerate(posts):
        p.author, p.mid, p.topic_label = f"用户{i}", f"m{i}", "暴雨事件"
    store.index(posts)
    store.refresh()
    whole = store.search(PostQuery(text="暴雨", sort="oldest", size=15))
    light = store.search(PostQuery(text="暴雨", sort="oldest", size=15, fields=("author", "mid", "reposts")))
    assert light.total == whole.total and [p.id for p in light.posts] == [p.id for p in whole.posts]
    for w, p in zip(whole.posts, light.posts):
        assert (p.author, p.mid, p.reposts, p.text, p.created_at) == (w.author, w.mid, w.reposts, w.text,
                                                                       w.created_at)
        assert (p.tokens, p.topic_label, p.likes) == ([], "", 0)
