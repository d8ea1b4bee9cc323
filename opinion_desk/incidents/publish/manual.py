"""A publication made by hand (the account is not connected, or the platform refused): the officer pastes the
link; the desk fetches it (HTTP GET), keeps a snapshot as evidence (sha256 of the body, its text, the HTTP
status; a failed fetch is recorded, never fatal) and checks it live the same way later.

A Weibo link names its post (``weibo.com/<uid>/<id or mid>``, ``m.weibo.cn/status/<id>``, ``/detail/<id>``):
with the Weibo account connected the post is checked through ``statuses/show`` like the desk's own; otherwise,
and for WeChat articles, by fetching the page (404/410, or WeChat's 已删除 page, means it is gone).
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..lifecycle import now
from ..postref import WEIBO, bid_to_mid
from . import CHANNEL_ZH, LiveCheck

MAX_BYTES = 2_000_000
TEXT_MAX = 20_000
GONE_WORDS = ("该内容已被发布者删除", "此内容因违规无法查看", "该内容已被删除", "微博不存在", "该微博已被删除")
HOSTS = {"weibo": ("weibo.com", "weibo.cn"), "wechat": ("mp.weixin.qq.com",)}
UA = "Mozilla/5.0 (compatible; opinion-desk evidence snapshot)"


def check_link(channel: str, url: str) -> str:
    """A problem with the pasted link, in Chinese, or ``""``."""
    url = (url or "").strip()
    if not url:
        return f"请粘贴{CHANNEL_ZH.get(channel, channel)}的发布链接"
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        return f"链接应以 http:// 或 https:// 开头：{url[:80]}"
    return ""


def remote_id(channel: str, url: str) -> str:
    """The Weibo post id (mid) a link names, read as manual 立案 reads it (:mod:`~opinion_desk.incidents.postref`);
    ``""`` when it names none (WeChat links carry no API id)."""
    if channel != "weibo":
        return ""
    m = WEIBO.match(url.strip())
    if not m:
        return ""
    key = m.group(1)
    if key.isdigit():
        return key
    try:
        return bid_to_mid(key)
    except ValueError:
        return ""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip and data.strip():
            self.parts.append(data.strip())


def page_text(body: str) -> tuple[str, str]:
    p = _Text()
    try:
        p.feed(body)
    except Exception:  # a broken page still leaves its text
        pass
    return p.title.strip(), " ".join(p.parts)[:TEXT_MAX]


def refused_host(url: str, allow_private: bool) -> str:
    """Why the desk will not fetch ``url`` (a pasted link must not make the server reach into the office's
    network: loopback, private and link-local addresses are refused unless ``[incidents]
    snapshot_private_hosts``), or ``""``."""
    if allow_private:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError) as e:
        return f"无法解析域名 {host}：{e}"
    if any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addrs):
        return f"链接指向内网地址（{host}），未抓取"
    return ""


def _failed(url: str, at: str, error: str) -> dict[str, Any]:
    return {"url": url, "fetched_at": at, "status": None, "sha256": "", "title": "", "text": "", "error": error[:500]}


def fetch(url: str, timeout: float = 15, allow_private: bool = False) -> dict[str, Any]:
    """GET the link (redirects followed by hand, each hop checked by :func:`refused_host`); the snapshot
    (status, sha256, title, text) or the error, with the time."""
    at = now().isoformat()
    current = url
    for _ in range(6):
        refused = refused_host(current, allow_private)
        if refused:
            return _failed(url, at, refused)
        try:
            r = requests.get(current, timeout=timeout, headers={"User-Agent": UA}, stream=True, allow_redirects=False)
            if r.is_redirect and r.headers.get("Location"):
                r.close()
                current = urljoin(current, r.headers["Location"])
                continue
            raw = r.raw.read(MAX_BYTES, decode_content=True) if r.raw is not None else r.content
            r.close()
        except requests.RequestException as e:
            return _failed(url, at, f"抓取失败：{type(e).__name__}: {e}")
        break
    else:
        return _failed(url, at, "抓取失败：重定向次数过多")
    enc = r.encoding or "utf-8"
    try:
        body = raw.decode(enc, errors="replace")
    except LookupError:
        body = raw.decode("utf-8", errors="replace")
    title, text = page_text(body)
    err = "" if r.status_code == 200 else f"HTTP {r.status_code}"
    return {"url": url, "fetched_at": at, "status": r.status_code, "sha256": hashlib.sha256(raw).hexdigest(),
            "title": title[:300], "text": text, "error": err, **({"final_url": current} if current != url else {})}


def live_from_snapshot(snap: dict[str, Any]) -> LiveCheck:
    status = snap.get("status")
    if status in (404, 410):
        return LiveCheck("gone", f"抓取链接：HTTP {status}，页面已不存在")
    if status == 200:
        if any(w in (snap.get("text") or "") for w in GONE_WORDS):
            return LiveCheck("gone", "抓取链接：页面显示内容已删除")
        return LiveCheck("live", "抓取链接：页面可访问", f"sha256={snap.get('sha256', '')[:16]}")
    return LiveCheck("unknown", f"抓取链接未能核验：{snap.get('error') or status}")


def check_live(channel: str, url: str, rid: str, weibo_api: Any = None,
               allow_private: bool = False) -> tuple[LiveCheck, dict[str, Any] | None]:
    """Through ``statuses/show`` when the Weibo account is connected and the link names a post; else by
    fetching the link (the new snapshot is returned too)."""
    if channel == "weibo" and rid and weibo_api is not None and getattr(weibo_api, "access_token", ""):
        res = weibo_api.check_live(rid, url, {})
        if res.state != "unknown":
            return res, None
    snap = fetch(url, allow_private=allow_private)
    return live_from_snapshot(snap), snap
