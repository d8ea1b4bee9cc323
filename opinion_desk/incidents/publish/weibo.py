"""Weibo: ``POST {base}/2/statuses/share.json`` (open.weibo.com/wiki/2/statuses/share), form-encoded.

The documented contract, which the stand-in in tests/incidents/standins.py enforces the same way:

- ``status``: at most 140 汉字, counted as Weibo counts (:func:`weibo_length`: two half-width characters make one
  汉字, a link counts as a t.cn short link of 20 half-width characters whatever its length); no ``#话题词#``; at
  least one URL under the application's bound safe domain (else ``10017 appkey not bind domain``).
- ``rip``: the operating user's real IP, required (``10016`` when missing). Ours is ``[incidents.weibo] rip``
  when set (the office's public address), else the address of the officer who clicked 发布.
- ``pic``: optional, JPEG/GIF/PNG under 5 MB, sent as multipart/form-data (``[incidents.weibo] pic_file``, e.g.
  the office's 通报 banner); without it the request is form-encoded.

So the status is a summary built from the approved draft (:func:`share_text`) ending with the link to the whole
statement: the desk's public statement page (``[incidents] public_base_url``) unless the office names its own
page (``[incidents.weibo] link_url``). Success answers the status object (``idstr``, ``user.idstr``); failure
``{"error", "error_code", "request"}``. ``statuses/show`` checks later that the post is still there, and
``oauth2/get_token_info`` is the pre-flight check of the token.
"""

from __future__ import annotations

import html
import ipaddress
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ...redact import scrub_query
from . import NOT_CONNECTED, AccountCheck, LiveCheck, MassSends, PublishContext, PublishError, PublishResult, not_configured

LIMIT = 140  # 汉字
URL_UNITS = 20  # a link counts as a t.cn short link: 20 half-width characters (10 汉字)
URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
PIC_MAX = 5 * 1024 * 1024  # "上传图片大小限制为<5M"
PIC_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"GIF8": "image/gif"}
GONE_CODES = {20101, 20132}  # target weibo does not exist / the weibo was deleted

# error_code -> what the officer reads (the raw answer goes to the detail line)
ZH = {
    10004: "IP 受限，不能请求该资源",
    10006: "缺少 appkey（source）",
    10014: "应用无此接口的访问权限",
    10016: "缺少必填参数",
    10017: "参数不合规",
    10022: "IP 请求频次超过上限，请稍后再试",
    10023: "账号请求频次超过上限，请稍后再试",
    10024: "账号调用发布接口频次超过上限，请稍后再试",
    20005: "配图只能是 JPEG、GIF 或 PNG",
    20006: "配图须小于 5 MB",
    20012: "分享文字超过 140 字",
    20016: "发微博太快，请稍后再试",
    20019: "与已发布的微博内容重复",
    20101: "微博不存在或已删除",
    21314: "微博授权已失效，请管理员重新授权",
    21315: "微博授权已过期，请管理员重新授权",
    21327: "微博授权已过期，请管理员重新授权",
    21332: "微博授权无效，请管理员重新授权",
}


def weibo_length(text: str) -> int:
    """The length Weibo shows, in 汉字: half-width (ASCII) characters count one half, others one, each link
    ``URL_UNITS`` half-width characters."""
    units = URL_UNITS * len(URL_RE.findall(text))
    units += sum(1 if ord(ch) < 128 else 2 for ch in URL_RE.sub("", text))
    return math.ceil(units / 2)


def plain(draft: Any) -> tuple[str, str]:
    """The draft's title and body as plain text, without #话题# marks or links."""
    body = html.unescape(re.sub(r"<[^>]+>", " ", getattr(draft, "wechat_body", "") or ""))
    if not body.strip():
        body = getattr(draft, "weibo_text", "") or ""
    title = getattr(draft, "wechat_title", "") or ""
    clean = lambda t: re.sub(r"\s+", " ", URL_RE.sub("", re.sub(r"[#＃]", "", t))).strip()  # noqa: E731
    body = clean(body)
    title = clean(title)
    if title and body.startswith(f"【{title}】"):
        body = body[len(title) + 2:].lstrip()
    return title, body


