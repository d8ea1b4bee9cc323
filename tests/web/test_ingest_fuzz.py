"""Fuzz of the push API: 1,000 seeded request bodies mixing good and bad items (issue 15).

Each bad item has one known defect; the answer must name its index and the field, the good items of the same
body must all be accepted and stored, nothing may answer 5xx, and the log must hold no traceback.
"""

from __future__ import annotations

import logging
import random

import pytest

from opinion_desk import stop_background

from opinion_desk.models import post_id
from opinion_desk.store.base import PostQuery
from tests.collectors.fuzz_items import batch, dumps

SEED = 20261125
ITEM_BODIES = 1000
ODD_BODIES: list[tuple[bytes, int]] = [
    (b"", 400), (b"not json", 400), (b"\xff\xfe\x00", 400), (b"[" * 100_000, 400), (b"[" * 5_000 + b"]" * 5_000, 400), (b"[" * 500 + b"]" * 500, 400),
    (b'{"posts": 5}', 400), (b'{"x": 1}', 400), (b'"a string"', 400), (b"12", 400), (b"null", 400),
]


def test_a_thousand_mixed_bodies(app, client, ingest_headers, caplog):
    fuzz(app, client, ingest_headers, caplog, ITEM_BODIES)


@pytest.mark.elasticsearch
def test_mixed_bodies_on_elasticsearch(tmp_path, analyzer, es_url, ingest_headers, caplog):
    """The stricter store: every good item the checks let through is one Elasticsearch takes."""
    from opinion_desk import create_app
    from tests.conftest import ensure_user, login_client, make_test_config

    cfg = make_test_config(tmp_path, store={"backend": "elasticsearch"}, **{"store.elasticsearch": {
        "urls": [es_url], "index_prefix": f"t-fuzz-{tmp_path.name.lower()[-20:]}"}})
    app = create_app(cfg, analyzer_factory=lambda: analyzer)
    store = app.desk.store
    try:
        fuzz(app, login_client(app, ensure_user(app, "admin")), ingest_headers, caplog, 300)
        assert all(i.startswith(store.prefix + "-2") for i in store.indices())
    finally:
        stop_background(app)
        store.delete_all()
        store.close()


def fuzz(app, client, ingest_headers, caplog, item_bodies: int) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    headers = {**ingest_headers, "Content-Type": "application/json"}
    accepted: set[str] = set()
    statuses: dict[int, int] = {}
    n = 0
    bodies = 0
    for b in range(item_bodies):
        items, bad, good = batch(rng, n, rng.randint(1, 8))
        n += len(items)
        wrapped = rng.random() < 0.5
        body = dumps({"source": "fuzz", "posts": items} if wrapped else items).encode()
        r = client.post("/api/v1/posts", data=body, headers=headers)
        bodies += 1
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (b, r.status_code, r.get_data(as_text=True)[:500])
        if r.status_code == 413:  # the whole body is over [ingest] max_body_bytes: nothing was acknowledged
            assert len(body) > app.config["DESK"]["ingest"]["max_body_bytes"]
            continue
        js = r.get_json()
        assert r.status_code == (202 if good else 400), (b, r.status_code, js)
        got = {e["where"]: e for e in js["errors"]}
        assert set(got) == {f"items[{i}]" for i in bad}, (b, got, bad)
        for i, (field, label) in bad.items():
            e = got[f"items[{i}]"]
            assert e["reason"], (b, label)
            if field is not None:
                assert (e["field"] or "").startswith(field), (b, i, label, e)
        source = "fuzz" if wrapped else "ingest"
        assert sorted(js["ids"]) == sorted(post_id(source, g) for g in good), (b, js)
        accepted.update(js["ids"])
    for raw, want in ODD_BODIES:
        r = client.post("/api/v1/posts", data=raw, headers=headers)
        bodies += 1
        assert r.status_code == want, (raw[:20], r.status_code, r.get_data(as_text=True)[:300])
    assert bodies >= item_bodies + len(ODD_BODIES)

    pipeline = app.desk.pipeline
    assert pipeline.wait_idle(300)
    store = app.desk.store
    store.refresh()
    assert store.count(PostQuery()) == len(accepted)  # 0 good items lost
    assert pipeline.dead.count() == 0  # every bad item was refused before the 202, none reached the store
    assert pipeline.inbox.pending() == 0
    assert not list(pipeline.spool.dir.rglob("*.tmp"))
    r = client.get("/api/v1/stats/volume?interval=1m&minutes=60")
    assert r.status_code == 200
    tracebacks = [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]
    assert tracebacks == [], [rec.getMessage() for rec in tracebacks][:5]
    print(f"fuzz: {bodies} bodies, {n} items, {len(accepted)} good posts stored, answers {statuses}")


def test_other_formats_never_answer_5xx(app, client, ingest_headers, caplog):
    """The crawler formats get the same items (mostly wrong for them): refused item by item, never a 5xx."""
    caplog.set_level(logging.WARNING)
    from opinion_desk.collectors.push import FORMATS

    rng = random.Random(SEED + 1)
    headers = {**ingest_headers, "Content-Type": "application/json"}
    n = 0
    for fmt in sorted(f for f in FORMATS if f != "desk"):
        for _ in range(60):
            items, _bad, _good = batch(rng, n, rng.randint(1, 6), bad_share=0.6)
            n += len(items)
            r = client.post(f"/api/v1/posts?format={fmt}", data=dumps(items).encode(), headers=headers)
            assert r.status_code < 500, (fmt, r.status_code, r.get_data(as_text=True)[:300])
            if r.status_code in (202, 400) and r.is_json and "errors" in r.get_json():
                assert all(e["where"].startswith("items[") for e in r.get_json()["errors"])
    assert app.desk.pipeline.wait_idle(120)
    tracebacks = [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]
    assert tracebacks == [], [rec.getMessage() for rec in tracebacks][:5]
