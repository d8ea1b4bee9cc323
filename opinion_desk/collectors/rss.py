"""RSS 2.0 / Atom feeds of news and government sites (feedparser), with the full article fetched when the feed
only gives a summary.

The ugly parts handled: GB2312/GBK feeds (transcoded before parsing: Python's XML parser refuses multi-byte
encodings), non-RFC dates (``2018-09-18 14:38:10``, taken as China Standard Time), missing dates (the time the
item was first seen), relative links (joined to the feed URL), HTML entities and tags in titles.

A feed that is not well-formed XML fails the run with the parser's line and reason (``lenient: true`` accepts
what feedparser's loose parser recovers instead). Cursor: ``{"seen": [ids of the last items], "last_time"}``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser

from ..errors import CollectorError
from ..models import Post, utcnow
from .base import CollectResult, Collector, Option
from .http import XML_ENC_RE, Fetcher, decode
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


def parse_feed(source: str, body: bytes, content_type: str | None, url: str, lenient: bool = False) -> Any:
    """Bytes of a feed -> the feedparser result; raises CollectorError for what is not a usable feed."""
    text = decode(body, content_type)
    if text.startswith("\ufeff"):
        text = text[1:]
    m = XML_ENC_RE.match(text.encode("utf-8", errors="replace")[:300])
    if m:  # the text is now Unicode: say so, or the parser would decode it again
        text = text.replace(m.group(1).decode("ascii"), "utf-8", 1)
    d = feedparser.parse(text.encode("utf-8"), response_headers={"content-location": url,
                                                                 "content-type": "application/xml; charset=utf-8"})
    exc = d.get("bozo_exception")
    if d.get("bozo") and exc is not None and type(exc).__name__ not in ("CharacterEncodingOverride", "NonXMLContentType"):
        line = getattr(exc, "getLineNumber", lambda: None)()
        where = f" at line {line}" if line else ""
        if not lenient or not d.entries:
            raise CollectorError(source, f"{url}: malformed feed{where}: {getattr(exc, 'getMessage', lambda: exc)()}")
    version = d.get("version") or ""
    if not d.entries and not version:
        raise CollectorError(source, f"{url}: not an RSS or Atom feed")
    return d


def entry_id(e: Any, link: str) -> str:
    for k in ("id", "guid"):
        if e.get(k):
            return str(e[k])
    if link:
        return link
    h = hashlib.sha1(f"{e.get('title', '')}\x1f{e.get('published', '')}".encode("utf-8")).hexdigest()
    return f"sha1:{h[:20]}"


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
        "author_type": Option(str, "author type of the posts", default="",
                              choices=("", "gov", "media", "verified", "user")),
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
        return text, {"article_url": page.url, "article_html": inner[:RAW_HTML_MAX]}

    def make_post(self, e: Any, feed: Any, link: str, sid: str, text: str, when: datetime | None,
                  extra: dict[str, Any]) -> Post:
        title = html_to_text(e.get("title") or "")  # feedparser leaves entities in type="html" titles
        author = (e.get("author") or self.opt("author") or html_to_text(feed.feed.get("title", ""))).strip()
        raw = {"feed_url": self.opt("url"), "entry": plain(e), **extra}
        if when is None:
            raw["date_missing"] = True
        return Post(source=self.name, source_id=sid, text=text or title, title=title, url=link,
                    created_at=when or utcnow(), author=author, author_type=self.opt("author_type") or "",
                    region=self.opt("region") or "", platform=self.opt("platform") or self.platform, raw=raw)

    # -- the run ---------------------------------------------------------------------------------
    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        url = self.opt("url")
        resp = self.fetcher.get(url)
        d = parse_feed(self.name, resp.body, resp.headers.get("content-type"), resp.url, self.opt("lenient"))
        seen = list(cursor.get("seen") or [])
        seen_set = set(seen)
        keywords = [str(k) for k in self.opt("keywords") or []]
        posts: list[Post] = []
        notes: list[str] = []
        this_run: set[str] = set()
        last_time = cursor.get("last_time")
        for e in d.entries[: self.opt("max_items")]:
            link = urljoin(resp.url, (e.get("link") or "").strip()) if e.get("link") else ""
            sid = entry_id(e, link)
            if sid in seen_set or sid in this_run:
                continue
            this_run.add(sid)
            body_text = html_to_text(entry_body(e))
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
            post = self.make_post(e, d, link, sid, body_text, when, extra)
            if not matches_keywords(f"{post.title}\n{post.text}", keywords):
                continue
            posts.append(post)
            if last_time is None or post.created_at.isoformat() > last_time:
                last_time = post.created_at.isoformat()
        seen = [*seen, *sorted(this_run)][-SEEN_KEEP:]
        return CollectResult(posts=posts, cursor={"seen": seen, "last_time": last_time}, notes=notes)

    def close(self) -> None:
        self.fetcher.close()
