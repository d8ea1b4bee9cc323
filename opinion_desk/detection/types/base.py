"""The rule type contract and the bucketed event-time window every window rule counts in.

A rule type is one small class: ``OPTIONS`` (JSON Schema of its own fields, published in ``rules/schema.json``),
``on_post`` (called with each post that passed the rule's filter, under each of its query_key values) and
``check(key, now)`` (is the window condition true for ``key`` at ``now``?). The engine owns the rest: it calls
``check`` after each post for the keys it touched (so a spike fires as posts arrive) and on every tick for all
keys (so a flatline or a resolution is seen without posts), keeps which keys are firing, and sends the resolved
notice after the hold-down time. Times are event times (``post.created_at``) and ``now`` comes from the
engine's clock, so a replay of days of posts runs in seconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from ...models import Post
from ..rule import Match, RuleSpec

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ts(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


class Window:
    """Counts per key per time bucket (event time), with a few recent post ids per key as samples."""

    def __init__(self, bucket: timedelta, retention: timedelta, samples: int = 20) -> None:
        self.bucket = max(1, int(bucket.total_seconds()))
        self.retention = retention.total_seconds()
        self.counts: dict[str, dict[int, float]] = {}
        self.samples: dict[str, deque[tuple[float, str]]] = {}
        self._nsamples = samples
        self._latest = 0.0

    def add(self, key: str, t: datetime, post_id: str = "", n: float = 1) -> None:
        s = ts(t)
        b = int(s // self.bucket)
        row = self.counts.setdefault(key, {})
        row[b] = row.get(b, 0) + n
        if post_id:
            self.samples.setdefault(key, deque(maxlen=self._nsamples)).append((s, post_id))
        if s > self._latest:
            self._latest = s

    def total(self, key: str, start: datetime, end: datetime) -> float:
        """Sum over buckets whose start lies in ``(start, end]`` aligned to the bucket size."""
        row = self.counts.get(key)
        if not row:
            return 0
        b0 = int(ts(start) // self.bucket) + 1
        b1 = int(ts(end) // self.bucket)
        if b1 - b0 + 1 > len(row):
            return sum(v for b, v in row.items() if b0 <= b <= b1)
        return sum(row.get(b, 0) for b in range(b0, b1 + 1))

    def recent_ids(self, key: str, since: datetime, limit: int = 10) -> list[str]:
        s = ts(since)
        return [pid for t, pid in reversed(self.samples.get(key, ())) if t > s][:limit]

    def keys(self) -> list[str]:
        return list(self.counts)

    def prune(self, now: datetime) -> bool:
        """Drop buckets older than the retention; True when anything went."""
        cut = int((ts(now) - self.retention) // self.bucket)
        changed = False
        for key in list(self.counts):
            row = self.counts[key]
            for b in [b for b in row if b < cut]:
                del row[b]
                changed = True
            if not row:
                del self.counts[key]
                self.samples.pop(key, None)
        return changed

    def to_state(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "counts": {k: {str(b): v for b, v in row.items()} for k, row in self.counts.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        if not data or data.get("bucket") != self.bucket:
            return  # the rule's timeframe changed: start afresh
        self.counts = {k: {int(b): v for b, v in row.items()} for k, row in data.get("counts", {}).items()}


def bucket_for(timeframe: timedelta) -> timedelta:
    """A bucket a tenth of the timeframe, between 10 s and 1 h."""
    secs = timeframe.total_seconds() / 10
    secs = min(3600, max(10, secs))
    return timedelta(seconds=int(secs))


class RuleType:
    """The contract of a rule type. Subclasses set ``name``, ``OPTIONS`` and implement ``on_post``/``check``."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    OPTIONS: ClassVar[dict[str, Any]] = {}  # JSON Schema properties of the type's own fields
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    DURATION_OPTIONS: ClassVar[tuple[str, ...]] = ()  # option names holding durations (parsed at build)
    windowed: ClassVar[bool] = True  # has window state and a condition checked by the engine
    resolvable: ClassVar[bool] = True  # kept for older types: the engine resolves every window rule now
    absence: ClassVar[bool] = False  # the condition is "too few posts" (flatline): never checked at a late time
    keeps_late: ClassVar[bool] = True  # pruned ``allowed_lateness`` later, so late posts still meet their peers
    # one entry per post id (a post seen again replaces its own): given every post, even one the engine has
    # counted already (a replay, a re-collection with new figures); other types get each post id once
    keyed_by_post: ClassVar[bool] = False

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.o: dict[str, Any] = {**self.DEFAULTS, **spec.options}
        self.started: datetime | None = None  # event time of the first post this rule saw (warm-up)

    # -- the contract ----------------------------------------------------------------------------
    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        """Count the post; single-post types return their matches here."""
        return []

    def check(self, key: str, now: datetime) -> Match | None:
        """The window condition for ``key`` at ``now`` (window types)."""
        return None

    def tracked_keys(self) -> Iterable[str]:
        return ()

    def touched_keys(self, post: Post, keys: list[str]) -> list[str]:
        """The keys whose condition a new post may have changed (checked at once, not at the next tick)."""
        return keys

    def prune(self, now: datetime) -> bool:
        """Forget what is too old to matter at ``now``; True when the state changed (it is then saved)."""
        return False

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, data: dict[str, Any]) -> None:
        pass

    # a type with a big per-key part of its state (new_term's known terms) keeps it as rows, saved as changes
    def saved_state(self) -> dict[str, Any]:
        """What the engine saves as the rule's JSON state: :meth:`state` without the part kept as rows."""
        return self.state()

    def row_changes(self) -> tuple[dict[str, Any], set[str]]:
        """The rows changed or added, and the keys removed, since the last call (saved by the engine)."""
        return {}, set()

    def load_rows(self, rows: dict[str, Any]) -> None:
        """Restore the rows saved through :meth:`row_changes`."""

    def prime(self, store: Any, now: datetime) -> None:
        """Optionally fill history from the post store at start (e.g. the terms a new_term rule knows)."""

    def baseline_span(self) -> timedelta | None:
        """How long the rule must have watched (event time) before its condition means anything: a baseline
        (spike's reference, sentiment_surge's reference, new_term's min_history, flatline's timeframe).
        ``None``: no baseline, the rule may fire on its first posts."""
        return None

    def baseline_missing(self, now: datetime) -> timedelta | None:
        """How much baseline history is still missing at ``now`` (``None`` when ready or not needed)."""
        span = self.baseline_span()
        if span is None:
            return None
        have = now - self.started if self.started is not None else timedelta(0)
        return span - have if have < span else None

    # -- helpers ---------------------------------------------------------------------------------
    def warmed_up(self, now: datetime, span: timedelta) -> bool:
        return self.started is not None and now - self.started >= span

    def note_start(self, t: datetime) -> None:
        if self.started is None or t < self.started:
            self.started = t

    def match(self, key: str, now: datetime, reason: str, ids: list[str], value: float | None = None,
              **details: Any) -> Match:
        return Match(rule=self.spec.name, key=key, time=now, reason=reason, post_ids=ids, value=value,
                     details=details)

    def base_state(self) -> dict[str, Any]:
        return {"started": self.started.isoformat() if self.started else None}

    def load_base_state(self, data: dict[str, Any]) -> None:
        if data.get("started"):
            self.started = datetime.fromisoformat(data["started"])


def key_label(key: str) -> str:
    return f"「{key}」" if key else ""


def positive(kind: str = "number", minimum: float = 0, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": kind, "minimum": minimum}
    d.update(extra)
    return d


DURATION = {"type": ["string", "object"], "description": "duration: 30s, 5m, 1h, 7d, '5分钟' or {minutes: 5}"}


class WindowRule(RuleType):
    """A rule type that counts posts per key in one :class:`Window` (``self.window``, set by the subclass):
    the window's keys are the tracked keys, and the window is pruned, saved and restored with the rule."""

    window: Window

    def tracked_keys(self) -> list[str]:
        return self.window.keys()

    def prune(self, now: datetime) -> bool:
        return self.window.prune(now)

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "window": self.window.to_state()}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        self.window.load_state(data.get("window", {}))
