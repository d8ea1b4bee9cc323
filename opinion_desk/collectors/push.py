"""Posts pushed in by external crawlers (``POST /api/v1/posts?format=NAME``) and file imports: payload -> posts.

``FORMATS`` (:mod:`.formats`) is the registry of item shapes the push API and the file importer accept:
``desk``, ``weibo-crawler``, ``mediacrawler`` (contents and comments), ``jsonfeed`` (wewe-rss JSON feeds).
Bodies: a JSON list of items; ``{"source": NAME, "posts": [...]}``; weibo-crawler's own ``<uid>.json``
(``{"user": {...}, "weibo": [...]}``); a whole JSON Feed (``{"version": "https://jsonfeed.org/...", "items": [...]}``).

Each item is converted on its own: a bad item yields an :class:`InputError` naming its index and field, and
the good items still go through. ``raw`` of every post is the crawler's own item (evidence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import InputError
from ..models import Post
from .formats import FORMATS, ItemConverter, feed_items
from .validate import PostChecks

__all__ = ["FORMATS", "ItemConverter", "convert_items", "items_from_payload"]


def items_from_payload(payload: Any, fmt: str, source: str) -> tuple[list[Any], str]:
    """The items of one pushed body, and the source name to give them.

    Accepted bodies: a JSON list of items; ``{"source": NAME, "posts": [...]}``; and for ``weibo-crawler`` its
    own ``{"user": {...}, "weibo": [...]}`` file (the user's fields are copied onto each post).
    """
    if fmt not in FORMATS:
        raise InputError("query", "format", f"未知格式 {fmt!r}，可用：{', '.join(sorted(FORMATS))}")
    if isinstance(payload, list):
        return payload, source
    if not isinstance(payload, dict):
        raise InputError("body", None, "应为帖子列表或 {\"posts\": [...]}（expected a list of posts）")
    if fmt == "weibo-crawler" and "weibo" in payload:
        posts = payload["weibo"]
        if not isinstance(posts, list):
            raise InputError("body", "weibo", "应为帖子列表（expected a list of posts）")
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        items = []
        for p in posts:
            if isinstance(p, dict):
                p = {"user_id": user.get("id"), "screen_name": user.get("screen_name"), **p,
                     "_user_verified": user.get("verified"), "_user_verified_type": user.get("verified_type")}
            items.append(p)
        return items, payload.get("source") or source
    if fmt == "jsonfeed" and "items" in payload:
        return feed_items(payload), payload.get("source") or source
    items = payload.get("posts")
    if not isinstance(items, list):
        raise InputError("body", "posts", "应为帖子列表（expected a list of posts）")
    return items, payload.get("source") or source


def convert_items(items: Iterable[Any], fmt: str = "desk", source: str = "ingest",
                  where: Callable[[int], str] = lambda i: f"items[{i}]",
                  checks: PostChecks | None = None) -> tuple[list[Post], list[InputError]]:
    """Convert and check each item on its own (:class:`PostChecks`, default window unless ``checks`` is given);
    returns the good posts and one error per bad item, naming it and the field."""
    try:
        conv = FORMATS[fmt]
    except KeyError:
        raise InputError("query", "format", f"未知格式 {fmt!r}，可用：{', '.join(sorted(FORMATS))}") from None
    checks = checks or PostChecks()
    posts: list[Post] = []
    errors: list[InputError] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise InputError(where(i), None, f"应为 JSON 对象，收到 {type(item).__name__}（expected a JSON object）")
            try:
                post = conv(item, where(i), source)
            except (TypeError, ValueError, OverflowError, AttributeError, RecursionError) as e:
                raise InputError(where(i), None, f"无法读取：{type(e).__name__}: {e}") from None
            posts.append(checks.check(post, where(i)))
        except InputError as e:
            errors.append(e)
    return posts, errors
