"""Posts pushed in by external crawlers (``POST /api/v1/posts``) and file imports: payload -> posts.

``FORMATS`` is the registry of item shapes the push API and the file importer accept (``?format=NAME``):

- ``desk``: the desk's own shape (see :meth:`Post.from_dict`);
- ``weibo-crawler``: dataabc/weibo-crawler output: its ``<user_id>.json`` (``{"user": {...}, "weibo": [...]}``,
  posted as is) or rows of its CSV (Chinese headers: ``id,bid,正文,...,完整日期``; the id's trailing TAB is dropped);
- ``mediacrawler``: NanmiCoder/MediaCrawler Weibo ``contents`` records (JSON array, JSONL or CSV rows:
  ``note_id, content, create_time, create_date_time, liked_count, ...``). ``create_date_time`` is used for the
  time: MediaCrawler's ``create_time`` is the Beijing wall clock read as UTC (8 hours late), so it is corrected
  when it is the only time given. Both the full and the 2026 "teaching edition" (``creator_hash``) are read.

Each item is converted on its own: a bad item yields an :class:`InputError` naming its index and field, and
the good items still go through. ``raw`` of every post is the crawler's own item (evidence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from ..errors import InputError
from ..models import Post, parse_time
from .validate import PostChecks
from .textutil import html_to_text, parse_count, parse_when

ItemConverter = Callable[[dict[str, Any], str, str], Post]


def _desk_item(item: dict[str, Any], where: str, source: str) -> Post:
    return Post.from_dict(item, where=where, default_source=source)


def _first(item: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = item.get(k)
        if v not in (None, ""):
            return v
    return None


def _time(item: dict[str, Any], where: str, *keys: str) -> Any:
    for k in keys:
        v = item.get(k)
        if v in (None, ""):
            continue
        t = parse_when(str(v).strip())
        if t is None:
            raise InputError(where, k, f"unreadable time {v!r}")
        return t
    raise InputError(where, keys[0], "missing time")


def _weibo_crawler_item(item: dict[str, Any], where: str, source: str) -> Post:
    sid = _first(item, "id")
    if sid is None or not str(sid).strip():
        raise InputError(where, "id", "missing weibo id")
    sid = str(sid).strip()
    text = _first(item, "text", "正文")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, "text", "missing or empty text (正文)")
    created = _time(item, where, "full_created_at", "完整日期", "created_at", "日期")
    rt = item.get("retweet")
    rt_text = rt.get("text") if isinstance(rt, dict) else item.get("源微博正文")
    rt_user = rt.get("screen_name") if isinstance(rt, dict) else item.get("源用户昵称")
    if rt_text:
        text = f"{text}\n//转发 @{rt_user or '原微博'}：{rt_text}"
    verified = item.get("_user_verified")
    vt = item.get("_user_verified_type")
    author_type = ({1: "gov", 3: "media"}.get(vt, "verified") if verified else ("user" if verified is False else ""))
    return Post(source=source, source_id=sid, text=html_to_text(text) if "<" in text else text.strip(),
                created_at=created, url=f"https://m.weibo.cn/detail/{sid}",
                author=str(_first(item, "screen_name") or ""), author_id=str(_first(item, "user_id") or ""),
                author_type=author_type, platform="weibo",
                region=str(_first(item, "ip_location") or "").replace("发布于", "").strip(),
                reposts=parse_count(_first(item, "reposts_count", "转发数")),
                comments=parse_count(_first(item, "comments_count", "评论数")),
                likes=parse_count(_first(item, "attitudes_count", "点赞数")),
                raw={k: v for k, v in item.items() if not k.startswith("_user_")})


def _mediacrawler_item(item: dict[str, Any], where: str, source: str) -> Post:
    sid = _first(item, "note_id")
    if sid is None:
        raise InputError(where, "note_id", "missing note_id")
    text = _first(item, "content")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, "content", "missing or empty content")
    if _first(item, "create_date_time") is not None:
        created = _time(item, where, "create_date_time")
    elif _first(item, "create_time") is not None:
        try:  # MediaCrawler stores the Beijing wall clock as if it were UTC: take the 8 hours back
            created = parse_time(int(float(item["create_time"])), "create_time", where) - timedelta(hours=8)
        except (TypeError, ValueError):
            raise InputError(where, "create_time", f"not a timestamp: {item['create_time']!r}") from None
    else:
        raise InputError(where, "create_date_time", "missing time (create_date_time or create_time)")
    sid = str(sid).strip()
    return Post(source=source, source_id=sid, text=text.strip(), created_at=created,
                url=str(_first(item, "note_url") or f"https://m.weibo.cn/detail/{sid}"),
                author=str(_first(item, "nickname") or ""),
                author_id=str(_first(item, "user_id", "creator_hash") or ""), platform="weibo",
                region=str(_first(item, "ip_location") or "").replace("发布于", "").strip(),
                reposts=parse_count(_first(item, "shared_count")), comments=parse_count(_first(item, "comments_count")),
                likes=parse_count(_first(item, "liked_count")), raw=dict(item))


FORMATS: dict[str, ItemConverter] = {
    "desk": _desk_item,
    "weibo-crawler": _weibo_crawler_item,
    "mediacrawler": _mediacrawler_item,
}


def items_from_payload(payload: Any, fmt: str, source: str) -> tuple[list[Any], str]:
    """The items of one pushed body, and the source name to give them.

    Accepted bodies: a JSON list of items; ``{"source": NAME, "posts": [...]}``; and for ``weibo-crawler`` its
    own ``{"user": {...}, "weibo": [...]}`` file (the user's fields are copied onto each post).
    """
    if fmt not in FORMATS:
        raise InputError("query", "format", f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    if isinstance(payload, list):
        return payload, source
    if not isinstance(payload, dict):
        raise InputError("body", None, "expected a list of posts or {\"posts\": [...]}")
    if fmt == "weibo-crawler" and "weibo" in payload:
        posts = payload["weibo"]
        if not isinstance(posts, list):
            raise InputError("body", "weibo", "expected a list of posts")
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        items = []
        for p in posts:
            if isinstance(p, dict):
                p = {"user_id": user.get("id"), "screen_name": user.get("screen_name"), **p,
                     "_user_verified": user.get("verified"), "_user_verified_type": user.get("verified_type")}
            items.append(p)
        return items, payload.get("source") or source
    items = payload.get("posts")
    if not isinstance(items, list):
        raise InputError("body", "posts", "expected a list of posts")
    return items, payload.get("source") or source


def convert_items(items: Iterable[Any], fmt: str = "desk", source: str = "ingest",
                  where: Callable[[int], str] = lambda i: f"items[{i}]",
                  checks: PostChecks | None = None) -> tuple[list[Post], list[InputError]]:
    """Convert and check each item on its own (:class:`PostChecks`, default window unless ``checks`` is given);
    returns the good posts and one error per bad item, naming it and the field."""
    try:
        conv = FORMATS[fmt]
    except KeyError:
        raise InputError("query", "format", f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}") from None
    checks = checks or PostChecks()
    posts: list[Post] = []
    errors: list[InputError] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise InputError(where(i), None, f"expected a JSON object, got {type(item).__name__}")
            try:
                post = conv(item, where(i), source)
            except (TypeError, ValueError, OverflowError, AttributeError, RecursionError) as e:
                raise InputError(where(i), None, f"无法读取：{type(e).__name__}: {e}") from None
            posts.append(checks.check(post, where(i)))
        except InputError as e:
            errors.append(e)
    return posts, errors
