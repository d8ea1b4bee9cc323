"""Weibo through the mobile web JSON that m.weibo.cn serves (the shape public crawlers such as weibo-crawler and
MediaCrawler read): user timelines and keyword search, with the office's login cookie.

- timeline: ``/api/container/getIndex?containerid=107603<uid>``, next pages by ``since_id`` (or ``page``);
- search: ``/api/container/getIndex?containerid=100103type%3D<T>%26q%3D<kw>&page_type=searchall&page=N``
  (T: 1 综合, 61 实时); posts are ``card_type 9`` cards, at the top level or inside ``card_group``;
- long posts (``isLongText``, or more than 9 pictures): ``/statuses/extend?id=<mid>`` → ``longTextContent``; when
  that request fails the truncated text is kept, the post flagged ``truncated`` and the run's notes say so;
- comments and reposts (:mod:`.weibo_reactions`) of the posts in ``watch`` (a watched event; ``mode: watch`` reads
  nothing else) and, with ``reactions: true``, of the timeline's own posts for ``watch_hours``.

Each post keeps its ``mid``, its pictures (``pics``), the original it reposts (``repost_of``: the
``retweeted_status`` mid) and its author type (the account list, else ``verified_type`` 1 政府 / 3 媒体). A picture-only
post is （图片）; a date that cannot be read marks the post ``time_unknown`` (stamped when collected, noted).

A login that expired answers with a redirect to passport.weibo.cn (or a login page), or with
``{"ok":-100,"url":"https://passport.weibo.cn/..."}``: both raise :class:`SourceAuthError`, which the scheduler
turns into a source alert at once (a crawler that silently collects nothing is the worst failure). ``{"ok":0,
"msg":"这里还没有内容"}`` is an empty page, not an error; HTTP 432/418/403 is the anti-crawl wall.

Cursor: ``{"targets": {"uid:<uid>" | "q:<kw>": newest mid seen}, "seen": [recent mids], "watching": {mid: until},
"reaction_seen": [comment and repost ids]}``: timelines stop paging at the first (non-pinned) post at or below the
newest mid already collected; searches skip seen mids.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from ..errors import CollectorError, SourceAuthError
from ..models import PICTURE_ONLY, QUOTED_ORIGINAL, Post, utcnow
from .base import CollectResult, Collector, Option
from .http import Fetcher, Response
from .rss import matches_keywords
from .people import image, unique_images
from .textutil import node_text, parse_count, parse_when, soup
from .weibo_reactions import Reactions

SEEN_KEEP = 5000
REACTIONS_KEEP = 20000  # comment and repost ids remembered per source
MAX_WATCHED = 200  # posts whose reactions one source follows at once
LOGIN_MARKS = ("passport.weibo.cn", "passport.weibo.com", "login.sina.com.cn", "/signin/", "newlogin")
BLOCK_STATUSES = {403: "HTTP 403 (访问被拒绝)", 418: "HTTP 418 (反爬限制)", 432: "HTTP 432 (反爬限制，请稍后再试或更换 Cookie)"}
# verified_type values whose meaning is stable (1 政府, 3 媒体); other verified accounts are "verified"
AUTHOR_TYPES = {1: "gov", 3: "media"}


def mblog_text(html: str) -> str:
    """mblog.text (HTML) -> plain text: emoticons as their alt ([哈哈]), #话题# and @昵称 kept, "全文" dropped,
    external links kept as "网页链接(URL)"."""
    doc = soup(f"<div>{html}</div>")
    root = doc.div or doc
    for a in root.find_all("a"):
        label = a.get_text(strip=True)
        href = a.get("href") or ""
        if label == "全文" and ("/status/" in href or "/detail/" in href):
            a.decompose()
        elif label in ("网页链接", "查看图片") and href.startswith("http"):
            a.replace_with(f"{label}({href})")
    text = node_text(root)
    return text.rstrip(" .…").rstrip() if text.endswith(("...", "…")) else text


def mblog_images(mblog: dict[str, Any]) -> list[dict[str, str]]:
    """The post's pictures (``pics[].large.url``, else ``pics[].url``); videos among them are left out."""
    out = []
    for p in mblog.get("pics") or []:
        if isinstance(p, dict) and p.get("type") != "video":
            out.append(image((p.get("large") or {}).get("url") or p.get("url")))
    return unique_images(out)


def watch_mid(value: Any) -> str:
    """A watched post as a mid: ``4999000000000105`` or ``https://m.weibo.cn/detail/4999000000000105``."""
    m = re.search(r"(?:^|/detail/|/status/)(\d{12,20})(?:$|[/?#])", str(value).strip())
    return m.group(1) if m else ""


