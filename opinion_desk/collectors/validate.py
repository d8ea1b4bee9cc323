"""Checks every post passes before the desk accepts it (ingest API, file import, collectors, the pipeline).

A post that passes is one both stores take: strings are strings (no lone surrogates, bounded lengths), counts
fit the store's 32-bit integers, times lie in the sane window ``[ingest] min_date`` .. now + ``[ingest]
max_future`` (so no post creates a time-based index outside the alias, and one post per month of an old year
cannot pile up indices), and ``raw`` (the evidence) is a JSON object of bounded depth without NaN or infinities.

A failing post raises :class:`~opinion_desk.errors.InputError` naming the item and the field, with the reason in
Chinese. The analysis fields (tokens, keywords, sentiment, ...) are the desk's own: values sent in are dropped
(the analyzers fill them).

Typical use::

    checks = PostChecks.from_config(cfg)
    checks.check(post, "items[3]")        # raises InputError(where="items[3]", field="title", reason=...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import ConfigError, InputError
from ..models import Post, parse_time, utcnow

# field -> most characters. Elasticsearch refuses keyword values over 32,766 bytes; titles are segmented into
# keyword tokens by the store, so they stay short enough that no token can come near that.
MAX_CHARS: dict[str, int] = {
    "source": 200, "source_id": 512, "text": 200_000, "title": 1_000, "url": 4_096, "author": 256,
    "author_id": 256, "author_type": 32, "region": 64, "platform": 32,
    "mid": 512, "repost_of": 512, "reply_to": 512,  # absent from older Post versions: checked when present
}
COUNT_FIELDS = ("reposts", "comments", "likes")
MAX_COUNT = 2**31 - 1  # Elasticsearch "integer"
MAX_RAW_DEPTH = 32
MAX_RAW_NODES = 100_000
ANALYSIS_DEFAULTS: dict[str, Any] = {
    "tokens": [], "keywords": [], "sentiment": None, "sentiment_label": "", "simhash": "", "topic_id": "",
    "topic_label": "", "rumour_score": None, "rumour_cues": [], "hashtags": [], "mentions": [],
}


def surrogate_at(s: str) -> int | None:
    """Index of the first lone surrogate in ``s`` (text that cannot be written as UTF-8), else None."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


def _check_string(value: Any, where: str, name: str, limit: int) -> None:
    if not isinstance(value, str):
        raise InputError(where, name, f"应为字符串，收到 {type(value).__name__}")
    if len(value) > limit:
        raise InputError(where, name, f"过长：{len(value)} 个字符，上限 {limit}")
    at = surrogate_at(value)
    if at is not None:
        raise InputError(where, name, f"第 {at + 1} 个字符是孤立的代理码位（不是合法的 Unicode 文本）")


def _check_json(value: Any, where: str, name: str, kind: type = dict) -> None:
    """``raw`` (or ``images``): a JSON object (list), bounded depth and size, no lone surrogates, no NaN/infinity,
    64-bit integers."""
    if value is None:
        return
    if not isinstance(value, kind):
        want = "JSON 对象" if kind is dict else "JSON 数组"
        raise InputError(where, name, f"应为 {want}，收到 {type(value).__name__}")
    nodes = 0
    stack: list[tuple[Any, str, int]] = [(value, name, 1)]
    while stack:
        v, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_RAW_NODES:
            raise InputError(where, name, f"内容过多：超过 {MAX_RAW_NODES} 个值")
        if isinstance(v, dict) or isinstance(v, list):
            if depth > MAX_RAW_DEPTH:
                raise InputError(where, path, f"嵌套过深：超过 {MAX_RAW_DEPTH} 层")
            if isinstance(v, dict):
                for k, sub in v.items():
                    if not isinstance(k, str):
                        raise InputError(where, path, f"键应为字符串，收到 {type(k).__name__}")
                    if surrogate_at(k) is not None:
                        raise InputError(where, path, "键中含孤立的代理码位（不是合法的 Unicode 文本）")
                    stack.append((sub, f"{path}.{k}", depth + 1))
            else:
                stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(v))
        elif isinstance(v, str):
            if surrogate_at(v) is not None:
                raise InputError(where, path, "含孤立的代理码位（不是合法的 Unicode 文本）")
        elif isinstance(v, bool) or v is None:
            pass
        elif isinstance(v, int):
            if not -(2**63) <= v < 2**63:
                raise InputError(where, path, "整数超出 64 位范围")
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise InputError(where, path, f"不是有限数值：{v!r}")
        else:
            raise InputError(where, path, f"不是 JSON 值：{type(v).__name__}")


@dataclass(frozen=True)
class PostChecks:
    """The acceptance checks, with the configured time window."""

    min_date: datetime = datetime(2000, 1, 1, tzinfo=timezone.utc)
    max_future: timedelta = timedelta(days=1)
    max_chars: dict[str, int] = field(default_factory=lambda: dict(MAX_CHARS))

    @classmethod
    def from_config(cls, cfg: Any) -> "PostChecks":
        """From ``[ingest] min_date`` (a date or time, naive = in the desk's zone) and ``max_future`` (a duration)."""
        from ..detection.durations import parse_duration
        from ..timefmt import zone

        sec = cfg["ingest"]
        problems: list[str] = []
        min_date = cls.min_date
        max_future = cls.max_future
        raw_min = sec.get("min_date", "2000-01-01")
        try:
            min_date = parse_time(raw_min, "min_date", "[ingest]", zone(cfg))
        except InputError as e:
            problems.append(f"[ingest] min_date: {e.reason}")
        try:
            max_future = parse_duration(sec.get("max_future", "1d"))
        except ValueError as e:
            problems.append(f"[ingest] max_future: {e}")
        if problems:
            raise ConfigError(problems)
        return cls(min_date=min_date, max_future=max_future)

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        return self.min_date, (now or utcnow()) + self.max_future

    def _check_time(self, value: Any, where: str, name: str, lo: datetime, hi: datetime) -> None:
        from ..detection.durations import format_duration

        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InputError(where, name, "应为带时区的时间")
        if value < lo:
            raise InputError(where, name, f"时间 {value.isoformat()} 早于允许的最早时间 {lo.isoformat()}"
                                          "（[ingest] min_date）")
        if value > hi:
            raise InputError(where, name, f"时间 {value.isoformat()} 晚于当前时间加 {format_duration(self.max_future)}"
                                          "（[ingest] max_future），疑为错误时间")

    def check(self, post: Post, where: str, now: datetime | None = None) -> Post:
        """Raise :class:`InputError` naming ``where`` and the field when ``post`` cannot be accepted; else drop the
        analysis fields sent in and return the post."""
        for name, limit in self.max_chars.items():
            if hasattr(post, name):
                _check_string(getattr(post, name), where, name, limit)
        if not post.text.strip():
            raise InputError(where, "text", "正文为空")
        for name in COUNT_FIELDS:
            v = getattr(post, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InputError(where, name, f"应为整数，收到 {type(v).__name__}")
            if not 0 <= v <= MAX_COUNT:
                raise InputError(where, name, f"数值 {v} 超出范围 0..{MAX_COUNT}")
        lo, hi = self.window(now)
        self._check_time(post.created_at, where, "created_at", lo, hi)
        self._check_time(post.collected_at, where, "collected_at", lo, hi)
        _check_json(post.raw, where, "raw")
        _check_json(getattr(post, "images", None), where, "images", list)
        for name, default in ANALYSIS_DEFAULTS.items():
            setattr(post, name, list(default) if isinstance(default, list) else default)
        return post