def share_text(draft: Any, link: str, limit: int = LIMIT) -> str:
    """``【标题】正文…… 全文：<link>``, at most ``limit`` 汉字 as Weibo counts, no #话题#."""
    title, body = plain(draft)
    head = f"【{title}】" if title else ""
    tail = f" 全文：{link}" if link else ""
    text = head + body
    if weibo_length(text + tail) <= limit:
        return text + tail
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if weibo_length(text[:mid] + "……" + tail) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "……" + tail


def public_ip(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr).is_global
    except ValueError:
        return False


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower() if url else ""


def under_domain(url: str, domain: str) -> bool:
    h, d = host_of(url), (domain or "").lower().lstrip(".")
    return bool(h and d) and (h == d or h.endswith("." + d))


class WeiboPublisher:
    channel = "weibo"
    mode = "api"

    def __init__(self, base_url: str, access_token: str, safe_domain: str = "", rip: str = "",
                 pic_file: str = "", timeout: float = 20) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.safe_domain = safe_domain
        self.rip = rip
        self.pic_file = pic_file
        self.timeout = timeout

    @classmethod
    def from_config(cls, cfg: Any, channel: str, mass_sends: MassSends) -> "WeiboPublisher":
        c = cfg["incidents.weibo"]
        return cls(c["base_url"], c["access_token"], c.get("safe_domain") or host_of(c.get("safe_url", "")),
                   c.get("rip", ""), c.get("pic_file", ""))

    # -- the API -------------------------------------------------------------------------------------------
    def _error(self, body: dict[str, Any], status: int) -> PublishError:
        code = body.get("error_code")
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            pass
        raw = str(body.get("error") or f"HTTP {status}")
        reason = ZH.get(code, raw) if isinstance(code, int) else raw
        low = raw.lower()
        if code == 10016 and "rip" in low:
            reason = "缺少操作者真实 IP（rip）"
        elif code == 10017 and "domain" in low:
            reason = "链接不在应用绑定的安全域名下"
        elif code == 10017 and ("#" in raw or "topic" in low):
            reason = "分享文字不能包含 #话题#"
        elif code == 10016:
            reason = f"缺少必填参数：{raw}"
        detail = f"{body.get('request', '')} error_code={code}: {raw}"
        if code in (21314, 21315, 21327, 21332):
            detail += "（[incidents.weibo] access_token）"
        return PublishError("weibo", reason, code, detail=detail)

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            r = requests.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kw)
        except requests.RequestException as e:
            raise PublishError("weibo", "无法连接微博接口，请检查网络", detail=scrub_query(f"{self.base_url}: {e}")) from None
        try:
            body = r.json()
        except ValueError:
            raise PublishError("weibo", f"微博接口应答异常（HTTP {r.status_code}）",
                               detail=r.text[:300]) from None
        if not isinstance(body, dict) or "error_code" in body or r.status_code != 200:
            raise self._error(body if isinstance(body, dict) else {}, r.status_code)
        return body

    def picture(self) -> tuple[str, bytes, str] | None:
        """The configured picture as (name, bytes, type); :class:`PublishError` when it cannot be sent."""
        if not self.pic_file:
            return None
        try:
            raw = Path(self.pic_file).read_bytes()
        except OSError as e:
            raise PublishError("weibo", "配图文件无法读取", detail=f"[incidents.weibo] pic_file: {e}") from None
        kind = next((t for magic, t in PIC_TYPES.items() if raw.startswith(magic)), None)
        if kind is None:
            raise PublishError("weibo", "配图只能是 JPEG、GIF 或 PNG", detail=f"[incidents.weibo] pic_file = {self.pic_file}")
        if len(raw) >= PIC_MAX:
            raise PublishError("weibo", "配图须小于 5 MB", detail=f"[incidents.weibo] pic_file: {len(raw)} 字节")
        return Path(self.pic_file).name, raw, kind

    def share(self, status: str, rip: str, pic: tuple[str, bytes, str] | None = None) -> dict[str, Any]:
        """``statuses/share`` as documented: ``rip`` is sent only when known (the platform refuses without); with
        a picture, multipart/form-data."""
        data = {"access_token": self.access_token, "status": status}
        if rip:
            data["rip"] = rip
        if pic is not None:
            return self._call("POST", "/2/statuses/share.json", data=data, files={"pic": pic})
        return self._call("POST", "/2/statuses/share.json", data=data)

    # -- the contract --------------------------------------------------------------------------------------
    def publish(self, draft: Any, ctx: PublishContext) -> PublishResult:
        if not self.access_token:
            raise not_configured("weibo", "[incidents.weibo] access_token 未设置")
        status = share_text(draft, ctx.link)
        body = self.share(status, ctx.rip or self.rip, self.picture())
        sid = str(body.get("idstr") or body.get("id") or "")
        if not sid:
            raise PublishError("weibo", "微博接口应答缺少微博 id", detail=str(body)[:300])
        user = body.get("user") or {}
        uid = str(user.get("idstr") or user.get("id") or "")
        url = f"https://weibo.com/{uid}/{sid}" if uid else f"https://m.weibo.cn/status/{sid}"
        return PublishResult("weibo", sid, url, details={"status": status, "length": weibo_length(status),
                                                         "link": ctx.link, "rip": ctx.rip or self.rip})

    def check_account(self, ctx: PublishContext) -> AccountCheck:
        if not self.access_token:
            return AccountCheck("weibo", "api", False, f"{NOT_CONNECTED['weibo']}：请手工发布后登记链接",
                                detail="[incidents.weibo] access_token 未设置")
        problems: list[str] = []
        details: list[str] = []
        try:
            info = self._call("POST", "/oauth2/get_token_info", data={"access_token": self.access_token})
            left = int(info.get("expire_in") or 0)
            summary = f"授权有效，剩余 {left // 86400} 天" if left >= 86400 else f"授权有效，剩余 {left // 3600} 小时"
        except PublishError as e:
            problems.append(e.reason)
            details.append(e.detail)
            summary = "授权不可用"
        if not self.safe_domain:
            problems.append("未设置应用绑定的安全域名")
            details.append("[incidents.weibo] safe_domain")
        elif not under_domain(ctx.link, self.safe_domain):
            problems.append(f"全文链接 {ctx.link or '（无）'} 不在绑定的安全域名 {self.safe_domain} 下")
            details.append("[incidents] public_base_url 或 [incidents.weibo] link_url")
        try:
            self.picture()
        except PublishError as e:
            problems.append(e.reason)
            details.append(e.detail)
        rip = ctx.rip or self.rip
        if not rip:
            problems.append("不知道操作者的真实 IP（rip）")
            details.append("[incidents.weibo] rip")
        elif not public_ip(rip):  # accepted, but Weibo asks for the user's real address
            summary += f"；操作者 IP {rip} 是内网地址，建议填写本单位出口 IP"
            details.append("[incidents.weibo] rip")
        return AccountCheck("weibo", "api", not problems, summary, problems, "；".join(d for d in details if d))

    def check_live(self, remote_id: str, url: str, details: dict[str, Any]) -> LiveCheck:
        if not self.access_token or not remote_id.isdigit():
            return LiveCheck("unknown", "无法通过微博接口核验", "[incidents.weibo] access_token 未设置或微博 id 无效")
        try:
            body = self._call("GET", "/2/statuses/show.json", params={"access_token": self.access_token,
                                                                      "id": remote_id})
        except PublishError as e:
            if e.code in GONE_CODES:
                return LiveCheck("gone", "statuses/show：微博不存在或已删除", e.detail)
            return LiveCheck("unknown", f"statuses/show 未能核验：{e.reason}", e.detail)
        if str(body.get("deleted") or "") == "1":
            return LiveCheck("gone", "statuses/show：微博已删除")
        return LiveCheck("live", "statuses/show 查到该微博", f"id={body.get('idstr') or remote_id}")
