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


def make_elastic(url: str, **kw: object) -> "PostStore":
    from opinion_desk.store.elastic import ElasticStore

    kw.setdefault("index_prefix", f"odtest-{uuid.uuid4().hex[:12]}")
    kw.setdefault("request_timeout", 30)
    return ElasticStore(url, segment=segment, **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PostStore]:
    """A fresh, empty store of each backend (Elasticsearch: uniquely prefixed indices, deleted afterwards)."""
    if request.param == "sqlite":
        from opinion_desk.store.sqlite import SQLiteStore

        s: PostStore = SQLiteStore(tmp_path / "posts.db", segment=segment)
        yield s
        s.close()
    else:
        s = make_elastic(request.getfixturevalue("es_url"))
        try:
            yield s
        finally:
            s.delete_all()  # type: ignore[attr-defined]
            s.close()
