"""Generic web list pages (forums, government sites without feeds): CSS selectors for the item, its title, link
and time, optionally the next page, and the article page for the full text.

Example::

    - name: county-gov-notices
      type: web
      url: http://www.example-county.gov.cn/xxgk/tzgg/
      item: ul.list li
      title: a
      link: a            # the href of the first match (relative links are joined to the page URL)
      time: span.date   # "2024-05-01", "2024年5月1日", "[05-01]", "3小时前", "发布于 06月17日 18:12"; missing ->
                         # first seen, marked time_unknown
      item_source: span.src   # per item: "来源：县水务局" -> the author (item_author: a forum's poster)
      next: a.next       # follow this many pages (pages: 2)
      article_selector: "#zoom"

A page where the item selector matches nothing fails the run (the site's layout changed: someone must look).
The same link on two pages (a pinned notice repeated on every page) is taken once. Cursor: ``{"seen": [links]}``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from ..errors import CollectorError
from ..models import PICTURE_ONLY, Post, utcnow
from .base import AUTHOR_TYPE_CHOICES, CollectResult, Collector, Option
from .http import Fetcher, decode_report
from .rss import RAW_HTML_MAX, SEEN_KEEP, matches_keywords
from .people import html_images, unique_images
from .textutil import extract_article, node_text, parse_when, soup

_SOURCE_PREFIX = re.compile(r"^\s*(?:信息|新闻|文章)?(?:来源|发布单位|发布机构|作者|发帖人|楼主)\s*[:：]\s*")


class WebListCollector(Collector):
    kind = "web"
    options = {
        "url": Option(str, "the list page URL", required=True),
        "item": Option(str, "CSS selector of one list item", required=True),
        "title": Option(str, "CSS selector of the title inside an item", default="a"),
        "link": Option(str, "CSS selector of the link inside an item (its href)", default="a"),
        "time": Option(str, "CSS selector of the date inside an item"),
        "time_attr": Option(str, "take the date from this attribute instead of the text (e.g. datetime)"),
        "summary": Option(str, "CSS selector of a summary inside an item"),
        "next": Option(str, "CSS selector of the next-page link"),
        "pages": Option(int, "list pages read per run (with 'next')", default=1),
        "fetch_full": Option(bool, "fetch each new item's page for the full text", default=True),
        "article_selector": Option(str, "CSS selector of the article body on the item page"),
        "encoding": Option(str, "force the page encoding (e.g. gbk) when the site declares it wrongly"),
        "keywords": Option(list, "keep only items mentioning one of these words", default=[]),
        "platform": Option(str, "platform label (web, gov, forum ...)", default="web"),
        "region": Option(str, "region label", default=""),
        "author": Option(str, "author of items that name none (e.g. the site's name)", default=""),
        "item_author": Option(str, "CSS selector of the item's author inside an item (a forum's poster)"),
        "item_source": Option(str, "CSS selector of the item's news source / issuing office inside an item "
                              "(\"来源：县水务局\"; wins over item_author)"),
        "author_type": Option(str, "author type of items whose author is not in the account list", default="",
                              choices=AUTHOR_TYPE_CHOICES),
    }

    def __init__(self, spec) -> None:  # noqa: ANN001
        super().__init__(spec)
        self.fetcher = Fetcher(spec.name, timeout=spec.timeout or 20.0)
        self.notes: list[str] = []  # this run's doubts (an encoding guessed with little confidence)

    def page_text(self, url: str) -> tuple[str, str]:
        r = self.fetcher.get(url)
        enc = self.opt("encoding")
        if enc:
            return r.url, r.body.decode(enc, errors="replace")
        dec = decode_report(r.body, r.headers.get("content-type"))
        if dec.note and dec.note not in self.notes:
            self.notes.append(f"{r.url}: {dec.note}")
        return r.url, dec.text

    def item_author(self, it: Any) -> str:
        """The item's news source or author by the per-item selectors ("来源：" and the like dropped)."""
        for key in ("item_source", "item_author"):
            if self.opt(key):
                node = it.select_one(self.opt(key))
                name = _SOURCE_PREFIX.sub("", node.get_text(" ", strip=True)).strip() if node is not None else ""
                if name:
                    return name
        return ""

    def list_item(self, it: Any, page_url: str, skip: set[str]) -> tuple[str, str, Any, str, str, str, list] | None:
        """(link, title, when, summary, list page, author, pictures) of one list item; None when it has no usable
        link or its link was already taken."""
        a = it.select_one(self.opt("link"))
        href = a.get("href") if a is not None else None
        if not href or href.startswith(("javascript:", "#")):
            return None
        link = urljoin(page_url, href.strip())
        if link in skip:
            return None
        t = it.select_one(self.opt("title"))
        title = (t.get("title") or node_text(t)) if t is not None else ""
        when = None
        if self.opt("time"):
            tn = it.select_one(self.opt("time"))
            if tn is not None:
                raw_t = tn.get(self.opt("time_attr")) if self.opt("time_attr") else tn.get_text(" ", strip=True)
                when = parse_when(raw_t)
        s = it.select_one(self.opt("summary")) if self.opt("summary") else None
        imgs = html_images(it.decode(), page_url)  # the item's pictures (weibo.cn: beside the text)
        return (link, str(title).strip(), when, node_text(s) if s is not None else "", page_url,
                self.item_author(it), imgs)

    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        self.notes = []
        seen = list(cursor.get("seen") or [])
        seen_set = set(seen)
        keywords = [str(k) for k in self.opt("keywords") or []]
        url: str | None = self.opt("url")
        found: list[tuple[str, str, Any, str, str, str, list]] = []  # link, title, when, summary, page, author, imgs
        this_run: set[str] = set()
        for _ in range(max(1, int(self.opt("pages")))):
            if not url:
                break
            page_url, html = self.page_text(url)
            doc = soup(html)
            items = doc.select(self.opt("item"))
            if not items:
                raise CollectorError(self.name, f"{page_url}: no item matches selector {self.opt('item')!r} "
                                                "(the page layout may have changed)")
            for it in items:
                got = self.list_item(it, page_url, seen_set | this_run)
                if got is not None:
                    this_run.add(got[0])
                    found.append(got)
            nxt = doc.select_one(self.opt("next")) if self.opt("next") else None
            url = urljoin(page_url, nxt["href"]) if nxt is not None and nxt.get("href") else None
        posts: list[Post] = []
        notes: list[str] = []
        for link, title, when, summary, page_url, author, images in found:
            text, raw_extra = summary, {}
            if self.opt("fetch_full") and link.startswith(("http://", "https://")):
                try:
                    final, html = self.page_text(link)
                    body, inner = extract_article(html, self.opt("article_selector"))
                    if body:
                        text = body
                    images = unique_images([*images, *html_images(inner, final)])
                    raw_extra = {"article_url": final, "article_html": inner[:RAW_HTML_MAX]}
                except CollectorError as e:
                    notes.append(f"{link}: 正文未取到 ({e.reason})")
                    raw_extra = {"article_error": e.reason}
            if not title and not text and not images:
                continue
            if not matches_keywords(f"{title}\n{text}", keywords):
                continue
            author = author or self.opt("author") or ""
            posts.append(Post(source=self.name, source_id=link, text=text or title or PICTURE_ONLY, title=title,
                              url=link, created_at=when or utcnow(), time_unknown=when is None, author=author,
                              author_type=self.typer(author), platform=self.opt("platform"),
                              region=self.opt("region") or "", images=images,
                              raw={"list_page": page_url, "title": title, "time_found": when is not None,
                                   "summary": summary, **raw_extra}))
        seen = [*seen, *sorted(this_run)][-SEEN_KEEP:]
        return CollectResult(posts=posts, cursor={"seen": seen}, notes=[*self.notes[:5], *notes])

    def close(self) -> None:
        self.fetcher.close()
