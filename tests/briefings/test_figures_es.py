"""The same daily briefing on Elasticsearch: its figures checked against counts asked of the cluster directly
(``_count`` over HTTP, the day's bounds in Beijing time) and against the fixture's posts."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from opinion_desk.briefings import facts
from opinion_desk.briefings import period as P
from tests.briefings.conftest import BJ
from tests.conftest import free_port

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def app_config(app_config, es_url):
    prefix = f"t-brief-{free_port()}"
    app_config["store"] = {"backend": "elasticsearch"}
    app_config["store.elasticsearch"] = {"urls": [es_url], "index_prefix": prefix}
    return app_config


@pytest.fixture
def es_store(app):
    store = app.desk.store
    yield store
    store.delete_all()


def es_count(es_url: str, prefix: str, start, end, label: str | None = None) -> int:
    filters: list[dict] = [{"range": {"created_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}]
    if label:
        filters.append({"term": {"sentiment_label": label}})
    r = requests.post(f"{es_url}/{prefix}/_count", json={"query": {"bool": {"filter": filters}}}, timeout=30)
    r.raise_for_status()
    return r.json()["count"]


def test_daily_figures_match_elasticsearch(app, es_store, seeded, briefings, es_url):
    prefix = app.config["DESK"]["store.elasticsearch"]["index_prefix"]
    p = P.day(date(2026, 11, 24), BJ)
    f = briefings.make(p, "test")["figures"]
    assert f["posts"] == es_count(es_url, prefix, p.start, p.end) == 128
    for label in ("neg", "neutral", "pos"):
        want = sum(1 for x in seeded["posts"] if p.start <= x.created_at < p.end and x.sentiment_label == label)
        assert f[f"posts_{label}"] == es_count(es_url, prefix, p.start, p.end, label) == want, label
    buckets, _unit = facts.volume(es_store, p)
    by_hour: dict[str, int] = {}
    for x in seeded["posts"]:
        if p.start <= x.created_at < p.end:
            h = x.created_at.astimezone(BJ).strftime("%H")
            by_hour[h] = by_hour.get(h, 0) + 1
    assert {b.start.strftime("%H"): b.total for b in buckets if b.total} == by_hour
    assert (f["alerts"], f["incidents"], f["publications"]) == (3, 4, 4)
