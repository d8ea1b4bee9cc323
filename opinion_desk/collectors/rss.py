"""RSS 2.0 / Atom feeds of news and government sites (feedparser), with the full article fetched when the feed
only gives a summary.

The ugly parts handled: GB2312/GBK feeds (transcoded before parsing: Python's XML parser refuses multi-byte
encodings), non-RFC dates (``2018-09-18 14:38:10``, taken as China Standard Time), missing dates (the time the
item was first seen), relative links (joined to the feed URL), HTML entities and tags in titles.

JSON Feed (wewe-rss's ``/feeds/<id>.json``) is read as well. What real servers send is read: blank lines or a BOM before ``<?xml``, a generic ``ISO-8859-1`` header on a
GB2312 feed, no declared encoding at all (detected; an unsure guess is noted on the source's health). A feed
that is not well-formed XML fails the run with the parser's line and reason and how many items
``lenient: true`` would recover; in lenient mode an item left empty by the damage is skipped and noted, never
stored as an empty post.

Who: the issuing office of an item in an aggregate feed (RSS ``<source>``, or a leading "来源：X") before its
author (``dc:creator``, ``<author>``); the feed's title only when the item names nobody. Pictures: enclosures,
Media RSS and ``<img>`` in the body. An item with no date is stamped when first seen and marked
``time_unknown``; an item with no guid, link, title or date gets an id from a hash of its content.
Cursor: ``{"seen": [ids of the last items], "last_time"}``.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser

from ..errors import CollectorError
from ..models import PICTURE_ONLY, Post, utcnow
from .base import AUTHOR_TYPE_CHOICES, CollectResult, Collector, Option
from .http import XML_ENC_RE, Fetcher, decode_report
from .people import html_images, image, unique_images, without_images
from .textutil import extract_article, html_to_text, parse_when

SEEN_KEEP = 2000  # ids remembered per source: more than any feed carries at once
RAW_HTML_MAX = 200_000  # characters of article HTML kept as evidence


def matches_keywords(text: str, keywords: list[str]) -> bool:
    return not keywords or any(k and k in text for k in keywords)


def plain(value: Any) -> Any:
    """A feedparser structure as JSON-safe data (parsed time tuples dropped: the strings are kept)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not str(k).endswith("_parsed")}
    if isinstance(value, (list, tuple)) and not isinstance(value, time.struct_time):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _feed_text(body: bytes, content_type: str | None) -> tuple[str, list[str]]:
    """The feed as Unicode text ready for the XML parser, and notes on what had to be fixed to read it."""
    dec = decode_report(body, content_type)
    notes = [dec.note] if dec.note else []
    text = dec.text
    start = text.find("<?xml", 0, 2048)
    if start > 0:  # a BOM, blank lines or spaces (common on CMS output) before the declaration: not XML
        junk = text[:start].strip("\ufeff \t\r\n")
        if junk:
            notes.append(f"声明前有多余内容 {junk[:40]!r}，已忽略")
        text = text[start:]
    else:
        text = text.lstrip("\ufeff \t\r\n")
    m = XML_ENC_RE.match(text.encode("utf-8", errors="replace")[:300])
    if m:  # the text is now Unicode: say so, or the parser would decode it again
        text = text.replace(m.group(1).decode("ascii"), "utf-8", 1)
    return text, notes


def parse_feed(source: str, body: bytes, content_type: str | None, url: str,
               lenient: bool = False) -> tuple[Any, list[str]]:
    """Bytes of a feed -> (the feedparser result, notes for the source's health); raises CollectorError for what
    is not a usable feed. A malformed feed fails unless ``lenient``; the error says how many items the loose
    parser would recover and suggests the option."""
    text, notes = _feed_text(body, content_type)
    if text.startswith("{"):  # JSON Feed (wewe-rss /feeds/<id>.json, made by the npm feed package)
        return json_feed(source, text, url), notes
    d = feedparser.parse(text.encode("utf-8"), response_headers={"content-location": url,
                                                                 "content-type": "application/xml; charset=utf-8"})
    exc = d.get("bozo_exception")
    if d.get("bozo") and exc is not None and type(exc).__name__ not in ("CharacterEncodingOverride", "NonXMLContentType"):
        line = getattr(exc, "getLineNumber", lambda: None)()
        where = f" at line {line}" if line else ""
        reason = getattr(exc, "getMessage", lambda: exc)()
        if not lenient:
            hint = (f"；宽松解析可读出 {len(d.entries)} 条，试试 lenient: true" if d.entries
                    else "；宽松解析也读不出条目")
            raise CollectorError(source, f"{url}: malformed feed{where}: {reason}{hint}")
        if not d.entries:
            raise CollectorError(source, f"{url}: malformed feed{where}: {reason}; 宽松解析也读不出条目")
        notes.append(f"订阅格式有误（{reason}{where}），已宽松解析")
    version = d.get("version") or ""
    if not d.entries and not version:
        raise CollectorError(source, f"{url}: not an RSS or Atom feed")
    return d, notes


