"""The Elasticsearch post store (official 8.x client).

Layout: time-based indices ``{prefix}-YYYY.MM`` (or ``{prefix}-YYYY.MM.DD`` with ``index_period = "day"``) behind
the alias ``{prefix}``, created on first write from the composable index template ``{prefix}-posts`` (explicit
mappings, ``dynamic: false``; the template adds the alias). Reads go to the alias.

Idempotency: a post is written to the index of its ``created_at`` (UTC) with ``_id = Post.id``. A post's
``created_at`` never changes for a given id (it is the source's own timestamp, and ``Post.id`` is derived from
source + source id), so routing is deterministic: re-indexing the same post always hits the same index and
replaces the document there — the same id never exists in two indices.

Full text: ``tokens`` and ``title_tokens`` (the title segmented at index time) are keyword arrays copied into
``tokens_text``, a text field with the ``whitespace`` analyzer; a query's tokens must all match (AND), exactly as
the SQLite store matches them. Times are stored with millisecond precision.

Shards and replicas (``number_of_shards``, ``number_of_replicas``) go into the template, so they apply to indices
made from then on; the replica count is also put on the existing indices at start (shards are fixed once an index
exists). Replicas are ``auto_expand_replicas: 0-N``: as many as the cluster has spare data nodes, at most N, so a
single node stays green and a cluster gets N replicas as soon as it has N + 1 data nodes (and drops back to what
it can hold while a node is gone instead of staying yellow).

Retention (:meth:`ElasticStore.drop_before`) deletes whole indices whose period ends at or before the cutoff.
Unreachable cluster, 429 and 5xx answers raise :class:`~opinion_desk.errors.StoreUnavailable` (spool and retry).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch

from ..errors import StoreError, StoreUnavailable
from ..models import Post
from . import check_term_field, interval_step, post_from_doc, split_terms, zero_fill
from .base import IndexResult, PostQuery, PostStore, SearchResult, Spreader
from .grams import bigrams, gram_runs, needles

KW = {"type": "keyword"}
KWL = {"type": "keyword", "ignore_above": 1024}  # list fields: an immense value must not reject the whole post
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": KW, "source": KW, "source_id": KW, "url": {"type": "keyword", "index": False},
        "text": {"type": "text", "index": False}, "title": {"type": "text", "index": False},
        "created_at": {"type": "date"}, "collected_at": {"type": "date"},
        "author": KW, "author_id": KW, "author_type": KW, "region": KW, "platform": KW,
        "reposts": {"type": "integer"}, "comments": {"type": "integer"}, "likes": {"type": "integer"},
        "tokens": {**KWL, "copy_to": "tokens_text"},
        "title_tokens": {**KWL, "copy_to": "tokens_text"},
        "tokens_text": {"type": "text", "analyzer": "whitespace", "norms": False, "index_options": "docs"},
        "keywords": KWL, "hashtags": KWL, "mentions": KWL, "rumour_cues": KWL,
        "sentiment": {"type": "float"}, "sentiment_label": KW, "rumour_score": {"type": "float"},
        "simhash": {"type": "keyword", "index": False}, "topic_id": KW, "topic_label": KW,
        "raw": {"type": "object", "enabled": False},
        "images": {"type": "object", "enabled": False},  # [{url, alt}]: shown, never searched
        "mid": KW, "repost_of": KW, "reply_to": KW,  # the propagation path: who reposted / answered whom
        "event_id": KW, "event_label": KW, "complaint_score": {"type": "float"},  # issue 13: events, 诉求
        "rumour_reasons": {"type": "keyword", "index": False},
        "time_unknown": {"type": "boolean"}, "truncated": {"type": "boolean"},
        # character bigrams of the title and text, one array value per whitespace run (grams.py): string search
        "grams": {"type": "text", "analyzer": "whitespace", "norms": False},
        "reach": {"type": "integer"},  # reposts + comments + likes (the "reach" sort; no script needed)
    },
    "_source": {"excludes": ["grams"]},  # derived from the text: not kept twice
}
#: fields added after the first indices were made (issue 17); put on existing indices at start
ADDED_FIELDS = ("images", "mid", "repost_of", "reply_to", "time_unknown", "truncated", "grams", "reach", "event_id",
                "event_label", "complaint_score", "rumour_reasons")
FILTER_FIELDS = (("source", "sources"), ("sentiment_label", "sentiment_labels"), ("topic_id", "topic_ids"),
                 ("author", "authors"), ("author_type", "author_types"), ("region", "regions"))
BULK_CHUNK = 500
RETRYABLE = {429, 502, 503, 504}


def _iso(dt: datetime) -> str:
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


class ElasticStore(PostStore):
    """Posts in Elasticsearch. ``client`` (an ``Elasticsearch``) or ``urls`` + auth options."""

    name = "elasticsearch"

    def __init__(self, urls: Sequence[str] | str = ("http://127.0.0.1:9200",), *, index_prefix: str = "opinion-posts",
                 index_period: str = "month", api_key: str = "", username: str = "", password: str = "",
                 ca_certs: str = "", verify_certs: bool = True, request_timeout: float = 30,
                 number_of_shards: int = 1, number_of_replicas: int = 1,
                 segment: Callable[[str], list[str]] | None = None, client: Elasticsearch | None = None) -> None:
        super().__init__(segment)
        for key, value, low in (("number_of_shards", number_of_shards, 1), ("number_of_replicas", number_of_replicas, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise StoreError(f"[store.elasticsearch] {key}: {value!r} 须为不小于 {low} 的整数")
        self.shards = number_of_shards
        self.replicas = number_of_replicas
        if index_period not in ("day", "month"):
            raise StoreError(f"[store.elasticsearch] index_period: {index_period!r} is not 'day' or 'month'")
        if not index_prefix or index_prefix != index_prefix.lower() or "*" in index_prefix:
            raise StoreError(f"[store.elasticsearch] index_prefix: {index_prefix!r} must be lowercase, without '*'")
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.prefix = index_prefix
        self.period = index_period
        kw: dict[str, Any] = {"request_timeout": request_timeout, "retry_on_timeout": True, "max_retries": 2}
        if api_key:
            kw["api_key"] = api_key
        if username:
            kw["basic_auth"] = (username, password)
        if ca_certs:
            kw["ca_certs"] = ca_certs
        if any(u.startswith("https") for u in self.urls):
            kw["verify_certs"] = verify_certs
        try:
            self.client = client or Elasticsearch(self.urls, **kw)
        except (ValueError, TypeError) as e:
            raise StoreError(f"[store.elasticsearch] bad connection settings for {self.urls}: {e}") from None
        self._template_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, section: dict[str, Any], segment: Callable[[str], list[str]] | None = None) -> "ElasticStore":
        """Build from the ``[store.elasticsearch]`` config section."""
        return cls(section["urls"], index_prefix=section["index_prefix"], index_period=section["index_period"],
                   api_key=section.get("api_key", ""), username=section.get("username", ""),
                   password=section.get("password", ""), ca_certs=section.get("ca_certs", ""),
                   verify_certs=section.get("verify_certs", True),
                   request_timeout=section.get("request_timeout", 30),
                   number_of_shards=section.get("number_of_shards", 1),
                   number_of_replicas=section.get("number_of_replicas", 1), segment=segment)

    # plumbing --------------------------------------------------------------------------------------------
    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        """Map client errors to the desk's: unreachable/overloaded -> StoreUnavailable, others -> StoreError."""
        try:
            yield
        except elastic_transport.TransportError as e:  # connection refused, timeout, TLS
            raise StoreUnavailable(f"Elasticsearch at {', '.join(self.urls)} unreachable ({what}): {e.message}") from None
        except ApiError as e:
            if e.status_code in RETRYABLE:
                raise StoreUnavailable(f"Elasticsearch at {', '.join(self.urls)} busy ({what}): {e.status_code} {e.message}") from None
            hint = " (check [store.elasticsearch] api_key / username / password)" if e.status_code in (401, 403) else ""
            raise StoreError(f"Elasticsearch {what} failed: {e.status_code} {e.message}: {e.body}{hint}") from None

    def index_name(self, created_at: datetime) -> str:
        """The index a post created at ``created_at`` lives in."""
        t = created_at.astimezone(timezone.utc) if created_at.tzinfo else created_at
        return f"{self.prefix}-{t:%Y.%m}" if self.period == "month" else f"{self.prefix}-{t:%Y.%m.%d}"

    def index_end(self, name: str) -> datetime | None:
        """When the period of index ``name`` ends (exclusive), or None if ``name`` is not one of ours."""
        stamp = name[len(self.prefix) + 1:] if name.startswith(self.prefix + "-") else ""
        try:
            parts = [int(x) for x in stamp.split(".")]
            if self.period == "month" and len(parts) == 2:
                y, m = parts
                return datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=timezone.utc)
            if self.period == "day" and len(parts) == 3:
                from datetime import timedelta

                return datetime(*parts, tzinfo=timezone.utc) + timedelta(days=1)
        except ValueError:
            return None
        return None

    def index_settings(self) -> dict[str, Any]:
        """The settings of a new post index (see the module docstring for the replicas)."""
        return {"number_of_shards": self.shards, "auto_expand_replicas": f"0-{self.replicas}", "refresh_interval": "1s"}

    def ensure_template(self) -> None:
        """Create or update the composable index template ``{prefix}-posts`` (idempotent), and put the configured
        replica count on the existing indices."""
        if self._template_ready:
            return
        pattern = f"{self.prefix}-1*,{self.prefix}-2*"
        with self._lock, self._call("put index template"):
            self.client.indices.put_index_template(
                name=f"{self.prefix}-posts", index_patterns=[f"{self.prefix}-1*", f"{self.prefix}-2*"], priority=200,
                template={"settings": self.index_settings(), "mappings": MAPPINGS, "aliases": {self.prefix: {}}},
                meta={"managed_by": "opinion-desk"})
            self.client.indices.put_settings(index=pattern, allow_no_indices=True,
                                             settings={"index": {"auto_expand_replicas": f"0-{self.replicas}"}})
            # indices made by an older template learn the fields added since (adding fields only: no reindex)
            self.client.indices.put_mapping(index=pattern, allow_no_indices=True,
                                            properties={k: MAPPINGS["properties"][k] for k in ADDED_FIELDS})
            self._template_ready = True

    def _doc(self, post: Post) -> dict[str, Any]:
        d = post.to_dict()
        d["created_at"] = _iso(post.created_at)
        d["collected_at"] = _iso(post.collected_at)
        d["title_tokens"] = self.segment(post.title) if post.title.strip() else []
        d["grams"] = gram_runs(post.title, post.text)
        d["reach"] = int(post.reposts or 0) + int(post.comments or 0) + int(post.likes or 0)
        return d

    # writing ---------------------------------------------------------------------------------------------
    def index(self, posts: Sequence[Post]) -> IndexResult:
        self.ensure_template()
        result = IndexResult()
        for start in range(0, len(posts), BULK_CHUNK):
            ops: list[dict[str, Any]] = []
            for p in posts[start:start + BULK_CHUNK]:
                try:
                    doc = self._doc(p)
                    if not 1000 <= p.created_at.astimezone(timezone.utc).year <= 2999:  # the template's patterns
                        raise ValueError(f"created_at {doc['created_at']} would make an index outside the alias "
                                         f"{self.prefix}")
                except (TypeError, ValueError, AttributeError, OverflowError) as e:
                    result.refuse(getattr(p, "id", "?"), f"cannot be stored: {e}")
                    continue
                ops.append({"index": {"_index": self.index_name(p.created_at), "_id": doc["id"]}})
                ops.append(doc)
            if not ops:
                continue
            with self._call(f"bulk index of {len(ops) // 2} posts"):
                resp = self.client.bulk(operations=ops)
            retry: list[str] = []
            for item in resp["items"]:
                r = item.get("index") or next(iter(item.values()))
                if "error" not in r:
                    result.indexed += 1
                    continue
                err = r["error"]
                if r.get("status") in RETRYABLE:
                    retry.append(r.get("_id", "?"))
                else:
                    result.refuse(r.get("_id", "?"), f"{err.get('type')}: {err.get('reason')}")
            if retry:  # the whole batch goes to the spool; re-sending the ones that did go in is harmless
                raise StoreUnavailable(f"Elasticsearch at {', '.join(self.urls)} rejected {len(retry)} posts as busy "
                                       f"(first: {retry[0]}); retry later")
        return result

    def refresh(self) -> None:
        with self._call("refresh"):
            self.client.indices.refresh(index=self.prefix, ignore_unavailable=True, allow_no_indices=True)

    def indices(self) -> list[str]:
        """The concrete indices behind the alias, oldest first."""
        with self._call("list indices"):
            try:
                resp = self.client.indices.get_alias(name=self.prefix)
            except ApiError as e:
                if e.status_code == 404:
                    return []
                raise
        return sorted(resp.body)

    def drop_before(self, cutoff: datetime) -> int:
        """Delete whole indices whose period ends at or before ``cutoff``; returns how many indices went."""
        dropped = 0
        for name in self.indices():
            end = self.index_end(name)
            if end is not None and end <= cutoff:
                with self._call(f"delete index {name}"):
                    self.client.indices.delete(index=name, ignore_unavailable=True)
                dropped += 1
        return dropped

    def backfill_grams(self, progress: Callable[[int], None] | None = None, batch: int = 500) -> int:
        """Re-index the posts stored before the bigram field (``grams``) and ``reach`` existed, from their own
        ``_source``, so string search and the reach sort find them too; returns how many were re-indexed.
        Posts whose text has no bigram at all (one character) are re-indexed on every run, harmlessly."""
        self.ensure_template()
        query = {"bool": {"must_not": [{"exists": {"field": "grams"}}]}}
        after: list[Any] | None = None
        done = 0
        while True:
            kw: dict[str, Any] = {"query": query, "size": batch, "sort": [{"created_at": "asc"}, {"id": "asc"}]}
            if after is not None:
                kw["search_after"] = after
            hits = self._search("find posts without bigrams", **kw)["hits"]["hits"]
            if not hits:
                return done
            res = self.index([post_from_doc(h["_source"]) for h in hits])
            done += res.indexed
            if progress:
                progress(res.indexed)
            after = hits[-1]["sort"]

    def delete_all(self) -> None:
        """Delete every index behind the alias and the template (tests, ``reset``)."""
        for name in self.indices():
            with self._call(f"delete index {name}"):
                self.client.indices.delete(index=name, ignore_unavailable=True)
        with self._call("delete index template"):
            try:
                self.client.indices.delete_index_template(name=f"{self.prefix}-posts")
            except ApiError as e:
                if e.status_code != 404:
                    raise
        self._template_ready = False

    # reading ---------------------------------------------------------------------------------------------
    @staticmethod
    def _strings(needles: list[str]) -> dict[str, Any]:
        """Every needle in the title or text as a string: a phrase of its bigrams (one character: the first
        character of a bigram, or a word)."""
        subs = [{"match_phrase": {"grams": " ".join(bigrams(n))}} if len(n) > 1 else
                {"bool": {"should": [{"prefix": {"grams": n}}, {"term": {"tokens": n}}], "minimum_should_match": 1}}
                for n in needles]
        return {"bool": {"filter": subs}}

    def _text_match(self, text: str) -> dict[str, Any] | None:
        """A word match (scored 4) OR a string match of each query word (1; each part whole: 2 more)."""
        terms = split_terms(self.segment(text))
        should: list[dict[str, Any]] = []
        if terms:
            should.append({"constant_score": {"boost": 4, "filter": {"match": {
                "tokens_text": {"query": " ".join(terms), "operator": "and"}}}}})
        parts, words = needles(text, self.segment)
        if words:
            should.append({"constant_score": {"boost": 1, "filter": self._strings(words)}})
            should.append({"constant_score": {"boost": 2, "filter": self._strings(parts)}})
        if not should:
            return None
        return {"bool": {"should": should, "minimum_should_match": 1}}

    def _query(self, q: PostQuery) -> dict[str, Any]:
        filters: list[dict[str, Any]] = []
        must: list[dict[str, Any]] = []
        if q.text.strip():
            m = self._text_match(q.text)
            if m is not None:
                must.append(m)
        rng: dict[str, Any] = {}
        if q.since is not None:
            rng["gte"] = _iso(q.since)
        if q.until is not None:
            rng["lt"] = _iso(q.until)
        if rng:
            filters.append({"range": {"created_at": rng}})
        for field, attr in FILTER_FIELDS:
            values = getattr(q, attr)
            if values:
                filters.append({"terms": {field: list(values)}})
        strings = [w for w in dict.fromkeys(q.any_strings) if w.strip()]
        if strings:
            filters.append({"bool": {"should": [self._strings([w]) for w in strings], "minimum_should_match": 1}})
        if q.platforms:
            filters.append({"terms": {"platform": list(q.platforms)}})
        if q.min_rumour_score is not None:
            filters.append({"range": {"rumour_score": {"gte": float(q.min_rumour_score)}}})
        if must:
            return {"bool": {"must": must, "filter": filters}}
        return {"bool": {"filter": filters}} if filters else {"match_all": {}}

    def _search(self, what: str, **kw: Any) -> dict[str, Any]:
        with self._call(what):
            return self.client.search(index=self.prefix, ignore_unavailable=True, allow_no_indices=True, **kw).body

    def get(self, post_id: str) -> Post | None:
        resp = self._search(f"get post {post_id}", query={"ids": {"values": [post_id]}}, size=1)
        hits = resp["hits"]["hits"]
        return post_from_doc(hits[0]["_source"]) if hits else None

    def search(self, query: PostQuery) -> SearchResult:
        sort: list[Any] = [{"created_at": "asc" if query.sort == "oldest" else "desc"}, {"id": "asc"}]
        if query.sort == "reach":
            sort.insert(0, {"reach": {"order": "desc", "missing": "_last"}})
        elif query.sort == "relevance" and query.text.strip():
            sort.insert(0, "_score")
        extra: dict[str, Any] = {}
        if query.fields:  # only what the caller reads (PostQuery.fields)
            extra["source_includes"] = ["source", "source_id", "text", "created_at", *query.fields]
        resp = self._search("search", query=self._query(query), size=max(0, query.size), from_=max(0, query.offset),
                            sort=sort, track_total_hits=self.total_cap, **extra)
        total = resp["hits"]["total"]
        return SearchResult(total=min(int(total["value"]), self.total_cap), exact=total.get("relation", "eq") == "eq",
                            posts=[post_from_doc(h["_source"]) for h in resp["hits"]["hits"]])

    def count(self, query: PostQuery) -> int:
        with self._call("count"):
            resp = self.client.count(index=self.prefix, query=self._query(query), ignore_unavailable=True,
                                     allow_no_indices=True)
        return int(resp["count"])

    def date_histogram(self, query: PostQuery, interval: str = "1h") -> list[tuple[datetime, int]]:
        step = interval_step(interval)
        resp = self._search("date histogram", query=self._query(query), size=0, aggs={"h": {"date_histogram": {
            "field": "created_at", "fixed_interval": f"{step // 1_000_000}s", "min_doc_count": 1}}})
        buckets = resp.get("aggregations", {}).get("h", {}).get("buckets", [])
        return zero_fill({int(b["key"]) * 1000: int(b["doc_count"]) for b in buckets}, interval, query)

    def top_terms(self, query: PostQuery, field: str = "tokens", size: int = 10) -> list[tuple[str, int]]:
        check_term_field(field)
        resp = self._search(f"top terms of {field}", query=self._query(query), size=0, aggs={"t": {"terms": {
            "field": field, "size": int(size), "shard_size": int(size) * 10 + 100, "exclude": [""],
            "order": [{"_count": "desc"}, {"_key": "asc"}]}}})
        buckets = resp.get("aggregations", {}).get("t", {}).get("buckets", [])
        return [(str(b["key"]), int(b["doc_count"])) for b in buckets]

    def spreaders(self, query: PostQuery, size: int = 10) -> list[Spreader]:
        q = self._query(query)
        resp = self._search("spreaders", query=q, size=0, aggs={"a": {"terms": {
            "field": "author", "size": int(size), "shard_size": int(size) * 10 + 100, "exclude": [""],
            "order": [{"r": "desc"}, {"f": "asc"}, {"_key": "asc"}]}, "aggs": {
                "r": {"sum": {"field": "reach"}}, "f": {"min": {"field": "created_at"}}}}})
        buckets = resp.get("aggregations", {}).get("a", {}).get("buckets", [])
        if not buckets:
            return []
        # each author's first post: one search collapsed on the author (a top_hits per bucket cost 15 ms)
        firsts = self._search("first posts of spreaders", size=len(buckets), collapse={"field": "author"},
                              query={"bool": {"filter": [q, {"terms": {"author": [b["key"] for b in buckets]}}]}},
                              sort=[{"created_at": "asc"}, {"id": "asc"}], source_includes=["author", "author_type"])
        first = {h["_source"].get("author"): h for h in firsts.get("hits", {}).get("hits", [])}
        out = []
        for b in buckets:
            hit = first.get(b["key"], {})
            out.append(Spreader(str(b["key"]), int(b["doc_count"]), int(b["r"]["value"] or 0), str(hit.get("_id", "")),
                                datetime.fromtimestamp(b["f"]["value"] / 1000, timezone.utc),
                                str(hit.get("_source", {}).get("author_type") or "")))
        return out

    def ping(self) -> bool:
        try:
            return bool(self.client.options(request_timeout=3, max_retries=0).cluster.health(timeout="2s"))
        except (elastic_transport.TransportError, ApiError):
            return False

    def close(self) -> None:
        self.client.close()
