"""WeChat official-account articles, through the RSS bridges offices run for them (wewe-rss, RSSHub,
wechat-feeds), plus the article page (mp.weixin.qq.com/s/...) for the full text.

Bridges give the title and a link (wewe-rss leaves the description empty unless its full-text mode is on), so
the article page is always fetched: the body is ``#js_content``; the account name (``var nickname``), the publish
time (``var ct``, unix seconds) and the title (``var msg_title`` / ``#activity-name``) come from the page's
script variables. A link that no longer opens (链接已过期, 该内容已被发布者删除, 此内容因违规无法查看) keeps the
bridge's text and is noted on the source's health: a deleted article is itself news for the desk.
"""

from __future__ import annotations

import html as htmlmod
import re
from datetime import datetime, timezone
from typing import Any

from ..models import Post
from .base import Option
from .rss import RAW_HTML_MAX, RSSCollector
from .people import html_images
from .textutil import extract_article, soup

GONE_MARKERS = ("链接已过期", "该内容已被发布者删除", "此内容因违规无法查看", "此内容被投诉且经审核涉嫌侵权",
                "该公众号已迁移", "内容已删除")


def js_var(page: str, name: str) -> str:
    """Value of ``var name = "..." || "..."`` in the article page (the last non-empty alternative wins)."""
    m = re.search(r"var\s+" + re.escape(name) + r"\s*=\s*([^;\n]+)", page)
    if not m:
        return ""
    values = [v for v in re.findall(r"""["']([^"']*)["']""", m.group(1)) if v]
    return htmlmod.unescape(values[-1]) if values else ""


def parse_article(page: str) -> dict[str, Any]:
    """The fields of a WeChat article page; ``{"gone": reason}`` for the error pages."""
    doc = soup(page)
    msg = doc.select_one(".weui-msg__title, .global_error_msg, .weui-msg .title")
    body = doc.select_one("#js_content")
    if body is None:
        reason = msg.get_text(strip=True) if msg is not None else ""
        if not reason:
            reason = next((g for g in GONE_MARKERS if g in page), "页面中没有文章正文")
        return {"gone": reason}
    text, inner = extract_article(page, "#js_content")
    title = js_var(page, "msg_title")
    if not title:
        h = doc.select_one("#activity-name")
        title = h.get_text(strip=True) if h is not None else ""
    nickname = js_var(page, "nickname")
    if not nickname:
        n = doc.select_one("#js_name, .profile_nickname")
        nickname = n.get_text(strip=True) if n is not None else ""
    ct = js_var(page, "ct")
    when = datetime.fromtimestamp(int(ct), timezone.utc) if ct.isdigit() else None
    return {"title": title, "nickname": nickname, "biz": js_var(page, "biz"), "text": text,
            "html": inner[:RAW_HTML_MAX], "created_at": when, "description": js_var(page, "msg_desc")}


class WeChatCollector(RSSCollector):
    kind = "wechat"
    platform = "wechat"
    options = {
        **RSSCollector.options,
        "url": Option(str, "the bridge's feed URL for one account (wewe-rss /feeds/MP_WXS_....atom, RSSHub ...)",
                      required=True),
        "fetch_full": Option(str, "fetch the article page for the full text", default="always",
                             choices=("auto", "always", "never")),
        "account": Option(str, "the account's name, when the bridge's feed title is not it"),
    }

    def __init__(self, spec) -> None:  # noqa: ANN001
        super().__init__(spec)
        self._article: dict[str, dict[str, Any]] = {}

    def full_text(self, link: str) -> tuple[str, dict[str, Any]]:
        page = self.fetcher.get(link)
        art = parse_article(page.text)
        self._article[link] = art
        if "gone" in art:
            self.notes.append(f"{link}: {art['gone']}")
            return "", {"article_url": page.url, "article_gone": art["gone"]}
        return art["text"], {"article_url": page.url, "article_html": art["html"], "biz": art["biz"],
                             "article_images": html_images(art["html"], page.url)}

    def make_post(self, e: Any, feed: Any, link: str, sid: str, text: str, when: datetime | None,
                  extra: dict[str, Any]) -> Post:
        art = self._article.pop(link, {})
        post = super().make_post(e, feed, link, sid, text, when or art.get("created_at"), extra)
        feed_title = re.sub(r"\s*[|｜-]\s*(wechat-feeds|WeWe-RSS|RSSHub).*$", "", feed.feed.get("title", ""))
        post.author = art.get("nickname") or self.opt("account") or (e.get("author") or "").strip() or feed_title
        post.author_type = self.typer(post.author)
        if art.get("title") and not post.title:
            post.title = art["title"]
        return post

    def collect(self, cursor: dict[str, Any]):  # noqa: ANN201
        self.notes = []
        result = super().collect(cursor)
        result.notes.extend(self.notes)
        return result
