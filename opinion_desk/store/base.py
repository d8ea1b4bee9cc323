"""The post store contract, implemented by ``sqlite.py`` (embedded) and ``elastic.py`` (Elasticsearch).

One contract test suite (``tests/store/test_contract.py``) runs against both. Behaviour the embedded store
cannot give is a change to this contract, written here, not an ``if backend == ...`` elsewhere.

Contract notes:
- ``index`` is an idempotent upsert keyed by :attr:`Post.id` (source + the post's own id): indexing the same
  post twice leaves one document, with the later field values.
- Full-text search matches analysed tokens: the query text is segmented with the same segmenter that produced
  ``Post.tokens`` (passed in as ``segment``), and every query token must be among the post's tokens or title
  tokens (AND). Both backends index tokens separated by whitespace, so they agree.
  It also matches a post whose title or text contains every whitespace-separated part of the query as a string
  (character bigrams narrow, the string is checked; see ``grams.py``). ``sort="relevance"`` puts word matches
  first (then newest); ``sort="reach"`` orders by reposts + comments + likes. Elasticsearch indices made before
  the bigram field hold posts without it: those are found by words only until re-indexed.
- Times are aware UTC. Time range filters are ``since <= created_at < until``.
- Histogram buckets are aligned to the interval in UTC (for "1d", to the UTC day) and empty buckets inside the
  range of the data (or of ``since``/``until`` when both are given) are returned with count 0.
- Results are sorted newest first unless ``sort="oldest"``.
- After :meth:`refresh`, everything indexed before it is visible to get, search, count and aggregations
  (Elasticsearch's ``get`` searches the alias, so it too waits for a refresh, at most ~1 s without one).
- Token matching is exact and case-sensitive. A token containing whitespace counts as its whitespace-separated
  parts (what Elasticsearch's ``whitespace`` analyzer does). The title's tokens are made by the store at index
  time with ``segment``.
- ``top_terms`` leaves out empty values ("" author, topic, ...).
- Elasticsearch keeps times to the millisecond; ``offset + size`` may not exceed 10,000 there.
- ``drop_before`` returns posts dropped (SQLite) or indices dropped (Elasticsearch).
- ``search`` counts its total up to :data:`TOTAL_CAP` (the store's ``total_cap``), as a search engine does: past it,
  ``total`` is the cap and ``exact`` is False ("1万+ 条"). ``count`` is always exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..models import Post

INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "10m": timedelta(minutes=10),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}

#: a search's total is counted up to this many posts (Elasticsearch's track_total_hits; pages show "1万+")
TOTAL_CAP = 10_000
#: the 谣言线索 tag's rumour score (the shipped rumour rule's threshold, rules/30-rumour.yaml): the embedded store
#: keeps an index of the posts at or above it (a search by the tag reads those, not every post of its time range)
RUMOUR_TAG_SCORE = 0.7

TERM_FIELDS = ("tokens", "keywords", "hashtags", "author", "source", "topic_id", "sentiment_label", "region")


@dataclass
class PostQuery:
    """What to look for. Every filter is optional; lists mean "any of"."""

    text: str = ""
    since: datetime | None = None
    until: datetime | None = None
    sources: list[str] = field(default_factory=list)
    sentiment_labels: list[str] = field(default_factory=list)
    topic_ids: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    author_types: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    any_strings: list[str] = field(default_factory=list)  # the title or text contains at least one of these
    min_rumour_score: float | None = None
    size: int = 20
    offset: int = 0
    sort: str = "newest"  # newest | oldest | reach | relevance (word matches first, then newest)
    #: the Post fields the caller reads (``source``, ``source_id``, ``text`` and ``created_at`` always come; the
    #: others keep their defaults): a page of 2,000 posts reads and builds far less. Empty: every field.
    fields: tuple[str, ...] = ()


@dataclass
class SearchResult:
    total: int  # exact up to the store's total_cap; when more match, the cap (and exact is False)
    posts: list[Post]
    exact: bool = True


@dataclass
class IndexResult:
    indexed: int = 0
    errors: list[str] = field(default_factory=list)  # one line per failed post, naming its id
    refused: dict[str, str] = field(default_factory=dict)  # post id -> the store's reason (dead-lettered)

    def refuse(self, post_id: str, reason: str) -> None:
        """Record a post the store refused for good, with the store's reason."""
        self.refused[post_id] = reason
        self.errors.append(f"post {post_id}: {reason}")


@dataclass
class Spreader:
    """An author's share of an event (:meth:`PostStore.spreaders`)."""

    author: str
    posts: int
    reach: int
    first_id: str  # the author's first matching post
    first_at: datetime
    author_type: str = ""


class PostStore(ABC):
    """Where posts live. Implementations are thread-safe."""

    name: str = "?"
    total_cap: int = TOTAL_CAP  # see SearchResult.total

    def __init__(self, segment: Callable[[str], list[str]] | None = None) -> None:
        self._segment = segment

    def segment(self, text: str) -> list[str]:
        """Query-side segmentation; the same segmenter that tokenised the posts."""
        if self._segment is None:
            from analyzers import segment as default_segment

            self._segment = default_segment
        return [t for t in self._segment(text) if t.strip()]

    @abstractmethod
    def index(self, posts: Sequence[Post]) -> IndexResult:
        """Upsert posts by id. Raises :class:`~opinion_desk.errors.StoreUnavailable` when unreachable."""

    @abstractmethod
    def get(self, post_id: str) -> Post | None: ...

    @abstractmethod
    def search(self, query: PostQuery) -> SearchResult: ...

    @abstractmethod
    def count(self, query: PostQuery) -> int: ...

    @abstractmethod
    def date_histogram(self, query: PostQuery, interval: str = "1h") -> list[tuple[datetime, int]]:
        """Post counts per interval bucket (one of :data:`INTERVALS`), oldest first."""

    @abstractmethod
    def top_terms(self, query: PostQuery, field: str = "tokens", size: int = 10) -> list[tuple[str, int]]:
        """The most frequent values of ``field`` (one of :data:`TERM_FIELDS`) among matching posts,
        counted once per post, most frequent first (ties by term)."""

    @abstractmethod
    def spreaders(self, query: PostQuery, size: int = 10) -> list[Spreader]:
        """The authors with the most reach (reposts + comments + likes) among matching posts, most first (ties by
        the earlier first post): each with its posts, its reach and its first matching post. Unnamed posts are left
        out."""

    @abstractmethod
    def refresh(self) -> None: ...

    @abstractmethod
    def drop_before(self, cutoff: datetime) -> int:
        """Retention: drop posts created before ``cutoff``. Elasticsearch drops whole time-based indices
        that end before the cutoff (so it may keep a little more); returns how many indices/posts went."""

    @abstractmethod
    def ping(self) -> bool:
        """True when the store answers."""

    def close(self) -> None:
        """Release connections."""
