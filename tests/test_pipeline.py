"""The pipeline: analysis, indexing, the spool when Elasticsearch is down, hooks that never lose posts."""

from __future__ import annotations

import os
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


# -- acknowledged = durable ------------------------------------------------------------------------------------
class Fussy:
    """A stand-in analyzer (the real one, wrapped) that fails on any batch holding a post whose text has "BOOM":
    how a bug triggered by one post looks to the pipeline."""

    def __init__(self, real):
        self.real = real
        self.segmenter = real.segmenter

    def analyze(self, items):
        if any("BOOM" in it["text"] for it in items):
            raise RuntimeError("analyzer bug on a BOOM post")
        return self.real.analyze(items)


def test_submit_is_on_disk_before_it_returns_and_gone_once_stored(tmp_path, analyzer):
    store = SQLiteStore(tmp_path / "posts.db")
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool")
    pl._ensure_worker = lambda: None  # type: ignore[method-assign]  # no worker yet: what a crash right after 202 leaves
    pl.submit(posts(3, "d"))
    assert pl.inbox.pending() == 3 and store.count(PostQuery()) == 0
    half = tmp_path / "spool" / "inbox" / ".00000000000000000001-1-000000.jsonl.tmp"  # a write a kill cut short
    half.write_text('{"text": "半')
    os.utime(half, (1, 1))
    restarted = Pipeline(store, lambda: analyzer, tmp_path / "spool")  # the next start of the desk
    assert restarted.recover(everything=True) == 1  # one inbox file, read by the worker
    assert restarted.wait_idle(30)
    restarted.stop()
    assert store.count(PostQuery()) == 3 and restarted.inbox.pending() == 0
    assert list((tmp_path / "spool" / "inbox").iterdir()) == []  # no .tmp left either


def test_a_bad_post_costs_only_itself_never_another_requests_posts(tmp_path, analyzer, caplog):
    store = SQLiteStore(tmp_path / "posts.db")
    pl = Pipeline(store, lambda: Fussy(analyzer), tmp_path / "spool")
    first, second = posts(40, "a"), posts(40, "b")
    second[17].text = "BOOM 这一条让分析出错"
    pl._ensure_worker = lambda: None  # type: ignore[method-assign]  # queue both before the worker starts: one batch
    pl.submit(first)
    pl.submit(second)
    del pl._ensure_worker
    pl._ensure_worker()
    assert pl.wait_idle(60)
    pl.stop()
    assert store.count(PostQuery()) == 79  # every good post of both requests
    assert store.get(second[17].id) is None
    kept = [r for f in pl.dead.files() for r in pl.dead.read(f)]
    assert [r["id"] for r in kept] == [second[17].id] and "analyzer bug" in kept[0]["reason"]
    assert pl.dead.count() == 1 and pl.inbox.pending() == 0


def test_refused_posts_are_kept_with_the_reason_and_retried_after_a_fix(tmp_path, analyzer):
    from opinion_desk.collectors.validate import PostChecks

    store = SQLiteStore(tmp_path / "posts.db")
    far = [Post(source="rss-x", source_id=f"f{i}", text="三千年后的新闻", created_at=datetime(3000, 1, 1, tzinfo=timezone.utc))
           for i in range(2)]
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool")
    res = pl.process([*posts(3, "ok"), *far])  # e.g. a collector's batch
    assert (res.indexed, res.rejected) == (3, 2)
    assert all("created_at" in e for e in res.errors)
    assert pl.dead.count() == 2
    # the office decides such dates are fine after all (a config fix), and retries
    wide = Pipeline(store, lambda: analyzer, tmp_path / "spool",
                    checks=PostChecks(max_future=timedelta(days=1000 * 366)))
    again = wide.retry_rejected()
    assert (again.indexed, again.rejected) == (2, 0)
    assert wide.dead.count() == 0 and store.count(PostQuery()) == 5


def test_a_long_backlog_waits_on_disk_and_arrives(tmp_path, analyzer):
    from opinion_desk import pipeline as pipeline_module

    store = SQLiteStore(tmp_path / "posts.db")
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool")
    pl._ensure_worker = lambda: None  # type: ignore[method-assign]  # the worker is busy elsewhere: a backlog builds
    for b in range(pipeline_module.MEMORY_BACKLOG + 20):
        pl.submit(posts(2, f"q{b}-"))
    on_disk_only = [item for item in list(pl._queue.queue) if item is not None and item.posts is None]
    assert len(on_disk_only) == 20  # past the in-memory backlog, queued by file name only
    del pl._ensure_worker
    pl._ensure_worker()
    assert pl.wait_idle(120)
    pl.stop()
    assert store.count(PostQuery()) == 2 * (pipeline_module.MEMORY_BACKLOG + 20) and pl.inbox.pending() == 0


def test_inbox_files_of_another_running_desk_are_left_to_it(tmp_path, analyzer):
    import subprocess
    import sys

    from opinion_desk.store.spool import Inbox

    store = SQLiteStore(tmp_path / "posts.db")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        inbox = Inbox(tmp_path / "spool" / "inbox")
        theirs = inbox.put(posts(2, "theirs"))
        theirs = theirs.rename(theirs.with_name(theirs.name.replace(f"-{os.getpid()}-", f"-{other.pid}-")))
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        gone = inbox.put(posts(3, "gone"))
        gone.rename(gone.with_name(gone.name.replace(f"-{os.getpid()}-", f"-{dead.stdout.strip()}-")))
        pl = Pipeline(store, lambda: analyzer, tmp_path / "spool")
        assert pl.recover(everything=True) == 1  # the dead desk's file; the living one keeps its own
        assert pl.wait_idle(30)
        pl.stop()
        assert store.count(PostQuery()) == 3 and theirs.exists()
    finally:
        other.kill()
        other.wait()
