"""The JSON API: push ingest (token, per-item errors), search, statistics, health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest



def _items(n, start=0, text="青山县暴雨导致人民路积水"):
    now = datetime.now(timezone.utc)
    return [{"id": f"c{i}", "text": f"{text} 第{i}条", "created_at": (now - timedelta(minutes=i)).isoformat(),
             "author": "网友甲"} for i in range(start, start + n)]


def _drain(app):
    app.desk.pipeline.wait_idle(30)
    app.desk.store.refresh()


def test_ingest_needs_a_token(client):
    r = client.post("/api/v1/posts", json=_items(1))
    assert r.status_code == 401
    r = client.post("/api/v1/posts", json=_items(1), headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_ingest_reports_bad_items_and_keeps_good_ones(app, client, ingest_headers):
    items = _items(3)
    items.insert(1, {"id": "no-text", "created_at": "2026-11-24T08:00:00+08:00"})
    items.insert(3, {"id": "bad-time", "text": "有内容", "created_at": "上周五"})
    items.append("not an object")
    r = client.post("/api/v1/posts", json={"source": "crawler-a", "posts": items}, headers=ingest_headers)
    assert r.status_code == 202
    body = r.get_json()
    assert body["accepted"] == 3 and body["rejected"] == 3
    errs = {(e["where"], e["field"]) for e in body["errors"]}
    assert errs == {("items[1]", "text"), ("items[3]", "created_at"), ("items[5]", None)}
    _drain(app)
    with app.app_context():
        for pid in body["ids"]:
            p = app.desk.store.get(pid)
            assert p is not None and p.source == "crawler-a"
            assert p.tokens and p.sentiment_label in ("pos", "neg", "neutral")


def test_reingest_is_idempotent(app, client, ingest_headers):
    for _ in range(2):
        r = client.post("/api/v1/posts", json=_items(4), headers=ingest_headers)
        assert r.status_code == 202
    _drain(app)
    r = client.get("/api/v1/posts?minutes=600&size=50")
    assert r.get_json()["total"] == 4


def test_ingest_rejects_non_json_and_wrong_shapes(client, ingest_headers):
    r = client.post("/api/v1/posts", data="text", headers=ingest_headers)
    assert r.status_code == 400 and "not JSON" in r.get_json()["error"]
    r = client.post("/api/v1/posts", json={"posts": "x"}, headers=ingest_headers)
    assert r.status_code == 400 and r.get_json()["field"] == "posts"
    r = client.post("/api/v1/posts", json=[{"id": 1}], headers=ingest_headers)
    assert r.status_code == 400 and r.get_json()["rejected"] == 1


def test_search_volume_and_top(app, client, ingest_headers):
    client.post("/api/v1/posts", json=_items(5) + _items(2, 10, text="县图书馆新馆开放"), headers=ingest_headers)
    _drain(app)
    r = client.get("/api/v1/posts?q=暴雨&minutes=600")
    assert r.status_code == 200 and r.get_json()["total"] == 5
    r = client.get("/api/v1/stats/volume?interval=1m&minutes=30")
    buckets = r.get_json()["buckets"]
    assert sum(n for _, n in buckets) == 7
    r = client.get("/api/v1/stats/volume?interval=7m")
    assert r.status_code == 400 and r.get_json()["field"] == "interval"
    r = client.get("/api/v1/stats/top?field=author&minutes=600")
    assert r.get_json()["terms"][0] == ["网友甲", 7]


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.get_json()["ok"] is True


@pytest.mark.elasticsearch
def test_the_desk_on_elasticsearch(tmp_path, analyzer, es_url, ingest_headers):
    """The same API over the Elasticsearch store: ingest, search by jieba tokens, histogram, top terms."""
    from opinion_desk import create_app
    from tests.conftest import login_client, ensure_user, make_test_config

    prefix = f"t-api-{tmp_path.name.lower()[-20:]}"
    cfg = make_test_config(tmp_path, store={"backend": "elasticsearch"},
                           **{"store.elasticsearch": {"urls": [es_url], "index_prefix": prefix}})
    app = create_app(cfg, analyzer_factory=lambda: analyzer)
    store = app.desk.store
    try:
        client = login_client(app, ensure_user(app, "admin"))
        r = client.post("/api/v1/posts", json=_items(5) + _items(2, 10, text="县图书馆新馆开放"), headers=ingest_headers)
        assert r.status_code == 202 and r.get_json()["accepted"] == 7
        _drain(app)
        assert client.get("/api/v1/posts?q=暴雨&minutes=600").get_json()["total"] == 5
        assert client.get("/api/v1/posts?q=图书馆&minutes=600").get_json()["total"] == 2
        buckets = client.get("/api/v1/stats/volume?interval=1m&minutes=30").get_json()["buckets"]
        assert sum(n for _, n in buckets) == 7
        assert client.get("/api/v1/stats/top?field=author&minutes=600").get_json()["terms"][0] == ["网友甲", 7]
        assert store.indices() and all(i.startswith(prefix) for i in store.indices())
    finally:
        store.delete_all()
        store.close()
