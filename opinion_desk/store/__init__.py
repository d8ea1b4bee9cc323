"""Post stores: the registry of backends and ``open_store(cfg)`` (``s = open_store(cfg)`` ... ``s.close()``).

The desk (:mod:`opinion_desk.root`) opens one store and keeps it for its lifetime; it is thread-safe and shared
by every request and job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StoreError
from .base import INTERVALS, TERM_FIELDS, IndexResult, PostQuery, PostStore, SearchResult

if TYPE_CHECKING:
    from ..models import Post

__all__ = ["BACKENDS", "open_store", "PostStore", "PostQuery", "SearchResult", "IndexResult", "INTERVALS",
           "TERM_FIELDS"]

# backend name -> "module:Class", imported only when chosen (the Elasticsearch client stays unloaded for sqlite)
BACKENDS: dict[str, str] = {
    "sqlite": "opinion_desk.store.sqlite:SQLiteStore",
    "elasticsearch": "opinion_desk.store.elastic:ElasticStore",
}


def backend_class(name: str) -> type[PostStore]:
    """The store class registered under ``name`` (``[store] backend``)."""
    if name not in BACKENDS:
        raise ConfigError([f"[store] backend: {name!r} is not one of {sorted(BACKENDS)}"])
    mod, _, cls = BACKENDS[name].partition(":")
    return getattr(import_module(mod), cls)


def open_store(cfg: Any, segment: Callable[[str], list[str]] | None = None) -> PostStore:
    """Open the store named by ``cfg["store"]["backend"]`` (a :class:`~opinion_desk.config.Config`).

    ``segment`` is the query-side segmenter (default: ``analyzers.segment``, loaded on first use).
    """
    backend = cfg["store"]["backend"]
    if backend == "sqlite":
        from .sqlite import SQLiteStore

        path = cfg.data_path(cfg["store"]["sqlite_path"]) if hasattr(cfg, "data_path") else cfg["store"]["sqlite_path"]
        return SQLiteStore(path, segment=segment)
    if backend == "elasticsearch":
        from .elastic import ElasticStore

        return ElasticStore.from_config(cfg["store.elasticsearch"], segment=segment)
    return backend_class(backend)(segment=segment)  # a future backend registered above


# shared by the backends -------------------------------------------------------------------------------------
MAX_BUCKETS = 100_000


def interval_step(interval: str) -> int:
    """The bucket width of ``interval`` in microseconds; a :class:`StoreError` names the allowed ones."""
    if interval not in INTERVALS:
        raise StoreError(f"histogram interval {interval!r} is not one of {list(INTERVALS)}")
    return int(INTERVALS[interval].total_seconds()) * 1_000_000


def to_us(dt: datetime) -> int:
    """Aware datetime -> microseconds since the epoch (naive is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    from datetime import timedelta

    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)


def zero_fill(counts: dict[int, int], interval: str, query: PostQuery) -> list[tuple[datetime, int]]:
    """Buckets (start in µs -> count) to the contract's list: aligned, oldest first, empty buckets as 0 over the
    data's range, or over ``[since, until)`` when both are given."""
    step = interval_step(interval)
    if query.since is not None and query.until is not None:
        lo = to_us(query.since) // step * step
        hi = (to_us(query.until) - 1) // step * step
    elif counts:
        lo, hi = min(counts), max(counts)
    else:
        return []
    if hi < lo:
        return []
    n = (hi - lo) // step + 1
    if n > MAX_BUCKETS:
        raise StoreError(f"histogram would have {n} buckets of {interval}; use a wider interval or a shorter range")
    return [(from_us(b), counts.get(b, 0)) for b in range(lo, hi + 1, step)]


def check_term_field(field: str) -> None:
    if field not in TERM_FIELDS:
        raise StoreError(f"top_terms field {field!r} is not one of {list(TERM_FIELDS)}")


def split_terms(tokens: list[str]) -> list[str]:
    """Searchable terms of a token list: each token split on whitespace (what Elasticsearch's ``whitespace``
    analyzer does), empties dropped, order kept, duplicates removed. Both backends index and query these."""
    seen: dict[str, None] = {}
    for t in tokens:
        for part in str(t).split():
            seen.setdefault(part, None)
    return list(seen)


@cache
def _known_fields(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


def post_from_doc(doc: dict[str, Any]) -> "Post":
    """Rebuild a post from its stored ``Post.to_dict()`` form (store-only keys such as ``title_tokens`` dropped).

    A doc as the stores write it (every value already checked when the post was accepted, aware ISO times) is
    built directly (about 6x faster than :meth:`Post.from_dict`, which a 2,000-post event page spent ~350 ms in);
    anything else (an older or partial doc, a naive time, a count that is not an integer) goes through
    ``from_dict``, which fills defaults and names a bad field. A doc may hold only some fields (a search with
    ``PostQuery.fields``): the others keep their defaults."""
    from ..models import Post, _post_fields

    known = _known_fields(_post_fields())
    try:
        kw = {k: v for k, v in doc.items() if k in known}
        created = datetime.fromisoformat(kw["created_at"])
        collected = datetime.fromisoformat(kw["collected_at"]) if kw.get("collected_at") else None
        if (created.tzinfo is None or (collected is not None and collected.tzinfo is None)
                or not isinstance(kw["text"], str) or not kw["text"].strip()
                or not isinstance(kw["source"], str) or not kw["source"]
                or not isinstance(kw["source_id"], str) or not kw["source_id"] or kw.get("images")
                or any(type(kw.get(k, 0)) is not int for k in ("reposts", "comments", "likes"))):
            raise ValueError("checked by from_dict")
    except (KeyError, TypeError, ValueError):
        doc = {k: v for k, v in doc.items() if k not in ("id", "title_tokens")}
        return Post.from_dict(doc, where=f"stored post {doc.get('source')}/{doc.get('source_id')}")
    kw["created_at"] = created
    if collected is not None:
        kw["collected_at"] = collected
    else:
        kw.pop("collected_at", None)
    return Post(**kw)

