"""The app factory and the background work `opinion-desk run` starts."""

from __future__ import annotations

import time

import pytest

from opinion_desk import create_app, start_background, stop_background
from opinion_desk.store.base import PostQuery
from tests.conftest import make_test_config


def test_nothing_runs_until_start_background(tmp_path, analyzer):
    app = create_app(make_test_config(tmp_path, desk={"demo": True, "demo_interval": 0.2}),
                     analyzer_factory=lambda: analyzer)
    try:
        assert not app.desk.scheduler.aps.running
        time.sleep(0.5)
        assert app.desk.store.count(PostQuery()) == 0
    finally:
        stop_background(app)


def test_demo_posts_flow_once_started(tmp_path, analyzer):
    app = create_app(make_test_config(tmp_path, desk={"demo": True, "demo_interval": 0.2}),
                     analyzer_factory=lambda: analyzer)
    store = app.desk.store
    start_background(app)
    try:
        jobs = {j.id for j in app.desk.scheduler.aps.get_jobs()}
        assert {"spool-drain", "retention", "analyzer-state", "source:demo"} <= jobs
        deadline = time.time() + 20
        while store.count(PostQuery()) < 6 and time.time() < deadline:
            time.sleep(0.2)
        assert store.count(PostQuery()) >= 6
        got = store.search(PostQuery(size=50)).posts
        assert {p.source for p in got} == {"demo"} and all(p.sentiment_label for p in got)
    finally:
        stop_background(app)


def test_bad_config_is_refused_with_the_field(tmp_path):
    from opinion_desk.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[store\] backend"):
        create_app(make_test_config(tmp_path, store={"backend": "mongo"}))
