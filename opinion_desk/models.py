"""Plain typed records shared by every layer: a post travels collect -> analyse -> store -> detect."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from datetime import datetime, timezone, tzinfo
from typing import Any

from .errors import InputError

# Timestamps are stored as aware UTC; the UI shows them in the desk's zone ([desk] timezone, see timefmt.py).


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=8192)  # Post.id is a property: a page of an event's posts asks it thousands of times
def post_id(source: str, source_id: str) -> str:
    """The store id of a post: stable across re-collection, so a re-collected post is never a duplicate."""
    return hashlib.sha1(f"{source}\x1f{source_id}".encode("utf-8")).hexdigest()[:24]


def parse_time(value: Any, field_name: str = "created_at", where: str = "item", tz: tzinfo | None = None) -> datetime:
    """Parse an ISO-8601 string, epoch seconds/milliseconds or datetime into aware UTC.

    Naive times are taken in ``tz``, the desk's zone (``[desk] timezone``, :func:`opinion_desk.timefmt.zone`);
    a caller without the config gets Beijing time, the desk's home zone.
    """
    from .timefmt import zone

    cst = tz or zone()
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        if v > 1e12:  # milliseconds
            v /= 1000.0
        try:
            return datetime.fromtimestamp(v, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InputError(where, field_name, f"时间 {value!r} 超出可表示的范围（timestamp out of range）") from None
    elif isinstance(value, str) and value.strip():
        s = value.strip()
        if s.isdigit():
            return parse_time(int(s), field_name, where, tz)
        s2 = s.replace("Z", "+00:00")
        if len(s2) >= 11 and s2[10] == " ":
            s2 = s2[:10] + "T" + s2[11:]
        try:
            dt = datetime.fromisoformat(s2)
        except ValueError:
            raise InputError(where, field_name, f"无法识别的时间 {value!r}，应为 ISO 8601 或 Unix 秒（bad timestamp）") from None
    else:
        raise InputError(where, field_name, f"缺少时间或时间无法识别：{value!r}（missing or bad timestamp）")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=cst)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # e.g. 0001-01-01 in UTC+8 falls before year 1
        raise InputError(where, field_name, f"时间 {value!r} 超出可表示的范围（timestamp out of range）") from None


#: the text of a post that is only pictures (no words): kept, so a notice posted as an image is not lost
PICTURE_ONLY = "（图片）"
#: how a collector quotes a repost's original after the repost's own words ("转发微博\n//转发 @原作者：原文"), when the
#: platform gives the original with it (Weibo's ``retweeted_status``) and the original may never be a post of its own
QUOTED_ORIGINAL = "//转发 @"


def check_images(value: Any, where: str = "item") -> list[dict[str, str]]:
    """``images`` as a list of ``{"url", "alt"}``; a bare URL string is taken as ``{"url": s, "alt": ""}``."""
    if not isinstance(value, list):
        raise InputError(where, "images", f"expected a list of {{url, alt}}, got {type(value).__name__}")
    out: list[dict[str, str]] = []
    for i, im in enumerate(value):
        if isinstance(im, str):
            im = {"url": im}
        if not isinstance(im, dict) or not isinstance(im.get("url"), str) or not im["url"].strip():
            raise InputError(where, f"images[{i}]", "expected {url, alt} with a non-empty url")
        if not im["url"].strip().lower().startswith(("http://", "https://")):
            raise InputError(where, f"images[{i}]", f"图片地址须以 http:// 或 https:// 开头：{im['url'][:80]!r}")
        out.append({"url": im["url"].strip(), "alt": str(im.get("alt") or "")})
    return out


@cache
def _post_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Post))


@dataclass
class Post:
    """One public post or article, as collected and (after analysis) annotated."""

    source: str  # the source's configured name, e.g. "weibo-search", "rss-gov-sz", "ingest"
    source_id: str  # the post's own id at its source (mid, guid, url)
    text: str
    created_at: datetime  # aware UTC
    title: str = ""
    url: str = ""
    author: str = ""
    author_id: str = ""
    author_type: str = ""  # gov | media | verified | user | ""
    region: str = ""
    platform: str = ""  # weibo | wechat | news | web | ...
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    collected_at: datetime = field(default_factory=utcnow)
    # who and when, as far as the source tells (issue 17)
    images: list[dict[str, str]] = field(default_factory=list)  # [{"url", "alt"}], in the post's order
    mid: str = ""  # the platform's own post id (Weibo mid) when the source has one
    repost_of: str = ""  # platform id of the original this post reposts (Weibo retweeted_status.mid)
    reply_to: str = ""  # platform id of the post or comment this comment answers
    time_unknown: bool = False  # no date found: created_at is the time first seen; kept out of rate rules
    truncated: bool = False  # the full text could not be fetched (a Weibo long post whose extend failed)
    # analysis (filled by analyzers)
    tokens: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    sentiment: float | None = None
    sentiment_label: str = ""
    simhash: str = ""
    topic_id: str = ""
    topic_label: str = ""
    rumour_score: float | None = None
    rumour_cues: list[str] = field(default_factory=list)
    rumour_reasons: list[str] = field(default_factory=list)  # why the score / tag: cues, class, spread figures
    complaint_score: float = 0.0  # 诉求 cues (投诉、求助、反映问题), 0..1; >= 0.5 reads as a 诉求, not a rumour
    event_id: str = ""  # the event (reposts and replies with their original, then content): analyzers.events
    event_label: str = ""
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    # the raw payload as collected: evidence of what was said (posts are deleted within hours)
    raw: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return post_id(self.source, self.source_id)

    def to_dict(self) -> dict[str, Any]:
        """The post as a JSON-ready mapping. Shallow: lists and ``raw`` are the post's own objects (about 10x
        faster than ``asdict``; the stores and the spool serialise every post through this)."""
        d = {name: getattr(self, name) for name in _post_fields()}
        d["id"] = self.id
        d["created_at"] = self.created_at.isoformat()
        d["collected_at"] = self.collected_at.isoformat()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "item", default_source: str | None = None) -> "Post":
        """Build a post from a loose mapping, raising :class:`InputError` that names the bad field.

        Accepts ``text`` (or ``content``), ``created_at`` (or ``time``/``t``/``ts``), ``source_id`` (or ``id``/``mid``).
        """
        if not isinstance(data, dict):
            raise InputError(where, None, f"应为 JSON 对象，收到 {type(data).__name__}（expected a JSON object）")
        text = data.get("text", data.get("content"))
        if (not isinstance(text, str) or not text.strip()) and data.get("images"):
            text = PICTURE_ONLY  # a notice posted as an image: kept, with its images
        if not isinstance(text, str) or not text.strip():
            raise InputError(where, "text", "缺少正文或正文为空（missing or empty text）")
        source = data.get("source") or default_source
        if not isinstance(source, str) or not source:
            raise InputError(where, "source", "缺少来源 source（missing source）")
        sid = data.get("source_id", data.get("id", data.get("mid")))
        if sid is None or str(sid) == "":
            raise InputError(where, "source_id", "缺少帖子 id：source_id 或 id（missing post id）")
        if isinstance(sid, bool) or not isinstance(sid, (str, int)):
            raise InputError(where, "source_id", f"帖子 id 应为字符串或整数，收到 {type(sid).__name__}")
        t = None
        for k in ("created_at", "time", "t", "ts"):
            if data.get(k) not in (None, ""):
                t, tkey = data[k], k
                break
        if t is None:
            raise InputError(where, "created_at", "缺少发布时间（missing timestamp）")
        created = parse_time(t, tkey, where)
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {}
        for k, v in data.items():
            if k in known and k not in ("source", "source_id", "text", "created_at", "collected_at"):
                kw[k] = v
        if "collected_at" in data and data["collected_at"]:
            kw["collected_at"] = parse_time(data["collected_at"], "collected_at", where)
        if "images" in kw:
            kw["images"] = check_images(kw["images"], where)
        for k in ("reposts", "comments", "likes"):
            if k in kw:
                try:
                    kw[k] = int(kw[k] or 0)
                except (TypeError, ValueError, OverflowError):
                    raise InputError(where, k, f"不是整数：{kw[k]!r}（not a whole number）") from None
        return cls(source=source, source_id=str(sid), text=text, created_at=created, **kw)