def mid_key(mid: str) -> int:
    try:
        return int(mid)
    except (TypeError, ValueError):
        return 0


def cards_posts(cards: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in cards or []:
        if not isinstance(c, dict):
            continue
        if c.get("card_type") == 9 and isinstance(c.get("mblog"), dict):
            out.append(c["mblog"])
        for g in c.get("card_group") or []:
            if isinstance(g, dict) and g.get("card_type") == 9 and isinstance(g.get("mblog"), dict):
                out.append(g["mblog"])
    return out


class WeiboCollector(Collector):
    kind = "weibo"
    needs_credentials = ("cookie",)
    options = {
        "mode": Option(str, "'user' (timelines of uids), 'search' (keyword search) or 'watch' (only the comments "
                       "and reposts of the posts in 'watch')", required=True, choices=("user", "search", "watch")),
        "uids": Option(list, "user ids whose timelines are read (mode user)", default=[]),
        "keywords": Option(list, "search words (mode search); in mode user, keep only posts mentioning one",
                           default=[]),
        "search_type": Option(int, "search tab: 1 综合, 61 实时, 60 热门", default=61, choices=(1, 60, 61, 64)),
        "max_pages": Option(int, "most pages read per uid/keyword in one run", default=3),
        "long_text": Option(bool, "fetch the full text of long posts", default=True),
        "base_url": Option(str, "the mobile web host", default="https://m.weibo.cn"),
        "region": Option(str, "region label for posts without an IP location", default=""),
        "watch": Option(list, "posts (mids or m.weibo.cn/detail/<mid> links) whose comments and reposts are "
                        "collected: a watched event", default=[]),
        "reactions": Option(bool, "mode user: also collect the comments and reposts of these accounts' own posts "
                            "(the public's reaction to an official answer)", default=False),
        "watch_hours": Option((int, float), "how long after it was posted a post's reactions are collected",
                              default=48),
        "reaction_pages": Option(int, "most pages of comments and of reposts read per post and run", default=2),
        "reaction_posts": Option(int, "watched posts whose reactions one run reads (the others in later runs, "
                                 "in turn)", default=10),
    }

    @classmethod
    def check_extra(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        mode = options.get("mode")
        if mode == "user" and not options.get("uids"):
            return [("uids", "mode 'user' 至少需要一个 uid")]
        if mode == "search" and not options.get("keywords"):
            return [("keywords", "mode 'search' 至少需要一个关键词")]
        if mode == "watch" and not options.get("watch"):
            return [("watch", "mode 'watch' 至少需要一条微博（mid 或 m.weibo.cn/detail/<mid> 链接）")]
        watch = options.get("watch")
        bad = [w for w in (watch if isinstance(watch, list) else []) if not watch_mid(w)]
        if bad:
            return [("watch", f"不是微博 mid 或 m.weibo.cn/detail/<mid> 链接：{bad[0]!r}")]
        return []

    def __init__(self, spec) -> None:  # noqa: ANN001
        super().__init__(spec)
        self.notes: list[str] = []
        self.base = str(self.opt("base_url")).rstrip("/")
        self.fetcher = Fetcher(spec.name, timeout=spec.timeout or 20.0, headers={
            "Cookie": spec.credentials.get("cookie", ""),
            "Referer": f"{self.base}/",
            "Accept": "application/json, text/plain, */*",
            "X-Requested-With": "XMLHttpRequest",
            "MWeibo-Pwa": "1",
        })

    # -- requests --------------------------------------------------------------------------------
    def _check_login(self, resp: Response) -> None:
        if 300 <= resp.status < 400:
            loc = resp.headers.get("location", "")
            if any(m in loc for m in LOGIN_MARKS):
                raise SourceAuthError(self.name, f"登录已失效（跳转到登录页 {loc[:80]}），请更新 Cookie")
            raise CollectorError(self.name, f"{resp.url}: unexpected redirect HTTP {resp.status} to {loc[:80]}")
        if resp.status in BLOCK_STATUSES:
            raise CollectorError(self.name, f"{resp.url}: {BLOCK_STATUSES[resp.status]}")
        ctype = resp.headers.get("content-type", "")
        if "html" in ctype:
            page = resp.text[:5000]
            if any(m in page for m in LOGIN_MARKS) or "登录" in page:
                raise SourceAuthError(self.name, "登录已失效（返回了登录页面），请更新 Cookie")

    def get_json(self, path: str, params: dict[str, Any],
                 empty_msgs: tuple[str, ...] = ("这里还没有内容",)) -> dict[str, Any]:
        url = f"{self.base}{path}"
        resp = self.fetcher.get(url, params=params, allow_redirects=False, ok_statuses=(200, *BLOCK_STATUSES))
        self._check_login(resp)
        data = resp.json(self.name)
        if not isinstance(data, dict) or "ok" not in data:
            raise CollectorError(self.name, f"{resp.url}: unexpected answer (no 'ok' field)")
        ok = data.get("ok")
        if ok == -100 or (ok != 1 and any(m in str(data.get("url", "")) for m in LOGIN_MARKS)):
            raise SourceAuthError(self.name, f"登录已失效（ok={ok}，{data.get('msg') or '请先登录'}），请更新 Cookie")
        if ok == 0 and any(m in str(data.get("msg") or "") for m in empty_msgs):
            return {"ok": 0, "data": {"cards": [], "data": []}, "empty": True}
        if ok != 1:
            raise CollectorError(self.name, f"{resp.url}: Weibo answered ok={ok}: {data.get('msg') or 'unknown error'}")
        if not isinstance(data.get("data"), dict):
            raise CollectorError(self.name, f"{resp.url}: field 'data' missing or not an object")
        data["_url"] = resp.url
        return data

    def long_text(self, mid: str) -> tuple[dict[str, Any] | None, str]:
        """(the extend answer, "") or (None, why it failed): the truncated text is then kept, flagged."""
        try:
            data = self.get_json("/statuses/extend", {"id": mid})
        except SourceAuthError:
            raise
        except CollectorError as e:
            return None, e.reason
        inner = data.get("data") or {}
        if isinstance(inner.get("longTextContent"), str):
            return inner, ""
        return None, "statuses/extend 没有给出 longTextContent"

    # -- one post --------------------------------------------------------------------------------
    def to_post(self, mblog: dict[str, Any], endpoint: str) -> Post:
        mid = str(mblog.get("mid") or mblog.get("id") or "")
        if not mid:
            raise CollectorError(self.name, f"{endpoint}: a post without 'mid'/'id'")
        when = parse_when(mblog.get("created_at"))
        if when is None:
            self.notes.append(f"微博 {mid} 的时间无法识别（{mblog.get('created_at')!r}），按采集时间记录")
        ext, failed = None, ""
        wants_long = bool(mblog.get("isLongText") or parse_count(mblog.get("pic_num")) > 9)
        if self.opt("long_text") and wants_long:
            ext, failed = self.long_text(mid)
            if failed:
                self.notes.append(f"微博 {mid} 的全文未取到（{failed}），已保存截断的正文")
        text = mblog_text(ext["longTextContent"] if ext else str(mblog.get("text") or ""))
        images = mblog_images(mblog)
        if not text:
            text = PICTURE_ONLY if images else ("（视频）" if (mblog.get("page_info") or {}).get("type") == "video"
                                                 else "（无文字）")
        rt = mblog.get("retweeted_status")
        repost_of = ""
        if isinstance(rt, dict):
            rt_user = (rt.get("user") or {}).get("screen_name") or "原微博已删除"
            text = f"{text}\n{QUOTED_ORIGINAL}{rt_user}：{mblog_text(str(rt.get('text') or ''))}"
            repost_of = str(rt.get("mid") or rt.get("id") or "")
        user = mblog.get("user") or {}
        name, uid = str(user.get("screen_name") or ""), str(user.get("id") or "")
        region = str(mblog.get("region_name") or "").replace("发布于", "").strip() or self.opt("region") or ""
        counts = ext or mblog
        return Post(source=self.name, source_id=mid, mid=mid, repost_of=repost_of, text=text,
                    created_at=when or utcnow(), time_unknown=when is None, truncated=bool(failed),
                    url=f"https://m.weibo.cn/detail/{mid}", author=name, author_id=uid,
                    author_type=self.typer(name, uid, bool(user.get("verified")), user.get("verified_type")),
                    region=region, platform="weibo", images=images,
                    reposts=parse_count(counts.get("reposts_count")), comments=parse_count(counts.get("comments_count")),
                    likes=parse_count(counts.get("attitudes_count")), collected_at=utcnow(),
                    raw={"endpoint": endpoint, "mblog": mblog, "extend": ext,
                         **({"long_text_error": failed} if failed else {})})

    # -- the run ---------------------------------------------------------------------------------
    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        self.notes = []
        targets = dict(cursor.get("targets") or {})
        seen = list(cursor.get("seen") or [])
        posts = [] if self.opt("mode") == "watch" else self._collect_posts(targets, seen)
        watching = self._watch_list(cursor, posts)
        rseen = list(cursor.get("reaction_seen") or [])
        turn = int(cursor.get("watch_turn") or 0)
        if watching:  # a few watched posts per run, in turn: each request waits for the host's rate limit
            mids = sorted(watching)
            n = min(len(mids), int(self.opt("reaction_posts")))
            turn %= len(mids)
            posts.extend(self._collect_reactions((mids + mids)[turn:turn + n], rseen))
            turn = (turn + n) % len(mids)
        truncated = sum(p.truncated for p in posts)
        if truncated:
            self.notes.insert(0, f"{truncated} 条长微博的全文未取到，已保存截断的正文（标记为“截断”）")
        new_cursor = {"targets": targets, "seen": seen[-SEEN_KEEP:]}
        if watching or rseen:
            new_cursor.update(watching=watching, reaction_seen=rseen[-REACTIONS_KEEP:], watch_turn=turn)
        return CollectResult(posts=posts, cursor=new_cursor, notes=self.notes[:20])

    def _watch_list(self, cursor: dict[str, Any], posts: list[Post]) -> dict[str, str]:
        """mid -> until when (ISO) its comments and reposts are collected: the ``watch`` list (no end) and, with
        ``reactions: true``, the source's own new posts for ``watch_hours``."""
        now = utcnow()
        watching = {m: u for m, u in (cursor.get("watching") or {}).items() if not u or u > now.isoformat()}
        for m in self.opt("watch") or []:
            mid = watch_mid(m)
            if mid:
                watching.setdefault(mid, "")
        if self.opt("reactions") and self.opt("mode") == "user":
            until = (now + timedelta(hours=float(self.opt("watch_hours")))).isoformat()
            for p in posts:
                if not p.repost_of and p.created_at > now - timedelta(hours=float(self.opt("watch_hours"))):
                    watching.setdefault(p.source_id, until)
        return dict(sorted(watching.items())[-MAX_WATCHED:])

    def _collect_reactions(self, mids: list[str], rseen: list[str]) -> list[Post]:
        seen = set(rseen)
        before = set(seen)
        r = Reactions(self.name, self.get_json, self.typer, mblog_text, int(self.opt("reaction_pages")))
        out: list[Post] = []
        for mid in mids:
            for fetch in (r.comments, r.reposts):
                got, notes = fetch(mid, seen)
                out.extend(got)
                self.notes.extend(notes)
        rseen.extend(sorted(seen - before))
        return out

    def _collect_posts(self, targets: dict[str, Any], seen: list[str]) -> list[Post]:
        seen_set = set(seen)
        posts: list[Post] = []
        if self.opt("mode") == "user":
            jobs = [(f"uid:{u}", {"containerid": f"107603{u}"}) for u in self.opt("uids")]
        else:
            t = self.opt("search_type")
            jobs = [(f"q:{k}", {"containerid": f"100103type={t}&q={k}", "page_type": "searchall"})
                    for k in self.opt("keywords")]
        keywords = [str(k) for k in self.opt("keywords") or []] if self.opt("mode") == "user" else []
        for key, params in jobs:
            newest = mid_key(targets.get(key, "0"))
            top = newest
            page_params: dict[str, Any] = {}
            for page in range(1, int(self.opt("max_pages")) + 1):
                if self.opt("mode") == "search":
                    page_params = {"page": page}
                data = self.get_json("/api/container/getIndex", {**params, **page_params})
                mblogs = cards_posts(data["data"].get("cards") or [])
                fresh = 0
                reached_old = False
                for mb in mblogs:
                    mid = str(mb.get("mid") or mb.get("id") or "")
                    pinned = mb.get("isTop") in (1, True)
                    if newest and mid_key(mid) <= newest and not pinned and self.opt("mode") == "user":
                        reached_old = True
                        continue
                    if mid in seen_set:
                        continue
                    post = self.to_post(mb, data["_url"])
                    seen_set.add(mid)
                    seen.append(mid)
                    top = max(top, mid_key(mid))
                    fresh += 1
                    if matches_keywords(post.text, keywords):
                        posts.append(post)
                info = data["data"].get("cardlistInfo") or {}
                if data.get("empty") or not mblogs or reached_old or fresh == 0:
                    break
                if self.opt("mode") == "user":
                    if info.get("since_id"):
                        page_params = {"since_id": info["since_id"]}
                    elif info.get("page"):
                        page_params = {"page": info["page"]}
                    else:
                        break
            if top:
                targets[key] = str(top)
        return posts

    def close(self) -> None:
        self.fetcher.close()
