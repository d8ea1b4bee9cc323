"""The store contract (opinion_desk/store/base.py), run against every backend by the ``store`` fixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opinion_desk.errors import StoreError
from opinion_desk.models import Post
from opinion_desk.store.base import PostQuery, PostStore
from tests.store.conftest import BACKENDS, WITH_CLUSTER, open_test_store

UTC = timezone.utc


@pytest.fixture(params=WITH_CLUSTER)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PostStore]:
    """Every backend, and Elasticsearch also as the local two-node cluster with one replica."""
    yield from open_test_store(request, tmp_path)


T0 = datetime(2024, 5, 10, 0, 0, tzinfo=UTC)


def mk(sid: str, at: datetime, tokens: list[str], **kw: object) -> Post:
    kw.setdefault("text", " ".join(tokens) or "空")
    return Post(source=kw.pop("source", "weibo-search"), source_id=sid, created_at=at, tokens=tokens,  # type: ignore[arg-type]
                collected_at=at + timedelta(minutes=1), **kw)  # type: ignore[arg-type]


def corpus() -> list[Post]:
    return [
        mk("1", T0 + timedelta(minutes=10), ["暴雨", "地铁", "停运"], author="深圳发布", author_type="gov",
           sentiment_label="neutral", topic_id="t-rain", region="深圳", keywords=["暴雨", "地铁"], hashtags=["深圳暴雨"],
           rumour_score=0.1),
        mk("2", T0 + timedelta(minutes=20), ["暴雨", "积水", "地铁"], author="网友A", author_type="user",
           sentiment_label="negative", topic_id="t-rain", region="深圳", keywords=["积水"], hashtags=["深圳暴雨"],
           rumour_score=0.8),
        mk("3", T0 + timedelta(hours=2, minutes=30), ["学校", "食堂", "投诉"], author="网友B", author_type="user",
           sentiment_label="negative", topic_id="t-school", region="广州", source="rss-gov-gz", keywords=["食堂"],
           rumour_score=0.5),
        mk("4", T0 + timedelta(hours=2, minutes=40), ["学校", "回应"], author="广州教育", author_type="gov",
           sentiment_label="positive", topic_id="t-school", region="广州", source="rss-gov-gz", title="关于 食堂 的 说明"),
        mk("5", T0 + timedelta(days=1, hours=1), ["地铁", "恢复", "运营"], author="深圳发布", author_type="gov",
           sentiment_label="positive", topic_id="t-rain", region="深圳", hashtags=["深圳暴雨", "地铁"]),
    ]


def loaded(store: PostStore, posts: list[Post] | None = None) -> list[Post]:
    posts = corpus() if posts is None else posts
    res = store.index(posts)
    assert res.errors == [] and res.indexed == len(posts)
    store.refresh()
    return posts


def sids(posts: list[Post]) -> list[str]:
    return [p.source_id for p in posts]


def test_empty_store_answers(store: PostStore) -> None:
    assert store.ping()
    assert store.count(PostQuery()) == 0
    assert store.search(PostQuery(text="暴雨")).total == 0
    assert store.get("nope") is None
    assert store.date_histogram(PostQuery()) == []
    assert store.top_terms(PostQuery()) == []
    store.refresh()


def test_index_is_idempotent_upsert(store: PostStore) -> None:
    posts = loaded(store)
    assert store.count(PostQuery()) == 5
    changed = replace(posts[1], sentiment_label="neutral", text="更新后的文本", tokens=["更新"], reposts=42)
    res = store.index([changed, posts[0]])
    assert res.indexed == 2 and res.errors == []
    store.refresh()
    assert store.count(PostQuery()) == 5
    got = store.get(changed.id)
    assert got is not None and got.text == "更新后的文本" and got.reposts == 42 and got.sentiment_label == "neutral"
    assert store.search(PostQuery(text="积水")).total == 0  # old tokens are gone from the full-text index
    assert sids(store.search(PostQuery(text="更新")).posts) == ["2"]


def test_same_post_twice_in_one_batch_keeps_the_later(store: PostStore) -> None:
    first = mk("dup", T0, ["暴雨"], text="第一版")
    later = replace(first, text="第二版", tokens=["积水"])
    res = store.index([first, later])
    assert res.errors == []
    store.refresh()
    assert store.count(PostQuery()) == 1
    got = store.get(first.id)
    assert got is not None and got.text == "第二版"
    assert store.search(PostQuery(text="积水")).total == 1 and store.search(PostQuery(text="暴雨")).total == 0


def test_get_returns_the_same_post(store: PostStore) -> None:
    posts = loaded(store)
    for p in posts:
        assert store.get(p.id) == p


def test_chinese_emoji_and_raw_round_trip(store: PostStore) -> None:
    raw = {"mid": "4987", "text": "🔥🔥 速看！某地「暴雨」\n第二行", "user": {"screen_name": "小明😀", "verified": True},
           "pics": ["a.jpg"], "n": 3, "score": 0.25, "none": None}
    p = mk("emoji", T0, ["速看", "🔥", "暴雨"], text="🔥🔥 速看！某地「暴雨」\n第二行 \u3000 𠮷", title="标题😀",
           author="小明😀", raw=raw, url="https://weibo.com/1/4987?x=中文", sentiment=-0.5, mentions=["@某人"])
    loaded(store, [p])
    got = store.get(p.id)
    assert got == p and got.raw == raw
    assert sids(store.search(PostQuery(text="🔥")).posts) == ["emoji"]
    assert sids(store.search(PostQuery(text="标题😀")).posts) == ["emoji"]  # title tokens are searchable


def test_search_requires_every_token(store: PostStore) -> None:
    loaded(store)
    assert sorted(sids(store.search(PostQuery(text="暴雨")).posts)) == ["1", "2"]
    assert sorted(sids(store.search(PostQuery(text="暴雨 地铁")).posts)) == ["1", "2"]
    assert sids(store.search(PostQuery(text="暴雨 停运")).posts) == ["1"]
    assert store.search(PostQuery(text="暴雨 学校")).total == 0
    # a query is also found as a string in the text (bigrams, issue 16): 暴 is no token, but "暴雨" holds it
    assert sorted(sids(store.search(PostQuery(text="暴")).posts)) == ["1", "2"]
    assert store.search(PostQuery(text="雨地")).total == 0  # "暴雨 地铁": the space is no part of a string
    assert sids(store.search(PostQuery(text="食堂")).posts) == ["4", "3"]  # "4" by its title tokens
    assert store.search(PostQuery(text="   ")).total == 5  # blank text = no text filter


def test_sort_and_paging(store: PostStore) -> None:
    loaded(store)
    assert sids(store.search(PostQuery()).posts) == ["5", "4", "3", "2", "1"]
    assert sids(store.search(PostQuery(sort="oldest")).posts) == ["1", "2", "3", "4", "5"]
    page = store.search(PostQuery(size=2, offset=2))
    assert page.total == 5 and sids(page.posts) == ["3", "2"]
    assert store.search(PostQuery(size=0)).posts == []


@pytest.mark.parametrize("query,expected", [
    (PostQuery(since=T0 + timedelta(minutes=20)), ["2", "3", "4", "5"]),  # since is inclusive
    (PostQuery(until=T0 + timedelta(minutes=20)), ["1"]),  # until is exclusive
    (PostQuery(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)), ["3", "4"]),
    (PostQuery(since=datetime(2024, 5, 10, 10, 0, tzinfo=timezone(timedelta(hours=8)))), ["3", "4", "5"]),
    (PostQuery(sources=["rss-gov-gz"]), ["3", "4"]),
    (PostQuery(sources=["rss-gov-gz", "weibo-search"]), ["1", "2", "3", "4", "5"]),
    (PostQuery(sentiment_labels=["negative"]), ["2", "3"]),
    (PostQuery(topic_ids=["t-school"]), ["3", "4"]),
    (PostQuery(authors=["深圳发布"]), ["1", "5"]),
    (PostQuery(author_types=["gov"]), ["1", "4", "5"]),
    (PostQuery(regions=["广州"]), ["3", "4"]),
    (PostQuery(min_rumour_score=0.5), ["2", "3"]),
    (PostQuery(text="地铁", topic_ids=["t-rain"], authors=["深圳发布"], until=T0 + timedelta(days=1)), ["1"]),
    (PostQuery(sources=["nobody"]), []),
])
@pytest.mark.parametrize("store", BACKENDS, indirect=True)  # query building only: one node is enough
def test_filters(store: PostStore, query: PostQuery, expected: list[str]) -> None:
    loaded(store)
    assert sorted(sids(store.search(replace(query, size=100)).posts)) == expected
    assert store.count(query) == len(expected)
    assert store.search(query).total == len(expected)


def test_date_histogram_zero_filled(store: PostStore) -> None:
    loaded(store)
    h = store.date_histogram(PostQuery(until=T0 + timedelta(hours=3)), "1h")
    assert h == [(T0, 2), (T0 + timedelta(hours=1), 0), (T0 + timedelta(hours=2), 2)]
    d = store.date_histogram(PostQuery(), "1d")
    assert d == [(T0, 4), (T0 + timedelta(days=1), 1)]
    # both bounds given: the buckets span [since, until) even where there is no data
    r = store.date_histogram(PostQuery(since=T0 - timedelta(minutes=30), until=T0 + timedelta(minutes=30),
                                       sources=["weibo-search"]), "10m")
    assert [n for _, n in r] == [0, 0, 0, 0, 1, 1]
    assert r[0][0] == T0 - timedelta(minutes=30) and all(t.tzinfo is not None for t, _ in r)
    assert store.date_histogram(PostQuery(text="暴雨"), "30m") == [(T0, 2)]
    with pytest.raises(StoreError, match="interval"):
        store.date_histogram(PostQuery(), "7m")


def test_top_terms(store: PostStore) -> None:
    posts = corpus()
    posts[0] = replace(posts[0], tokens=["暴雨", "暴雨", "暴雨", "地铁", "停运"])  # counted once per post
    loaded(store, posts)
    assert store.top_terms(PostQuery(), "tokens", 3) == [("地铁", 3), ("学校", 2), ("暴雨", 2)]
    assert store.top_terms(PostQuery(topic_ids=["t-school"]), "tokens", 10) == [
        ("学校", 2), ("回应", 1), ("投诉", 1), ("食堂", 1)]
    assert store.top_terms(PostQuery(), "author", 2) == [("深圳发布", 2), ("广州教育", 1)]
    assert store.top_terms(PostQuery(), "hashtags") == [("深圳暴雨", 3), ("地铁", 1)]
    assert store.top_terms(PostQuery(), "sentiment_label") == [("negative", 2), ("positive", 2), ("neutral", 1)]
    assert store.top_terms(PostQuery(), "source") == [("weibo-search", 3), ("rss-gov-gz", 2)]
    assert store.top_terms(PostQuery(), "region") == [("深圳", 3), ("广州", 2)]
    assert store.top_terms(PostQuery(text="暴雨"), "keywords") == [("地铁", 1), ("暴雨", 1), ("积水", 1)]
    assert store.top_terms(PostQuery(), "topic_id", 1) == [("t-rain", 3)]
    with pytest.raises(StoreError, match="field"):
        store.top_terms(PostQuery(), "text")


def test_spreaders_by_reach(store: PostStore) -> None:
    posts = corpus()
    posts[0] = replace(posts[0], reposts=10, comments=5, likes=1)  # 深圳发布: 16 + 30 = 46 over two posts
    posts[4] = replace(posts[4], reposts=30)
    posts[1] = replace(posts[1], likes=46)  # 网友A: 46 as well, first later than 深圳发布's first
    posts[2] = replace(posts[2], comments=2)
    posts.append(mk("6", T0 + timedelta(minutes=30), ["暴雨"], author="", topic_id="t-rain", reposts=999))
    loaded(store, posts)
    got = store.spreaders(PostQuery(), 3)
    assert [(s.author, s.posts, s.reach) for s in got] == [("深圳发布", 2, 46), ("网友A", 1, 46), ("网友B", 1, 2)]
    assert got[0].first_id == posts[0].id and got[0].first_at == posts[0].created_at and got[0].author_type == "gov"
    rain = store.spreaders(PostQuery(topic_ids=["t-rain"], since=T0 + timedelta(minutes=15)))
    assert [(s.author, s.posts, s.reach, s.first_id) for s in rain] == [
        ("网友A", 1, 46, posts[1].id), ("深圳发布", 1, 30, posts[4].id)]  # the unnamed post is left out
    assert store.spreaders(PostQuery(topic_ids=["none"])) == []


def test_refresh_makes_writes_visible(store: PostStore) -> None:
    for i in range(3):
        store.index([mk(f"r{i}", T0 + timedelta(seconds=i), ["刷新"])])
        store.refresh()
        assert store.count(PostQuery(text="刷新")) == i + 1


def test_drop_before(store: PostStore) -> None:
    april = [mk(f"a{i}", datetime(2024, 4, 3 + i, tzinfo=UTC), ["旧"]) for i in range(3)]
    loaded(store, april + corpus())
    assert store.count(PostQuery()) == 8
    dropped = store.drop_before(datetime(2024, 5, 1, tzinfo=UTC))
    assert dropped >= 1
    store.refresh()
    assert store.count(PostQuery()) == 5
    assert store.get(april[0].id) is None and store.get(corpus()[0].id) is not None
    assert store.drop_before(datetime(2024, 5, 1, tzinfo=UTC)) == 0


def test_thread_safe(store: PostStore) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(5):
                store.index([mk(f"w{k}-{j}-{n}", T0 + timedelta(minutes=k * 10 + j), ["并发", f"k{k}"]) for n in range(10)])
                store.count(PostQuery(text="并发"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store.refresh()
    assert store.count(PostQuery(text="并发")) == 200
