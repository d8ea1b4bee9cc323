"""QueueDrain: posts accepted into the ingest queue reach the store and the rule feed once; a batch whose worker
died is done again by another without duplicating anything. Real pipeline, store, analyzer and state DB."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.ingest_worker import QueueDrain
from opinion_desk.models import Post
from opinion_desk.pipeline import Pipeline
from opinion_desk.state import StateDB
from opinion_desk.state.ingest_queue import IngestQueue
from opinion_desk.state.rule_feed import RuleFeed
from opinion_desk.store.base import PostQuery
from opinion_desk.store.sqlite import SQLiteStore

T0 = datetime(2024, 6, 18, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def parts(tmp_path, analyzer, state_url):
    db = StateDB(state_url)
    db.upgrade()
    store = SQLiteStore(tmp_path / "posts.db")
    now = [T0]
    yield (IngestQueue(db, clock=lambda: now[0]), Pipeline(store, lambda: analyzer, tmp_path / "spool"),
           RuleFeed(db), store, now)
    store.close()
    db.dispose()


def accepted(n: int) -> list[dict]:
    return [Post(source="api", source_id=str(i), text=f"化工厂 第{i}条 爆炸", created_at=T0).to_dict()
            for i in range(n)]


def test_queued_posts_are_stored_fed_and_forgotten(parts) -> None:
    queue, pipeline, feed, store, _ = parts
    queue.put(accepted(25) + [{"source": "api", "id": "x"}])  # the last one has no text: dead letters
    total = QueueDrain(queue, pipeline, feed, "w1", batch=10).drain()
    assert (total.claimed, total.stored, total.rejected, total.fed) == (26, 25, 1, 25)
    assert queue.depth() == {"waiting": 0, "claimed": 0}
    store.refresh()
    assert store.count(PostQuery()) == 25 and pipeline.dead.count() == 1
    fed = feed.after(0, 100)
    assert len(fed) == 25 and fed[0].post["tokens"]  # analysed before it reached the feed


def test_a_dead_workers_batch_is_done_again_without_duplicates(parts) -> None:
    queue, pipeline, feed, store, now = parts
    queue.put(accepted(8))
    killed = queue.claim(8, "killed-worker", lease_seconds=300)  # claimed, half done, then kill -9
    pipeline.process([Post.from_dict(i.post) for i in killed[:4]])
    feed.append([i.post for i in killed[:4]])
    drain = QueueDrain(queue, pipeline, feed, "w2", batch=10)
    assert drain.run_once().claimed == 0  # still claimed
    now[0] += timedelta(seconds=301)
    r = drain.run_once()
    assert r.claimed == 8 and r.fed == 4  # the four already in the feed are not fed twice
    store.refresh()
    assert store.count(PostQuery()) == 8 and [i.seq for i in feed.after(0)] == list(range(1, 9))
