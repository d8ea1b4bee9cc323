"""Search finds every post containing the query as a string (bigrams beside words), on both stores; word matches
rank first; platform filter and reach sort (opinion_desk/store/grams.py, issue 16 item 1)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post
from opinion_desk.store.base import PostQuery, PostStore

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def mk(sid: str, minutes: int, text: str, tokens: list[str], **kw: object) -> Post:
    return Post(source="weibo-search", source_id=sid, created_at=T0 + timedelta(minutes=minutes), text=text,
                tokens=tokens, **kw)  # type: ignore[arg-type]


def corpus() -> list[Post]:
    return [
        # tokens as jieba cuts them: 东河桥 is no word of either post
        mk("bridge", 1, "青山县东河桥出现裂缝，过往车辆请绕行", ["青山", "县东", "河桥", "出现", "裂缝", "过往", "车辆", "请", "绕行"],
           platform="weibo", reposts=5),
        mk("blast", 2, "城东化工园区附近刚才发生爆炸，浓烟很大", ["城东", "化工园区", "附近", "刚才", "发生", "爆炸", "浓烟", "很大"],
           platform="weibo", reposts=900, comments=10),
        # has the words 园区 and 爆炸 but never the string 园区爆炸, nor bigrams in order
        mk("apart", 3, "园区 今天 无事，昨日 爆炸 演练", ["园区", "今天", "无事", "昨日", "爆炸", "演练"], platform="news"),
        # a word match of 东河桥 (the segmenter kept it whole) and a title match
        mk("word", 0, "东河桥 维修 通知", ["东河桥", "维修", "通知"], platform="wechat", likes=50),
        mk("title", 4, "正文 无关", ["正文", "无关"], title="关于东河桥的说明", platform="news"),
        # the bigrams of 东河桥 across two runs: no string match
        mk("split", 5, "东河 桥头 河桥", ["东河", "桥头", "河桥"], platform="weibo"),
    ]


def ids(posts: list[Post]) -> list[str]:
    return [p.source_id for p in posts]


def load(store: PostStore) -> None:
    res = store.index(corpus())
    assert res.errors == []
    store.refresh()


def test_string_match_finds_what_words_miss(store: PostStore) -> None:
    load(store)
    assert set(ids(store.search(PostQuery(text="东河桥")).posts)) == {"bridge", "word", "title"}
    assert store.search(PostQuery(text="园区爆炸")).total == 0  # whitespace segmenter: one word, in no post
    assert store.count(PostQuery(text="裂缝")) == 1
    assert ids(store.search(PostQuery(text="车辆请绕")).posts) == ["bridge"]
    assert store.search(PostQuery(text="桥出现")).total == 1
    assert store.search(PostQuery(text="东河桥头")).total == 0


def test_blast_found_by_its_words_as_a_string(store: PostStore) -> None:
    """园区附近发生爆炸 is not a substring, but 园区附近 and 发生爆炸 are parts of the query: each is found."""
    load(store)
    assert ids(store.search(PostQuery(text="园区附近 发生爆炸")).posts) == ["blast"]
    assert ids(store.search(PostQuery(text="化工园区附近")).posts) == ["blast"]


def test_word_matches_rank_first(store: PostStore) -> None:
    load(store)
    res = store.search(PostQuery(text="东河桥", sort="relevance"))
    assert ids(res.posts)[0] == "word"
    assert ids(res.posts)[1:] == ["title", "bridge"]  # then newest first
    assert ids(store.search(PostQuery(text="东河桥")).posts) == ["title", "bridge", "word"]  # newest


def test_platform_filter_and_reach_sort(store: PostStore) -> None:
    load(store)
    assert set(ids(store.search(PostQuery(platforms=["news"])).posts)) == {"apart", "title"}
    assert ids(store.search(PostQuery(sort="reach", size=3)).posts) == ["blast", "word", "bridge"]
    assert store.count(PostQuery(text="东河桥", platforms=["weibo"])) == 1


def test_reindex_replaces_grams(store: PostStore) -> None:
    load(store)
    p = corpus()[0]
    p.text = "桥面已修复"
    store.index([p])
    store.refresh()
    assert store.search(PostQuery(text="出现裂缝")).total == 0
    assert ids(store.search(PostQuery(text="面已修")).posts) == ["bridge"]


def test_sqlite_file_made_before_grams_learns_them(tmp_path) -> None:  # noqa: ANN001
    from opinion_desk.store.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    s = SQLiteStore(path, segment=str.split)
    s.index(corpus())
    s.close()
    with sqlite3.connect(path) as c:  # as a file made before the bigram table
        c.execute("DROP TABLE posts_grams")
        c.execute("ALTER TABLE posts DROP COLUMN body")
        c.execute("PRAGMA user_version = 0")
    s = SQLiteStore(path, segment=str.split, background_upgrade=False)  # opens without reading the posts
    try:
        assert s.pending_upgrade() == ["grams", "columns", "rollups", "indexes", "blocks"]
        s.upgrade(chunk=2)
        assert set(ids(s.search(PostQuery(text="东河桥")).posts)) == {"bridge", "word", "title"}
    finally:
        s.close()


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def jieba_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[PostStore]:  # noqa: ANN001
    """A store of each backend with the desk's own segmenter (analyzers.segment), as the desk runs."""
    from analyzers import segment

    if request.param == "sqlite":
        from opinion_desk.store.sqlite import SQLiteStore

        s: PostStore = SQLiteStore(tmp_path / "posts.db", segment=segment)
        yield s
        s.close()
    else:
        from opinion_desk.store.elastic import ElasticStore

        s = ElasticStore(request.getfixturevalue("es_url"), index_prefix=f"odtest-{uuid.uuid4().hex[:12]}",
                         segment=segment)
        try:
            yield s
        finally:
            s.delete_all()  # type: ignore[attr-defined]
            s.close()