class JSONFeed:
    """A JSON Feed shaped as feedparser's result (``.feed``, ``.entries``, ``get("version")``), so one loop reads
    both: ``content_html`` -> ``content``, ``summary``, ``date_published``/``date_modified`` -> ``published``,
    ``author(s)`` -> ``author``, ``image`` -> ``image.href``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version = str(data.get("version") or "json")
        self.feed = {"title": str(data.get("title") or "")}
        self.entries = [self._entry(it) for it in data.get("items") or [] if isinstance(it, dict)]

    def get(self, key: str, default: Any = None) -> Any:
        return self.version if key == "version" else default

    @staticmethod
    def _entry(it: dict[str, Any]) -> dict[str, Any]:
        authors = it.get("authors") if isinstance(it.get("authors"), list) else [it.get("author")]
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        pic = it.get("image")
        e: dict[str, Any] = {"id": it.get("id"), "link": it.get("url") or it.get("external_url") or "",
                             "title": it.get("title") or "", "summary": it.get("summary") or "",
                             "published": it.get("date_published") or it.get("date_modified") or "",
                             "author": names[0] if names else ""}
        body = it.get("content_html") or it.get("content_text") or ""
        if body:
            e["content"] = [{"value": body}]
        if pic:
            e["image"] = {"href": pic.get("url") if isinstance(pic, dict) else pic}
        return e


def json_feed(source: str, text: str, url: str) -> JSONFeed:
    import json

    try:
        data = json.loads(text)
    except ValueError as e:
        raise CollectorError(source, f"{url}: not a JSON Feed ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise CollectorError(source, f"{url}: not an RSS or Atom feed, nor a JSON Feed (no 'items' list)")
    return JSONFeed(data)


def content_id(*parts: Any) -> str:
    """A stable id from an item's content, for items that carry no id, link, title or date."""
    h = hashlib.sha1("\x1f".join(str(p or "") for p in parts).encode("utf-8")).hexdigest()
    return f"sha1:{h[:20]}"


def entry_id(e: Any, link: str, body: str = "") -> str:
    for k in ("id", "guid"):
        if e.get(k):
            return str(e[k])
    if link:
        return link
    return content_id(e.get("title", ""), e.get("published", "") or e.get("updated", ""), e.get("author", ""), body)


_SOURCE_LINE = re.compile(r"^\s*(?:信息)?来源[:：]\s*([^\s<>，,|｜]{2,30})")


def entry_author(e: Any, body_text: str) -> tuple[str, str]:
    """(author, byline): the issuing office (RSS ``<source>``, or a leading "来源：X" line) before the item's
    author (``dc:creator``, ``<author>``, Atom ``<author><name>``); the other one is kept as the byline."""
    src = e.get("source") or {}
    office = html_to_text(str(src.get("title") or "")).strip() if isinstance(src, dict) else ""
    if not office:
        m = _SOURCE_LINE.match(body_text[:200])
        office = m.group(1) if m else ""
    detail = e.get("author_detail") or {}
    person = str((detail.get("name") if isinstance(detail, dict) else "") or e.get("author") or "").strip()
    if office:
        return office, person if person != office else ""
    return person, ""


def entry_images(e: Any, body_html: str, base: str) -> list[dict[str, str]]:
    """Enclosures and Media RSS pictures, then the pictures inside the body."""
    found: list[dict[str, str] | None] = []
    for enc in e.get("enclosures") or []:
        if str(enc.get("type") or "").startswith("image/") or re.search(r"\.(jpe?g|png|gif|webp)(\?|$)",
                                                                     str(enc.get("href") or ""), re.I):
            found.append(image(enc.get("href"), "", base))
    for m in (e.get("media_content") or []) + (e.get("media_thumbnail") or []):
        if m.get("medium", "image") == "image" or str(m.get("type") or "").startswith("image/"):
            found.append(image(m.get("url"), m.get("title") or "", base))
    if isinstance(e.get("image"), dict):  # JSON Feed / the npm feed package's "image"
        found.append(image(e["image"].get("href") or e["image"].get("url"), "", base))
    found.extend(html_images(body_html, base))
    return unique_images(found)


def entry_time(e: Any) -> datetime | None:
    for k in ("published", "updated", "created", "dc_date"):
        t = parse_when(e.get(k)) if e.get(k) else None
        if t is not None:
            return t
    for k in ("published_parsed", "updated_parsed"):
        st = e.get(k)
        if st:
            return datetime(*st[:6], tzinfo=timezone.utc)
    return None


def entry_body(e: Any) -> str:
    """The longest HTML/text the entry carries (content:encoded, content, summary)."""
    bodies = [c.get("value", "") for c in (e.get("content") or [])]
    bodies.append(e.get("summary", "") or e.get("description", ""))
    return max(bodies, key=len) if bodies else ""


