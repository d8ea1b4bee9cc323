"""The rule feed on SQLite and PostgreSQL: appended posts read once and in order, a named cursor that survives a
new reader, pruning, a post id taken once, and no gap: an appender whose transaction took numbers but has not
committed holds back every later append, so a reader never passes a number that is still to come."""

from __future__ import annotations

import threading
import time


from opinion_desk.state import StateDB
from opinion_desk.state.rule_feed import RuleFeed
from opinion_desk.state.txn import write_transaction




def posts(*ids: str) -> list[dict]:
    return [{"id": i, "text": f"帖子 {i}"} for i in ids]


def test_append_read_commit_prune(db) -> None:
    feed = RuleFeed(db)
    assert feed.append(posts("a", "b", "c")) == [1, 2, 3]
    assert feed.append(posts("b", "d", "d")) == [4]  # b is in the feed already, d is given twice
    assert [(i.seq, i.post_id) for i in feed.after(0)] == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    assert feed.after(0)[0].post == {"id": "a", "text": "帖子 a"}
    assert [i.seq for i in feed.after(2, n=1)] == [3]
    assert feed.cursor("rules") == 0
    feed.commit("rules", 3)
    new_holder = RuleFeed(StateDB(db.url))  # the rules lease moved: the new holder goes on from the cursor
    assert [i.post_id for i in new_holder.after(new_holder.cursor("rules"))] == ["d"]
    new_holder.db.dispose()
    feed.commit("export", 1)
    assert feed.prune() == 1  # only what every reader has passed
    feed.drop_cursor("export")
    assert feed.prune() == 2 and [i.seq for i in feed.after(0)] == [4]
    assert feed.head() == 4 and feed.append(posts("e")) == [5]


def test_prune_without_a_reader_keeps_everything(db) -> None:
    feed = RuleFeed(db)
    feed.append(posts("a"))
    assert feed.prune() == 0 and len(feed.after(0)) == 1


def test_an_uncommitted_append_holds_back_later_ones(db) -> None:
    """The PostgreSQL gap: with plain autoincrement, B (number 2) could commit before A (number 1); a reader at 2
    would never see 1. Here A keeps its transaction open; B must wait, and the reader sees nothing until A
    commits, then 1 and 2 in order."""
    feed = RuleFeed(db)
    feed.append(posts("first"))  # the counter row exists
    a_took = threading.Event()
    a_may_commit = threading.Event()
    b_done: list[list[int]] = []

    def appender_a() -> None:
        with write_transaction(db) as conn:
            feed.append_in(conn, [("a", {"id": "a"})])
            a_took.set()
            a_may_commit.wait(30)

    ta = threading.Thread(target=appender_a)
    ta.start()
    assert a_took.wait(30)
    tb = threading.Thread(target=lambda: b_done.append(RuleFeed(db).append(posts("b"))))
    tb.start()
    time.sleep(0.8)
    assert b_done == []  # B waits for A's numbers to be committed
    assert [i.post_id for i in feed.after(1)] == []
    a_may_commit.set()
    ta.join(30)
    tb.join(30)
    assert b_done == [[3]]
    assert [(i.seq, i.post_id) for i in feed.after(1)] == [(2, "a"), (3, "b")]


def test_parallel_appenders_and_one_reader_see_every_post_once_in_order(db) -> None:
    feed = RuleFeed(db)
    writers, per = 4, 40
    stop = threading.Event()
    read: list[tuple[int, str]] = []

    def writer(w: int) -> None:
        for i in range(per):
            RuleFeed(db).append(posts(f"w{w}-{i}", f"w{w}-{i}b"))

    def reader() -> None:
        cursor = 0
        while True:
            done = stop.is_set()  # read on until a read after the writers ended finds nothing
            batch = feed.after(cursor, n=50)
            for item in batch:
                read.append((item.seq, item.post_id))
                cursor = item.seq
            feed.commit("rules", cursor)
            if done and not batch:
                return

    r = threading.Thread(target=reader)
    r.start()
    ws = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in ws:
        t.start()
    for t in ws:
        t.join(120)
    stop.set()
    r.join(60)
    assert [s for s, _ in read] == list(range(1, writers * per * 2 + 1))  # every number, once, in order
    assert len({p for _, p in read}) == writers * per * 2
    assert feed.cursor("rules") == writers * per * 2


def test_the_same_posts_appended_at_once_by_several_workers_enter_once(db) -> None:
    """A replayed batch racing its first run: every post id once, the numbers without a hole."""
    ids = [f"p{i}" for i in range(30)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        start.wait()
        try:
            for i in range(0, 30, 10):
                RuleFeed(db).append(posts(*ids[(i + 10 * k) % 30:(i + 10 * k) % 30 + 10]))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = RuleFeed(db).after(0, 100)
    assert errors == [] and sorted(i.post_id for i in got) == sorted(ids)
    assert [i.seq for i in got] == list(range(1, 31))
