"""The pipeline: analysis, indexing, the spool when Elasticsearch is down, hooks that never lose posts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post
from opinion_desk.pipeline import Pipeline
from opinion_desk.store.base import PostQuery
from opinion_desk.store.elastic import ElasticStore
from opinion_desk.store.sqlite import SQLiteStore
from tests.conftest import free_port

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)


def posts(n: int, prefix: str = "p") -> list[Post]:
    return [Post(source="test", source_id=f"{prefix}{i}", text=f"青山县暴雨积水，第{i}条", created_at=T0 + timedelta(minutes=i))
            for i in range(n)]


def test_process_annotates_and_indexes(tmp_path, analyzer):
    store = SQLiteStore(tmp_path / "posts.db")
    seen: list[int] = []
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool", on_stored=[lambda b: seen.append(len(b))])
    res = pl.process(posts(3))
    assert (res.indexed, res.spooled, res.errors) == (3, 0, [])
    assert seen == [3]
    got = store.search(PostQuery(text="暴雨")).posts
    assert len(got) == 3 and all(p.sentiment_label and p.simhash and p.topic_id for p in got)


def test_a_failing_hook_loses_nothing(tmp_path, analyzer):
    store = SQLiteStore(tmp_path / "posts.db")

    def broken(_batch):
        raise RuntimeError("rule engine bug")

    after: list[int] = []
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool", on_stored=[broken, lambda b: after.append(len(b))])
    assert pl.process(posts(2)).indexed == 2
    assert after == [2] and store.count(PostQuery()) == 2


def test_submit_runs_off_the_caller_thread(tmp_path, analyzer):
    import threading

    store = SQLiteStore(tmp_path / "posts.db")
    threads: list[str] = []
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool", on_stored=[lambda b: threads.append(threading.current_thread().name)])
    for batch in (posts(2, "a"), posts(2, "b")):
        pl.submit(batch)
    assert pl.wait_idle(30)
    pl.stop()
    assert store.count(PostQuery()) == 4
    assert set(threads) == {"opinion-desk-pipeline"}


@pytest.mark.elasticsearch
def test_elasticsearch_down_posts_wait_in_the_spool_then_arrive(tmp_path, analyzer, es_url):
    prefix = f"t-spool-{free_port()}"
    down = ElasticStore([f"http://127.0.0.1:{free_port()}"], index_prefix=prefix, request_timeout=2)
    pl = Pipeline(down, lambda: analyzer, tmp_path / "spool")
    r1 = pl.process(posts(5, "x"))
    r2 = pl.process(posts(3, "y"))
    assert (r1.indexed, r1.spooled, r2.spooled) == (0, 5, 3)
    assert pl.spool.pending() == 8
    assert pl.drain_spool() == 0  # still down: nothing lost, nothing sent

    up = ElasticStore([es_url], index_prefix=prefix)
    try:
        pl.store = up
        assert pl.drain_spool() == 8
        assert pl.spool.pending() == 0
        up.refresh()
        assert up.count(PostQuery()) == 8
        assert up.search(PostQuery(text="暴雨")).total == 8
    finally:
        up.delete_all()
        up.close()