def test_issue_queries_with_the_desks_segmenter(jieba_store: PostStore) -> None:
    """东河桥 (segmented 东/河桥) and 园区爆炸 (园区/爆炸): neither is a word of the posts, both are found."""
    from analyzers import segment

    texts = {"bridge": "青山县东河桥出现裂缝，过往车辆请绕行", "blast": "城东化工园区附近刚才发生爆炸，浓烟很大，窗户都在震",
             "other": "东门菜市场附近的路灯坏了，河边桥下很黑", "drill": "园区消防演练圆满结束"}
    posts = [mk(k, i, t, segment(t)) for i, (k, t) in enumerate(texts.items())]
    jieba_store.index(posts)
    jieba_store.refresh()
    assert ids(jieba_store.search(PostQuery(text="东河桥")).posts) == ["bridge"]
    assert ids(jieba_store.search(PostQuery(text="园区爆炸")).posts) == ["blast"]
    res = jieba_store.search(PostQuery(text="园区", sort="relevance"))
    assert set(ids(res.posts)) == {"blast", "drill"}


@pytest.mark.elasticsearch
def test_elastic_posts_stored_before_grams_are_backfilled(es_url) -> None:  # noqa: ANN001
    """An index made before the bigram field: put-mapping adds it, old docs are found by words only until
    backfill_grams re-indexes them from their _source."""
    from opinion_desk.store.elastic import ElasticStore

    s = ElasticStore(es_url, index_prefix=f"odtest-{uuid.uuid4().hex[:12]}", segment=str.split)
    try:
        s.ensure_template()
        posts = corpus()
        old = []
        for p in posts:  # written as an older desk wrote them: no grams, no reach
            doc = s._doc(p)
            doc.pop("grams"), doc.pop("reach")
            old += [{"index": {"_index": s.index_name(p.created_at), "_id": p.id}}, doc]
        s.client.bulk(operations=old, refresh=True)
        assert set(ids(s.search(PostQuery(text="东河桥")).posts)) == {"word"}  # words only
        assert s.backfill_grams() == len(posts)
        s.refresh()
        assert set(ids(s.search(PostQuery(text="东河桥")).posts)) == {"bridge", "word", "title"}
        assert ids(s.search(PostQuery(sort="reach", size=1)).posts) == ["blast"]
        assert s.backfill_grams() == 0
    finally:
        s.delete_all()
        s.close()


def test_any_of_several_strings(store: PostStore) -> None:
    """``any_strings``: at least one of them in the title or text (the 投诉诉求 tag), with the other filters."""
    load(store)
    got = ids(store.search(PostQuery(any_strings=["裂缝", "浓烟", "不存在的词"])).posts)
    assert sorted(got) == ["blast", "bridge"]
    assert ids(store.search(PostQuery(any_strings=["的说"])).posts) == ["title"]  # in the title
    assert store.count(PostQuery(any_strings=["裂缝", "浓烟"], platforms=["news"])) == 0
    assert ids(store.search(PostQuery(text="东河桥", any_strings=["维修"])).posts) == ["word"]
