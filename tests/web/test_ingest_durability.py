"""What the desk answers about posts it cannot keep: 503 (never 202) when the inbox cannot be written, refused
posts counted on /api/v1/health and the sources page, a post dated far ahead cannot break the volume chart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post


def _items(n, prefix="h"):
    now = datetime.now(timezone.utc)
    return [{"id": f"{prefix}{i}", "text": f"城南小学食堂第{i}条", "created_at": (now - timedelta(minutes=i)).isoformat()}
            for i in range(n)]


def test_no_202_unless_the_posts_are_on_disk(app, client, ingest_headers):
    pipeline = app.desk.pipeline
    inbox = pipeline.inbox.dir
    inbox.parent.mkdir(parents=True, exist_ok=True)
    inbox.write_text("not a directory")  # the inbox cannot be written (a full or broken disk looks the same)
    r = client.post("/api/v1/posts", json=_items(3), headers=ingest_headers)
    assert r.status_code == 503
    body = r.get_json()
    assert body["accepted"] == 0 and "ids" not in body and "稍后重发" in body["error"]
    inbox.unlink()
    r = client.post("/api/v1/posts", json=_items(3), headers=ingest_headers)
    assert r.status_code == 202 and r.get_json()["accepted"] == 3
    assert pipeline.wait_idle(30)
    assert not list(pipeline.spool.dir.rglob("*.tmp"))


def test_refused_posts_are_counted_on_health_and_the_sources_page(app, client):
    pipeline = app.desk.pipeline
    far = Post(source="rss-x", source_id="y3000", text="来自未来", created_at=datetime(3000, 1, 1, tzinfo=timezone.utc))
    res = pipeline.process([far])  # what a collector's odd post meets
    assert res.rejected == 1 and "created_at" in res.errors[0]
    h = client.get("/api/v1/health").get_json()
    assert h["rejected"] == 1 and h["inbox"] == 0 and h["spooled"] == 0
    page = client.get("/sources").get_data(as_text=True)
    assert 'id="src-rejected"' in page and "被拒帖子<b class=\"nz\">1</b>" in page


def test_a_post_dated_far_ahead_does_not_break_the_volume_chart(app, client):
    store = app.desk.store
    now = datetime.now(timezone.utc)
    # stored before the date checks existed (the store itself takes it)
    store.index([Post(source="old", source_id="ahead", text="七十天后", created_at=now + timedelta(days=70)),
                 Post(source="old", source_id="now", text="现在", created_at=now - timedelta(minutes=5))])
    r = client.get("/api/v1/stats/volume?interval=1m&minutes=60")
    assert r.status_code == 200
    buckets = r.get_json()["buckets"]
    assert 60 <= len(buckets) <= 62 and sum(n for _, n in buckets) == 1
    r = client.get("/api/v1/stats/volume?interval=1m")  # no range: the data's range, too many 1-minute buckets
    assert r.status_code == 400 and r.get_json()["field"] == "interval"


@pytest.mark.elasticsearch
def test_elasticsearch_refuses_a_post_outside_its_indices_per_post(es_url):
    from tests.store.conftest import make_elastic

    store = make_elastic(es_url)
    try:
        ok = Post(source="s", source_id="ok", text="正常", created_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
        odd = [Post(source="s", source_id=f"y{y}", text="怪", created_at=datetime(y, 1, 1, tzinfo=timezone.utc))
               for y in (999, 3000)]
        res = store.index([odd[0], ok, odd[1]])
        assert res.indexed == 1 and set(res.refused) == {p.id for p in odd}
        assert all("outside the alias" in r for r in res.refused.values())
        assert store.indices() == [f"{store.prefix}-2026.11"]  # type: ignore[attr-defined]
        all_ours = store.client.indices.get(index=f"{store.prefix}-*")  # type: ignore[attr-defined]
        assert sorted(all_ours.body) == [f"{store.prefix}-2026.11"]
    finally:
        store.delete_all()  # type: ignore[attr-defined]
        store.close()
