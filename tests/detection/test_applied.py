"""A batch replayed after a crash is not counted twice by the rules (issue 15): the pipeline deletes an inbox file
only after the rules counted its posts, so a desk killed in between replays it at its next start. The engine
saves the ids of its latest batches with the rule state and skips them when they come again."""

from __future__ import annotations

from datetime import timedelta

from opinion_desk.detection.applied import AppliedPosts
from opinion_desk.detection.clock import ManualClock
from opinion_desk.models import Post
from opinion_desk.pipeline import Pipeline
from opinion_desk.store.base import PostQuery
from opinion_desk.store.sqlite import SQLiteStore

from .helpers import T0, post
from .test_engine import _state_db, make, write  # noqa: F401 - _state_db: the state database fixture

FREQ = "name: 频次\ntype: frequency\ntimeframe: 30m\nnum_events: 1000\n"
NEW_TERM = ("name: 新词\ntype: new_term\ntimeframe: 30m\nfield: keywords\nterms_window: 1d\nmin_count: 50\n"
            "min_history: 1h\n")


def _rules(tmp_path) -> None:
    write(tmp_path, "f.yaml", FREQ)
    write(tmp_path, "n.yaml", NEW_TERM)


def _counts(eng, at) -> tuple:
    f = eng.rules["频次"].rtype.window.total("", at - timedelta(minutes=30), at)
    return f, {k: len(v) for k, v in eng.rules["新词"].rtype.candidates.items()}


def test_a_batch_counted_and_saved_then_replayed_after_a_restart_is_counted_once(tmp_path) -> None:
    _rules(tmp_path)
    clock = ManualClock(T0 + timedelta(minutes=10))
    eng, _ = make(tmp_path, clock)
    first = [post(m / 10, "帖子", keywords=["新地名"]) for m in range(60)]
    eng.on_posts(first)
    eng.tick()  # the state is saved: these posts are in the saved windows
    before = _counts(eng, clock())
    assert before == (60, {"新地名": 60})

    eng2, _ = make(tmp_path, clock)  # killed before the inbox file went: the restarted desk replays the batch
    assert _counts(eng2, clock()) == before
    eng2.on_posts(first)
    assert _counts(eng2, clock()) == before
    later = [post(9 + m / 10, "帖子", keywords=["新地名"]) for m in range(5)]
    eng2.on_posts(later + first[:3])  # new posts still count, in the same batch as replayed ones
    assert _counts(eng2, clock()) == (65, {"新地名": 65})


def test_a_post_sent_twice_in_one_batch_or_in_the_next_is_counted_once(tmp_path) -> None:
    write(tmp_path, "f.yaml", FREQ)
    clock = ManualClock(T0 + timedelta(minutes=10))
    eng, _ = make(tmp_path, clock)
    p = post(1)
    twin = Post(source=p.source, source_id=p.source_id, text="同一条", created_at=p.created_at)
    eng.on_posts([p, twin])
    eng.on_posts([twin])
    assert eng.rules["频次"].rtype.window.total("", T0 - timedelta(minutes=5), clock()) == 1


def test_the_kept_ids_are_bounded_and_the_last_two_batches_stay_whole() -> None:
    kept = AppliedPosts(batches=4, keep=100)
    batches = [[post(i) for i in range(k * 1000, k * 1000 + 80)] for k in range(5)]
    for b in batches:
        assert kept.fresh(b) == b
    assert len(kept) == 160  # over 100 ids: the older batches went, the last two stay whole
    assert kept.fresh(batches[0]) == batches[0]  # forgotten: counted again (documented bound)
    assert kept.fresh(batches[4]) == []
    added, removed = kept.changes()  # the state rows: one per batch kept, the dropped ones never written
    assert len(added) == 2 and removed == set() and kept.changes() == ({}, set())
    kept.fresh([post(9000)])
    kept.fresh([post(9001)])
    added2, removed2 = kept.changes()  # each save writes the new batches and deletes the dropped ones only
    assert len(added2) == 2 and removed2 == {sorted(added)[0]}
    again = AppliedPosts(batches=4, keep=100)
    again.restore({k: v for k, v in {**added, **added2}.items() if k not in removed2})
    assert len(again) == 82 and again.fresh(batches[0]) == []


def test_pipeline_replay_after_a_kill_between_counting_and_deleting_the_inbox_file(tmp_path, analyzer) -> None:
    """The real pipeline and engine: the batch is stored and counted (and the rule state saved by a tick), the
    desk dies before it deletes the inbox file; the next start replays the file: stored once, counted once."""
    write(tmp_path, "f.yaml", FREQ)
    clock = ManualClock(T0 + timedelta(minutes=40))
    store = SQLiteStore(tmp_path / "posts.db")
    eng, _ = make(tmp_path, clock)
    batch = [Post(source="test", source_id=f"r{i}", text=f"青山县暴雨积水，第{i}条",
                  created_at=T0 + timedelta(minutes=10, seconds=i)) for i in range(40)]
    pl = Pipeline(store, lambda: analyzer, tmp_path / "spool", on_stored=[eng.on_posts])
    pl._ensure_worker = lambda: None  # type: ignore[method-assign]  # the worker has not deleted the file yet
    pl.submit(batch)
    pl.process(batch)  # what the worker does before it deletes the inbox file: store, then the rules count
    eng.tick()
    window = eng.rules["频次"].rtype.window
    assert pl.inbox.pending() == 40 and window.total("", T0 - timedelta(minutes=5), clock()) == 40

    eng2, _ = make(tmp_path, clock)  # kill -9, start again on the same data
    restarted = Pipeline(store, lambda: analyzer, tmp_path / "spool", on_stored=[eng2.on_posts])
    assert restarted.recover(everything=True) == 1
    assert restarted.wait_idle(60)
    restarted.stop()
    assert restarted.inbox.pending() == 0 and store.count(PostQuery()) == 40
    assert eng2.rules["频次"].rtype.window.total("", T0 - timedelta(minutes=5), clock()) == 40