class RSSCollector(Collector):
    kind = "rss"
    platform = "news"
    options = {
        "url": Option(str, "the feed URL", required=True),
        "keywords": Option(list, "keep only items mentioning one of these words (empty: keep all)", default=[]),
        "fetch_full": Option(str, "fetch the article page for the full text", default="auto",
                             choices=("auto", "always", "never")),
        "article_selector": Option(str, "CSS selector of the article body on the article page"),
        "lenient": Option(bool, "accept what the loose parser recovers from a malformed feed", default=False),
        "max_items": Option(int, "most items taken from one fetch", default=200),
        "platform": Option(str, "platform label of the posts (news, gov, wechat...)"),
        "region": Option(str, "region label of the posts (e.g. 某某县)", default=""),
        "author_type": Option(str, "author type of items whose author is not in the account list", default="",
                              choices=AUTHOR_TYPE_CHOICES),
        "author": Option(str, "author shown for items that name none"),
        "min_summary": Option(int, "in 'auto' mode, summaries shorter than this get the full article", default=400),
    }

    def __init__(self, spec) -> None:  # noqa: ANN001
        super().__init__(spec)
        self.fetcher = Fetcher(spec.name, timeout=spec.timeout or 20.0)
        self.notes: list[str] = []

    # -- hooks for kinds built on feeds (wechat) -------------------------------------------------
    def needs_full(self, e: Any, body_text: str) -> bool:
        mode = self.opt("fetch_full")
        if mode == "never":
            return False
        if mode == "always":
            return True
        has_content = bool(e.get("content")) and len(body_text) >= self.opt("min_summary")
        return not has_content and (len(body_text) < self.opt("min_summary") or body_text.endswith(("…", "...")))

    def full_text(self, link: str) -> tuple[str, dict[str, Any]]:
        """(text, extra raw fields) from the article page; ('', {...}) when it holds no article."""
        page = self.fetcher.get(link)
        text, inner = extract_article(page.text, self.opt("article_selector"))
        return text, {"article_url": page.url, "article_html": inner[:RAW_HTML_MAX],
                      "article_images": html_images(inner, page.url)}

    def make_post(self, e: Any, feed: Any, link: str, sid: str, text: str, when: datetime | None,
                  extra: dict[str, Any]) -> Post:
        title = html_to_text(e.get("title") or "")  # feedparser leaves entities in type="html" titles
        author, byline = entry_author(e, text)
        author = author or self.opt("author") or html_to_text(feed.feed.get("title", "")).strip()
        extra = dict(extra)
        images = unique_images([*entry_images(e, entry_body(e), link or str(self.opt("url"))),
                                *extra.pop("article_images", [])])
        raw = {"feed_url": self.opt("url"), "entry": plain(e), **extra}
        if byline:
            raw["byline"] = byline
        return Post(source=self.name, source_id=sid, text=text or title or (PICTURE_ONLY if images else ""),
                    title=title, url=link, created_at=when or utcnow(), author=author,
                    author_type=self.typer(author), region=self.opt("region") or "",
                    platform=self.opt("platform") or self.platform, raw=raw, images=images,
                    time_unknown=when is None)

    # -- the run ---------------------------------------------------------------------------------
    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        url = self.opt("url")
        resp = self.fetcher.get(url)
        d, notes = parse_feed(self.name, resp.body, resp.headers.get("content-type"), resp.url, self.opt("lenient"))
        seen = list(cursor.get("seen") or [])
        seen_set = set(seen)
        keywords = [str(k) for k in self.opt("keywords") or []]
        posts: list[Post] = []
        this_run: set[str] = set()
        last_time = cursor.get("last_time")
        for n, e in enumerate(d.entries[: self.opt("max_items")], 1):
            link = urljoin(resp.url, (e.get("link") or "").strip()) if e.get("link") else ""
            body_html = entry_body(e)
            body_text = html_to_text(body_html)
            sid = entry_id(e, link, body_text)
            if sid in seen_set or sid in this_run:
                continue
            if not link and not body_text.strip() and not html_to_text(e.get("title") or "").strip():
                notes.append(f"第 {n} 条没有标题、正文和链接（可能被截断），未保存")
                continue
            this_run.add(sid)
            extra: dict[str, Any] = {}
            if link and link.startswith(("http://", "https://")) and self.needs_full(e, body_text):
                try:
                    full, extra = self.full_text(link)
                    if len(full) > len(body_text):
                        body_text = full
                except CollectorError as err:
                    notes.append(f"{link}: 正文未取到 ({err.reason})")
                    extra = {"article_error": err.reason}
            when = entry_time(e)
            if body_text and not html_to_text(without_images(body_html)) and "<img" in body_html \
                    and not extra.get("article_html"):
                body_text = PICTURE_ONLY  # a notice posted as a picture: its alt text stays with the image
            post = self.make_post(e, d, link, sid, body_text, when, extra)
            if not post.text.strip():
                notes.append(f"第 {n} 条内容为空，未保存")
                continue
            if not matches_keywords(f"{post.title}\n{post.text}", keywords):
                continue
            posts.append(post)
            if when is not None and (last_time is None or post.created_at.isoformat() > last_time):
                last_time = post.created_at.isoformat()
        undated = sum(p.time_unknown for p in posts)
        if undated:
            notes.append(f"{undated} 条没有发布时间，按首次采集时间记录（不计入频次类规则）")
        seen = [*seen, *sorted(this_run)][-SEEN_KEEP:]
        return CollectResult(posts=posts, cursor={"seen": seen, "last_time": last_time}, notes=notes)

    def close(self) -> None:
        self.fetcher.close()
