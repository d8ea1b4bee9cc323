"""Who said it: the author type of a post (gov / media / verified / user), and the pictures a post carries.

Author type, first answer wins:

1. the office's own account list (``[collectors] accounts``: name or platform id -> ``gov`` | ``media`` |
   ``person`` | ``verified``), so 某某县发布 is ``gov`` whatever the platform says;
2. the platform's verified flags (Weibo ``verified_type`` 1 = 政府, 3 = 媒体; any other verified account =
   ``verified``; not verified = ``user``);
3. the source's ``author_type`` option (a government feed: ``gov``);
4. the name itself, for the issuing office of an item in an aggregate feed (``深圳市商务局`` ends in 局: ``gov``;
   ``某某日报`` ends in 日报: ``media``).

``person`` is stored as ``user`` (the rules' vocabulary: gov, media, verified, user).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

AUTHOR_TYPES = ("gov", "media", "verified", "user")
ALIASES = {"person": "user", "个人": "user", "政务": "gov", "政府": "gov", "媒体": "media", "认证": "verified"}
#: Weibo verified_type values whose meaning is stable (1 政府, 3 媒体); any other verified account is "verified"
#: (observed values such as 0, 2, 7 are not mapped further: their meaning is not documented)
WEIBO_VERIFIED = {1: "gov", 3: "media"}
_GOV_NAME = re.compile(r"^.*[市县区省州盟旗镇乡].*(政府(?:门户)?(?:网站?)?|发布|委员会|[局厅委办署院处]|公安|交警|消防|法院|检察院|人大|"
                       r"政协|街道|党委|网信办|宣传部|服务中心|管委会)$")
_MEDIA_NAME = re.compile(r"(日报|晚报|早报|晨报|都市报|时报|商报|新闻|电视台|广播电台|融媒体中心|融媒|新闻网|报社|观察|"
                         r"头条|通讯社|新华社|人民网|央视|卫视|周刊)")


def normalize_type(value: Any) -> str:
    v = str(value or "").strip().lower()
    v = ALIASES.get(v, v)
    return v if v in AUTHOR_TYPES else ""


class AuthorTyper:
    """The author type of a post from the account list, the platform's flags, the source default and the name."""

    def __init__(self, accounts: Mapping[str, Any] | None = None, default: str = "") -> None:
        self.accounts = {str(k).strip(): normalize_type(v) for k, v in (accounts or {}).items()}
        self.default = normalize_type(default)

    def __call__(self, name: str = "", author_id: str = "", verified: Any = None,
                 verified_type: Any = None) -> str:
        listed = self.listed(name, author_id)
        if listed:
            return listed
        if verified is True or verified in (1, "1", "True", "true", "是"):
            try:
                vt = int(verified_type)
            except (TypeError, ValueError):
                vt = None
            return WEIBO_VERIFIED.get(vt, "verified") if vt is not None else "verified"
        if self.default:
            return self.default
        if verified is False or verified in (0, "0", "False", "false", "否"):
            return "user"
        return self.by_name(name)

    def listed(self, name: str = "", author_id: str = "") -> str:
        """The type the account list gives this author ("" when not listed)."""
        for key in (str(author_id or "").strip(), str(name or "").strip()):
            if key and self.accounts.get(key):
                return self.accounts[key]
        return ""

    def apply(self, post: Any) -> Any:
        """A converted post's type: the account list wins, else the converter's, else default and name."""
        post.author_type = (self.listed(post.author, post.author_id) or normalize_type(post.author_type)
                            or self.default or self.by_name(post.author))
        return post

    @staticmethod
    def by_name(name: str) -> str:
        n = str(name or "").strip()
        if n and _MEDIA_NAME.search(n):
            return "media"
        if n and _GOV_NAME.search(n):
            return "gov"
        return ""


def image(url: Any, alt: Any = "", base: str = "") -> dict[str, str] | None:
    """One ``{"url", "alt"}`` (relative URLs joined to ``base``; protocol-relative ones get https), or None."""
    u = str(url or "").strip()
    if not u or u.startswith(("data:", "javascript:")):
        return None
    if u.startswith("//"):
        u = "https:" + u
    elif base and not u.startswith(("http://", "https://")):
        u = urljoin(base, u)
    return {"url": u, "alt": str(alt or "").strip()}


def unique_images(items: list[dict[str, str] | None]) -> list[dict[str, str]]:
    """Images in order, each URL once (the first alt text that is not empty wins)."""
    out: dict[str, dict[str, str]] = {}
    for im in items:
        if im is None:
            continue
        have = out.get(im["url"])
        if have is None:
            out[im["url"]] = dict(im)
        elif not have["alt"] and im["alt"]:
            have["alt"] = im["alt"]
    return list(out.values())


def without_images(html: str) -> str:
    """The HTML with its pictures taken out: what is left says whether the body has words of its own."""
    return re.sub(r"<img\b[^>]*>", "", html or "", flags=re.I)


def html_images(html: str, base: str = "") -> list[dict[str, str]]:
    """The pictures of an HTML body: ``<img src|data-src alt>`` (WeChat lazy images use ``data-src``); Weibo's and
    CMS's emoticons (class ``url-icon`` parents, ``face``/``emoji`` classes, tiny sizes) are not pictures."""
    if not html or "<img" not in html:
        return []
    from .textutil import soup

    out: list[dict[str, str] | None] = []
    for img in soup(html).find_all("img"):
        cls = " ".join(img.get("class") or [])
        parent_cls = " ".join((img.parent.get("class") or []) if img.parent is not None else [])
        if "url-icon" in parent_cls or re.search(r"face|emoji|emotion|icon", cls):
            continue
        try:
            if int(str(img.get("width") or "100").rstrip("px")) < 40:
                continue
        except ValueError:
            pass
        out.append(image(img.get("data-src") or img.get("src"), img.get("alt") or img.get("title"), base))
    return unique_images(out)
