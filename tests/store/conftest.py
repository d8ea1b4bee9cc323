"""Fixtures of the store tests: ``store`` runs each test against both backends, on fresh indices/files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from opinion_desk.store.base import PostStore


def segment(text: str) -> list[str]:
    """Test segmenter: whitespace. The contract suite must not depend on the analyzer's dictionary."""
    return text.split()


def make_elastic(url: str | list[str], **kw: object) -> "PostStore":
    from opinion_desk.store.elastic import ElasticStore

    kw.setdefault("index_prefix", f"odtest-{uuid.uuid4().hex[:12]}")
    kw.setdefault("request_timeout", 30)
    return ElasticStore(url, segment=segment, **kw)  # type: ignore[arg-type]


BACKENDS = ["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)]
#: the contract suite also runs on the local two-node cluster, one replica per shard
WITH_CLUSTER = [*BACKENDS, pytest.param("es-cluster", marks=pytest.mark.elasticsearch)]


def open_test_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PostStore]:
    """A fresh, empty store of the kind ``request.param`` names (Elasticsearch: uniquely prefixed indices, deleted
    afterwards; ``es-cluster``: on both nodes of the local cluster with ``number_of_replicas = 1``)."""
    if request.param == "sqlite":
        from opinion_desk.store.sqlite import SQLiteStore

        s: PostStore = SQLiteStore(tmp_path / "posts.db", segment=segment)
        yield s
        s.close()
        return
    if request.param == "es-cluster":
        s = make_elastic(request.getfixturevalue("es_cluster_urls"), number_of_replicas=1)
    else:
        s = make_elastic(request.getfixturevalue("es_url"))
    try:
        yield s
    finally:
        s.delete_all()  # type: ignore[attr-defined]
        s.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PostStore]:
    """A fresh, empty store of each backend (Elasticsearch: uniquely prefixed indices, deleted afterwards)."""
    yield from open_test_store(request, tmp_path)
