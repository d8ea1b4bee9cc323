"""Manual 立案 names posts the way an officer has them: a platform link or id, or the desk's own post id.

Accepted references (one per line or separated by spaces):

- the desk's post id (24 hex characters, shown on the dashboard feed and in exports);
- Weibo: ``https://weibo.com/<uid>/<mid or bid>``, ``https://m.weibo.cn/status/<mid or bid>``,
  ``https://m.weibo.cn/detail/<mid>``, or a bare mid (digits) or bid (base62, e.g. ``NdBqP4xyz``);
- WeChat articles: ``https://mp.weixin.qq.com/s?__biz=...&mid=...&idx=...&sn=...`` or ``.../s/<token>``;
- any other platform's own id (a post's ``source_id``) or link.

A post is stored under ``post_id(source, source_id)``; a reference is looked for under every source the store
holds. :func:`resolve` returns the posts found and, for each reference not found, a reason in Chinese.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ..models import post_id

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DESK_ID = re.compile(r"[0-9a-f]{24}")
WEIBO = re.compile(r"^(?:https?://)?(?:www\.|m\.)?weibo\.(?:com|cn)/(?:u/)?(?:\d+|status|detail)/([0-9A-Za-z]+)(?:[/?#].*)?$")
FORMATS = ("值班台帖子编号、weibo.com/<uid>/<mid>、m.weibo.cn/status/<mid>、mp.weixin.qq.com 文章链接，"
           "或帖子在平台上的编号（微博 mid）")


def bid_to_mid(bid: str) -> str:
    """Weibo's base62 post id (the ``bid`` in weibo.com/<uid>/<bid>) -> the numeric mid: the bid is read in
    groups of 4 characters from the right, each a base62 number written as 7 decimal digits (the leftmost
    group unpadded)."""
    parts = []
    end = len(bid)
    while end > 0:
        start = max(0, end - 4)
        n = 0
        for ch in bid[start:end]:
            n = n * 62 + ALPHABET.index(ch)
        parts.append(str(n) if start == 0 else str(n).zfill(7))
        end = start
    return "".join(reversed(parts)).lstrip("0") or "0"


def mid_to_bid(mid: str) -> str:
    """The inverse of :func:`bid_to_mid`."""
    out = []
    end = len(mid)
    while end > 0:
        start = max(0, end - 7)
        n = int(mid[start:end])
        s = ""
        while n:
            n, r = divmod(n, 62)
            s = ALPHABET[r] + s
        out.append(s.rjust(4, "0") if start else s)
        end = start
    return "".join(reversed(out)) or "0"


@dataclass
class Ref:
    text: str
    kind: str  # desk | weibo | wechat | url | id
    ids: list[str] = field(default_factory=list)  # source_id candidates
    label: str = ""


def parse(ref: str) -> Ref:
    """What a reference can be, with the source ids to look for."""
    t = ref.strip()
    if DESK_ID.fullmatch(t):
        return Ref(t, "desk", [t], "值班台帖子编号")
    m = WEIBO.match(t)
    if m or re.fullmatch(r"\d{15,20}", t):
        key = m.group(1) if m else t
        if key.isdigit():
            mid = key
        else:
            try:
                mid = bid_to_mid(key)
            except ValueError:
                mid = key
        ids = ([mid, key, mid_to_bid(mid)]) if mid.isdigit() else [key]
        return Ref(t, "weibo", list(dict.fromkeys(ids + [f"https://m.weibo.cn/detail/{mid}"])), f"微博 mid {mid}")
    looks_like_url = "://" in t or re.match(r"^[\w-]+(\.[\w-]+)+/", t) is not None
    u = urllib.parse.urlsplit(t if "://" in t else "https://" + t) if looks_like_url else None
    if u is not None and u.netloc.endswith("mp.weixin.qq.com"):
        base = urllib.parse.urlunsplit(("https", "mp.weixin.qq.com", u.path, u.query, ""))
        q = urllib.parse.parse_qs(u.query)
        keep = "&".join(f"{k}={q[k][0]}" for k in ("__biz", "mid", "idx", "sn") if k in q)
        ids = [t, base, base.replace("https://", "http://", 1)]
        if keep:
            short = f"https://mp.weixin.qq.com{u.path}?{keep}"
            ids += [short, short.replace("https://", "http://", 1), f"{short}#rd"]
        return Ref(t, "wechat", list(dict.fromkeys(ids)), "公众号文章链接")
    if u is not None and u.scheme in ("http", "https") and u.netloc:
        return Ref(t, "url", list(dict.fromkeys([t, t.split("#")[0]])), "链接")
    return Ref(t, "id", [t], "来源编号")


def split(text_or_list: Any) -> list[str]:
    items = text_or_list if isinstance(text_or_list, list) else re.split(r"[\s,，、]+", str(text_or_list or ""))
    return [str(x).strip() for x in items if str(x).strip()]


def sources(store: Any) -> list[str]:
    from ..store.base import PostQuery

    return [s for s, _ in store.top_terms(PostQuery(size=0), field="source", size=500)]


def resolve(store: Any, refs: list[str]) -> tuple[list[Any], list[str]]:
    """(posts found, in the order given, without repeats; one Chinese reason per reference not found)."""
    if store is None:
        return [], [f"帖子库不可用，无法查找「{r}」" for r in refs]
    found: dict[str, Any] = {}
    problems: list[str] = []
    names: list[str] | None = None
    for text in refs:
        ref = parse(text)
        post = store.get(ref.text) if ref.kind == "desk" else None
        if post is None and ref.kind != "desk":
            names = sources(store) if names is None else names
            for sid in ref.ids:
                post = next((p for p in (store.get(post_id(n, sid)) for n in names) if p is not None), None)
                if post is not None:
                    break
        if post is None:
            where = "在帖子库中" if ref.kind == "desk" or not names else f"在 {len(names)} 个信息源中"
            hint = ("" if ref.kind != "id" or len(ref.text) >= 8 else f"；可用的写法：{FORMATS}")
            problems.append(f"找不到帖子「{ref.text}」：按{ref.label}{where}没有找到。请确认该帖已被采集"
                            f"（可在「信息源」导入或推送后再立案）{hint}")
            continue
        found.setdefault(post.id, post)
    return list(found.values()), problems
