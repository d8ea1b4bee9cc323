"""What only the Elasticsearch store does: time-based indices behind an alias, template, per-post errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.config import load_config
from opinion_desk.errors import StoreError
from opinion_desk.models import Post
from opinion_desk.store import open_store
from opinion_desk.store.base import PostQuery

from .conftest import make_elastic

pytestmark = pytest.mark.elasticsearch
UTC = timezone.utc


def post(sid: str, at: datetime, **kw: object) -> Post:
    return Post(source="s", source_id=sid, text="文本", created_at=at, tokens=["文本"], **kw)  # type: ignore[arg-type]


def test_indices_alias_and_one_copy_per_id(es_url: str) -> None:
    s = make_elastic(es_url)
    try:
        p = post("x", datetime(2024, 1, 31, 23, 59, tzinfo=UTC))
        q = post("y", datetime(2024, 2, 1, 0, 0, tzinfo=UTC))
        s.index([p, q])
        s.index([replace(p, text="改"), replace(q, likes=3)])
        s.refresh()
        assert s.indices() == [f"{s.prefix}-2024.01", f"{s.prefix}-2024.02"]
        for x in (p, q):
            r = s.client.search(index=s.prefix, query={"ids": {"values": [x.id]}})
            assert r["hits"]["total"]["value"] == 1
        m = s.client.indices.get_mapping(index=f"{s.prefix}-2024.01")[f"{s.prefix}-2024.01"]["mappings"]
        assert m["dynamic"] == "false" and m["properties"]["raw"]["enabled"] is False
        assert m["properties"]["tokens_text"]["analyzer"] == "whitespace"
        assert s.drop_before(datetime(2024, 1, 31, tzinfo=UTC)) == 0  # January does not end before the 31st
        assert s.drop_before(datetime(2024, 2, 1, tzinfo=UTC)) == 1
        assert s.indices() == [f"{s.prefix}-2024.02"]
    finally:
        s.delete_all()


def test_daily_indices(es_url: str) -> None:
    s = make_elastic(es_url, index_period="day")
    try:
        t = datetime(2024, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8)))  # 08:30 UTC
        s.index([post("d", t), post("e", t + timedelta(days=1))])
        assert s.indices() == [f"{s.prefix}-2024.03.01", f"{s.prefix}-2024.03.02"]
        assert s.drop_before(datetime(2024, 3, 2, tzinfo=UTC)) == 1
        s.refresh()
        assert s.count(PostQuery()) == 1
    finally:
        s.delete_all()


def test_per_post_errors_name_the_post(es_url: str) -> None:
    s = make_elastic(es_url)
    try:
        good, bad = post("ok", datetime(2024, 1, 1, tzinfo=UTC)), post("bad", datetime(2024, 1, 1, tzinfo=UTC))
        bad.likes = "lots"  # type: ignore[assignment]
        res = s.index([good, bad])
        assert res.indexed == 1 and len(res.errors) == 1 and bad.id in res.errors[0]
    finally:
        s.delete_all()


def test_open_store_from_config(es_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config(env={}, overrides={"desk": {"data_dir": str(tmp_path)}, "store": {"backend": "elasticsearch"},
                                         "store.elasticsearch": {"urls": [es_url], "index_prefix": "odtest-cfg"}})
    s = open_store(cfg, segment=str.split)
    try:
        assert s.name == "elasticsearch" and s.ping()
    finally:
        s.close()
    cfg = load_config(env={}, overrides={"desk": {"data_dir": str(tmp_path)}})
    s = open_store(cfg, segment=str.split)
    assert s.name == "sqlite" and (tmp_path / "posts.db").exists()
    s.close()


def test_bad_prefix_is_named() -> None:
    with pytest.raises(StoreError, match="index_prefix"):
        make_elastic("http://127.0.0.1:1", index_prefix="Upper")


def test_shards_and_replicas_from_config_reach_the_indices(es_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prefix = f"odtest-shards-{tmp_path.name[-6:].lower()}"
    cfg = load_config(env={}, overrides={"desk": {"data_dir": str(tmp_path)}, "store": {"backend": "elasticsearch"},
                                         "store.elasticsearch": {"urls": [es_url], "index_prefix": prefix,
                                                                 "number_of_shards": 2, "number_of_replicas": 0}})
    s = open_store(cfg, segment=str.split)
    try:
        assert s.index([post("a", datetime(2024, 3, 1, tzinfo=UTC))]).indexed == 1
        name = s.indices()[0]  # type: ignore[attr-defined]
        got = s.client.indices.get_settings(index=name)[name]["settings"]["index"]  # type: ignore[attr-defined]
        assert (got["number_of_shards"], got["auto_expand_replicas"]) == ("2", "0-0")
        # a later start with more replicas puts them on the index that exists (its shards stay as they were)
        again = make_elastic(es_url, index_prefix=prefix, number_of_shards=3, number_of_replicas=2)
        assert again.index([post("b", datetime(2024, 3, 2, tzinfo=UTC))]).indexed == 1
        got = s.client.indices.get_settings(index=name)[name]["settings"]["index"]  # type: ignore[attr-defined]
        assert (got["number_of_shards"], got["auto_expand_replicas"]) == ("2", "0-2")
        health = s.client.cluster.health(index=name)  # type: ignore[attr-defined]
        assert health["status"] == "green"  # one node: no replica it cannot place, so not yellow
        again.close()
    finally:
        s.delete_all()  # type: ignore[attr-defined]
        s.close()


@pytest.mark.parametrize("kw,key", [({"number_of_shards": 0}, "number_of_shards"),
                                    ({"number_of_replicas": -1}, "number_of_replicas"),
                                    ({"number_of_replicas": True}, "number_of_replicas")])
def test_bad_shard_settings_are_named(kw: dict, key: str) -> None:
    with pytest.raises(StoreError, match=f"{key}.*整数"):
        make_elastic("http://127.0.0.1:1", **kw)
