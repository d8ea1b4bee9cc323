"""FeedReader: the rules lease holder reads the rule feed in order from its committed cursor into the engine; a
successor goes on from the cursor; a batch fed again after a crash raises no second alert."""

from __future__ import annotations

import os
import time

import pytest

from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.engine import Engine
from opinion_desk.detection.feed_reader import FeedReader
from opinion_desk.models import Post
from opinion_desk.state import StateDB
from opinion_desk.state.alerts import Alert
from opinion_desk.state.rule_feed import RuleFeed

from .helpers import T0, post

KEYWORD = "name: 关注词\ntype: keyword\nquery_key: keyword\nrealert: 30m\nfilter:\n  keywords: [爆炸]\n"


@pytest.fixture
def db(state_url):
    d = StateDB(state_url)
    d.upgrade()
    yield d
    d.dispose()


def engine(tmp_path, db) -> Engine:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    p = d / "kw.yaml"
    if not p.exists():
        p.write_text(KEYWORD, encoding="utf-8")
        os.utime(p, (time.time(), time.time() - 5))
    eng = Engine(d, clock=ManualClock(T0), statedb=db, record_alerts=True)
    eng.reload()
    return eng


def test_the_holder_feeds_in_order_and_a_successor_goes_on_from_the_cursor(tmp_path, db) -> None:
    feed = RuleFeed(db)
    feed.append([post(m, tokens=["爆炸"] if m == 3 else ["天气"]).to_dict() for m in range(5)])
    first = engine(tmp_path, db)
    heard: list[str] = []
    first.alert_listeners.append(lambda a: heard.append(a.key))
    assert FeedReader(feed, first, batch=2).catch_up() == 5
    assert first.posts_seen == 5 and heard == ["爆炸"] and feed.cursor("rules") == 5
    feed.append([post(6, tokens=["爆炸"]).to_dict()])
    successor = engine(tmp_path, db)  # the rules lease moved to another worker
    assert FeedReader(feed, successor).run_once() == 1 and successor.posts_seen == 1


def test_a_batch_fed_again_after_a_crash_alerts_once(tmp_path, db) -> None:
    feed = RuleFeed(db)
    feed.append([post(1, tokens=["爆炸"]).to_dict()])
    heard: list[str] = []
    first = engine(tmp_path, db)
    first.alert_listeners.append(lambda a: heard.append(a.id))
    first.on_posts([Post.from_dict(i.post) for i in feed.after(0)])  # the engine saw it; killed before the commit
    successor = engine(tmp_path, db)
    successor.alert_listeners.append(lambda a: heard.append(a.id))
    assert FeedReader(feed, successor).run_once() == 1  # the cursor was not committed: fed again
    assert feed.cursor("rules") == 1 and len(heard) == 1
    with db.session_scope() as s:
        assert s.query(Alert).count() == 1
