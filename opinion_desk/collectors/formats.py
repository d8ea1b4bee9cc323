"""Item shapes of other tools' output, each converted to a :class:`Post` on its own (``FORMATS``, used by the push
API ``?format=NAME`` and by ``files`` sources ``item_format: NAME``):

- ``desk``: the desk's own shape (see :meth:`Post.from_dict`);
- ``weibo-crawler``: dataabc/weibo-crawler posts: its ``<user_id>.json`` items, rows of its current CSV (``id,bid,
  正文,...,完整日期``; the id's trailing TAB dropped; the account only in the folder name ``weibo/<昵称>/<uid>.csv``,
  which the file source passes in), and of the older CSV vintage (``uid,用户昵称,微博id,微博链接,发布时间,微博内容,
  转发数,评论数,点赞数,发布于,话题标签``); pictures from ``pics``/``原始图片url``; a repost names its original
  (``源微博id`` / ``retweet.id`` -> ``repost_of``);
- ``mediacrawler``: NanmiCoder/MediaCrawler Weibo records: ``contents`` (``note_id, content, create_time,
  create_date_time, ...``) and ``comments`` (``comment_id, note_id, parent_comment_id, ...``: a comment answers its
  parent comment, or the post when ``parent_comment_id`` is its own id or empty). ``create_date_time`` is used
  for the time: ``create_time`` is the Beijing wall clock read as UTC (8 hours late), corrected when it is the only
  time given. Both the full and the 2026 "teaching edition" (``creator_hash``) are read;
- ``jsonfeed``: JSON Feed 1 / 1.1 items (wewe-rss's ``/feeds/<id>.json``, made by the npm ``feed`` package:
  ``id, url, title, content_html, summary, image, date_modified, date_published, author{name}``); the feed's own
  title / author name is the author of items that name none.

A bad item raises :class:`InputError` naming its place and field; a picture-only item is kept as （图片）.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ..errors import InputError
from ..models import PICTURE_ONLY, Post, parse_time
from .people import AuthorTyper, html_images, image, unique_images
from .textutil import html_to_text, parse_count, parse_when

ItemConverter = Callable[[dict[str, Any], str, str], Post]
_TYPER = AuthorTyper()  # platform flags and names only; a source's account list is applied by the source


def _desk_item(item: dict[str, Any], where: str, source: str) -> Post:
    return Post.from_dict(item, where=where, default_source=source)


def _first(item: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = item.get(k)
        if v not in (None, ""):
            return v.strip() if isinstance(v, str) else v
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


def _url_list(value: Any) -> list[dict[str, str]]:
    """``pics`` as weibo-crawler writes them: a list, or URLs joined by commas."""
    if isinstance(value, list):
        urls = [u.get("url") if isinstance(u, dict) else u for u in value]
    else:
        urls = str(value or "").split(",")
    return unique_images([image(u) for u in urls])


def _text_or_pictures(text: Any, images: list[dict[str, str]], where: str, field: str) -> str:
    if isinstance(text, str) and text.strip():
        return html_to_text(text) if "<" in text else text.strip()
    if images:
        return PICTURE_ONLY
    raise InputError(where, field, "missing or empty text, and no pictures")


def _weibo_crawler_item(item: dict[str, Any], where: str, source: str) -> Post:
    sid = _first(item, "id", "微博id")
    if sid is None or not str(sid).strip():
        raise InputError(where, "id", "missing weibo id")
    sid = str(sid).strip()
    images = _url_list(_first(item, "pics", "原始图片url"))
    text = _text_or_pictures(_first(item, "text", "正文", "微博正文", "微博内容"), images, where, "正文")
    created = _time(item, where, "full_created_at", "完整日期", "created_at", "日期", "发布时间")
    rt = item.get("retweet")
    rt_text = rt.get("text") if isinstance(rt, dict) else item.get("源微博正文")
    rt_user = rt.get("screen_name") if isinstance(rt, dict) else item.get("源用户昵称")
    rt_id = rt.get("id") if isinstance(rt, dict) else item.get("源微博id")
    if rt_text:
        text = f"{text}\n//转发 @{rt_user or '原微博'}：{rt_text}"
    author = str(_first(item, "screen_name", "用户昵称", "昵称") or "")
    author_id = str(_first(item, "user_id", "uid", "用户id") or "")
    url = str(_first(item, "微博链接") or f"https://m.weibo.cn/detail/{sid}")
    return Post(source=source, source_id=sid, text=text, created_at=created, url=url,
                author=author, author_id=author_id,
                author_type=_TYPER(author, author_id, item.get("_user_verified"), item.get("_user_verified_type")),
                platform="weibo", mid=sid, repost_of=str(rt_id or "").strip(), images=images,
                region=str(_first(item, "ip_location", "发布于") or "").replace("发布于", "").strip(),
                reposts=parse_count(_first(item, "reposts_count", "转发数")),
                comments=parse_count(_first(item, "comments_count", "评论数")),
                likes=parse_count(_first(item, "attitudes_count", "点赞数")),
                raw={k: v for k, v in item.items() if not k.startswith("_user_")})


def _mediacrawler_time(item: dict[str, Any], where: str) -> Any:
    if _first(item, "create_date_time") is not None:
        return _time(item, where, "create_date_time")
    if _first(item, "create_time") is not None:
        try:  # MediaCrawler stores the Beijing wall clock as if it were UTC: take the 8 hours back
            return parse_time(int(float(item["create_time"])), "create_time", where) - timedelta(hours=8)
        except (TypeError, ValueError):
            raise InputError(where, "create_time", f"not a timestamp: {item['create_time']!r}") from None
    raise InputError(where, "create_date_time", "missing time (create_date_time or create_time)")


def _mediacrawler_item(item: dict[str, Any], where: str, source: str) -> Post:
    if _first(item, "comment_id") is not None:
        return _mediacrawler_comment(item, where, source)
    sid = _first(item, "note_id")
    if sid is None:
        raise InputError(where, "note_id", "missing note_id")
    text = _first(item, "content")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, "content", "missing or empty content")
    created = _mediacrawler_time(item, where)
    sid = str(sid).strip()
    author = str(_first(item, "nickname") or "")
    return Post(source=source, source_id=sid, text=text.strip(), created_at=created,
                url=str(_first(item, "note_url") or f"https://m.weibo.cn/detail/{sid}"),
                author=author, author_id=str(_first(item, "user_id", "creator_hash") or ""),
                author_type=_TYPER(author), platform="weibo", mid=sid,
                region=str(_first(item, "ip_location") or "").replace("发布于", "").strip(),
                reposts=parse_count(_first(item, "shared_count")), comments=parse_count(_first(item, "comments_count")),
                likes=parse_count(_first(item, "liked_count")), raw=dict(item))


def _mediacrawler_comment(item: dict[str, Any], where: str, source: str) -> Post:
    cid = str(_first(item, "comment_id"))
    note = _first(item, "note_id")
    if note is None:
        raise InputError(where, "note_id", "a comment without the note_id of its post")
    text = _first(item, "content")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, "content", "missing or empty content")
    parent = str(_first(item, "parent_comment_id") or "")
    author = str(_first(item, "nickname") or "")
    return Post(source=source, source_id=cid, text=text.strip(), created_at=_mediacrawler_time(item, where),
                url=f"https://m.weibo.cn/detail/{note}", author=author,
                author_id=str(_first(item, "user_id", "creator_hash") or ""), author_type=_TYPER(author),
                platform="weibo", mid=cid, reply_to=parent if parent and parent != cid else str(note),
                region=str(_first(item, "ip_location") or "").replace("来自", "").strip(),
                likes=parse_count(_first(item, "comment_like_count")),
                comments=parse_count(_first(item, "sub_comment_count")), raw=dict(item))


def _jsonfeed_item(item: dict[str, Any], where: str, source: str) -> Post:
    url = str(_first(item, "url", "external_url") or "")
    html = str(_first(item, "content_html") or "")
    body = html_to_text(html) or str(_first(item, "content_text") or "") or html_to_text(
        str(_first(item, "summary") or ""))
    title = html_to_text(str(_first(item, "title") or ""))
    pic = item.get("image")
    images = unique_images([image(pic.get("url") if isinstance(pic, dict) else pic, "", url),
                            image(item.get("banner_image"), "", url), *html_images(html, url)])
    sid = _first(item, "id") or url or "sha1:" + hashlib.sha1(
        json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:20]
    when = None
    for k in ("date_published", "date_modified"):
        if _first(item, k) is not None:
            when = _time(item, where, k)
            break
    authors = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    named = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
    author = str(named[0] if named else item.get("_feed_author") or "")
    text = body or title or (PICTURE_ONLY if images else "")
    if not text:
        raise InputError(where, "content_html", "an item with no title, text or picture")
    from ..models import utcnow

    return Post(source=source, source_id=str(sid), text=text, title=title, url=url, created_at=when or utcnow(),
                time_unknown=when is None, author=author, author_type=_TYPER(author), images=images,
                platform="wechat" if "mp.weixin.qq.com" in url else "news",
                raw={k: v for k, v in item.items() if not k.startswith("_feed_")})


#: feed "authors" that are the bridge, not the account (wewe-rss signs its feeds "WeWe-RSS")
BRIDGE_NAMES = {"wewe-rss", "rsshub", "wechat-feeds", "feed for node.js"}

FORMATS: dict[str, ItemConverter] = {
    "desk": _desk_item,
    "weibo-crawler": _weibo_crawler_item,
    "mediacrawler": _mediacrawler_item,
    "jsonfeed": _jsonfeed_item,
}


def feed_items(feed: dict[str, Any], where: str = "body") -> list[Any]:
    """The items of a JSON Feed, each told the feed's author (the account, for wewe-rss)."""
    items = feed.get("items")
    if not isinstance(items, list):
        raise InputError(where, "items", "a JSON Feed needs an 'items' list")
    fa = feed.get("authors") if isinstance(feed.get("authors"), list) else [feed.get("author")]
    names = [a.get("name") for a in fa if isinstance(a, dict) and a.get("name")
             and str(a["name"]).lower() not in BRIDGE_NAMES]
    feed_author = names[0] if names else str(feed.get("title") or "").strip()
    return [{**it, "_feed_author": feed_author} if isinstance(it, dict) else it for it in items]
