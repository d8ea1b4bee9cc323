"""The public's reaction under a Weibo post: its comments and its reposts, as posts with their parent ids, so the
spread of an event (who reposted whom) and the answers under an official statement can be drawn and read.

- comments: ``/comments/hotflow?id=<mid>&mid=<mid>&max_id_type=0[&max_id=N]`` → ``data.data[]`` (each with its
  replies in ``comments[]``), next page by ``data.max_id`` (0 = the end); when hotflow refuses (HTTP 403 on old
  posts, ``ok: 0``), the older ``/api/comments/show?id=<mid>&page=N`` (``data.data[]``, relative dates such as
  ``3分钟前``, ``data.max`` pages);
- reposts: ``/api/statuses/repostTimeline?id=<mid>&page=N`` → ``data.data[]`` (reposts as mblogs), ``data.max`` pages.

A comment's ``reply_to`` is the comment it answers (``reply_comment.id``, or its thread's ``rootid``) or the post;
a repost's ``repost_of`` is the original's mid as ``retweeted_status`` gives it (the watched post when absent) and
its ``reply_to`` the repost it passed through (``pid``) when Weibo says so. ``ok: 0`` with "还没有人评论" / "快来发表
你的评论吧" or an empty list is no comments, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import CollectorError, SourceAuthError
from ..models import PICTURE_ONLY, Post
from .people import AuthorTyper, image, unique_images
from .textutil import parse_count, parse_when

EMPTY_MSGS = ("还没有人评论", "快来发表你的评论吧", "暂无评论", "这里还没有内容", "还没有人转发")
GetJson = Callable[[str, dict[str, Any]], dict[str, Any]]


def _user(u: Any) -> dict[str, Any]:
    return u if isinstance(u, dict) else {}


class Reactions:
    """Collects the comments and reposts of one post through the collector's ``get_json`` (which knows the
    login, the headers and the anti-crawl wall)."""

    def __init__(self, source: str, get_json: GetJson, typer: AuthorTyper, text_of: Callable[[str], str],
                 max_pages: int = 2) -> None:
        self.source = source
        self.get_json = get_json
        self.typer = typer
        self.text_of = text_of
        self.max_pages = max_pages

    def _page(self, path: str, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        try:
            data = self.get_json(path, params, empty_msgs=EMPTY_MSGS)
        except SourceAuthError:
            raise
        inner = data.get("data") or {}
        items = inner.get("data") if isinstance(inner, dict) else None
        return (items if isinstance(items, list) else []), (inner if isinstance(inner, dict) else {})

    # -- comments --------------------------------------------------------------------------------
    def comments(self, mid: str, seen: set[str]) -> tuple[list[Post], list[str]]:
        notes: list[str] = []
        try:
            return self._hotflow(mid, seen), notes
        except SourceAuthError:
            raise
        except CollectorError as e:
            notes.append(f"微博 {mid} 的评论（hotflow）未取到：{e.reason}；改用旧接口")
        try:
            return self._comments_show(mid, seen), notes
        except SourceAuthError:
            raise
        except CollectorError as e:
            notes.append(f"微博 {mid} 的评论未取到：{e.reason}")
            return [], notes

    def _hotflow(self, mid: str, seen: set[str]) -> list[Post]:
        out: list[Post] = []
        params: dict[str, Any] = {"id": mid, "mid": mid, "max_id_type": 0}
        for _ in range(self.max_pages):
            items, inner = self._page("/comments/hotflow", params)
            for c in items:
                if not isinstance(c, dict):
                    continue
                self._add_comment(c, mid, mid, seen, out)
                for sub in c.get("comments") or []:
                    if isinstance(sub, dict):
                        self._add_comment(sub, mid, str(c.get("id") or mid), seen, out)
            nxt = parse_count(inner.get("max_id"))
            if not items or not nxt:
                break
            params = {**params, "max_id": nxt, "max_id_type": inner.get("max_id_type", 0)}
        return out

    def _comments_show(self, mid: str, seen: set[str]) -> list[Post]:
        out: list[Post] = []
        for page in range(1, self.max_pages + 1):
            items, inner = self._page("/api/comments/show", {"id": mid, "page": page})
            for c in items:
                if isinstance(c, dict):
                    self._add_comment(c, mid, mid, seen, out)
            if not items or page >= parse_count(inner.get("max") or 1):
                break
        return out

    def _add_comment(self, c: dict[str, Any], mid: str, parent: str, seen: set[str], out: list[Post]) -> None:
        cid = str(c.get("id") or c.get("mid") or "")
        if not cid or cid in seen:
            return
        seen.add(cid)
        reply = c.get("reply_comment") if isinstance(c.get("reply_comment"), dict) else {}
        root = str(c.get("rootid") or "")
        reply_to = str(reply.get("id") or c.get("reply_id") or (root if root and root != cid else "") or parent)
        pic = c.get("pic") if isinstance(c.get("pic"), dict) else {}
        images = unique_images([image((pic.get("large") or {}).get("url") or pic.get("url"))]) if pic else []
        when = parse_when(c.get("created_at"))
        text = self.text_of(str(c.get("text") or "")) or (PICTURE_ONLY if images else "")
        if not text:
            return
        u = _user(c.get("user"))
        name = str(u.get("screen_name") or "")
        out.append(self._post(cid, text, when, u, name, images, reply_to=reply_to,
                              url=f"https://m.weibo.cn/detail/{mid}?cid={cid}",
                              region=str(c.get("source") or "").replace("来自", "").strip(),
                              likes=parse_count(c.get("like_count", c.get("like_counts"))),
                              comments=parse_count(c.get("total_number")), raw={"comment": c, "of": mid}))

    # -- reposts ---------------------------------------------------------------------------------
    def reposts(self, mid: str, seen: set[str]) -> tuple[list[Post], list[str]]:
        out: list[Post] = []
        try:
            for page in range(1, self.max_pages + 1):
                items, inner = self._page("/api/statuses/repostTimeline", {"id": mid, "page": page})
                for mb in items:
                    if isinstance(mb, dict):
                        self._add_repost(mb, mid, seen, out)
                if not items or page >= parse_count(inner.get("max") or 1):
                    break
        except SourceAuthError:
            raise
        except CollectorError as e:
            return out, [f"微博 {mid} 的转发未取到：{e.reason}"]
        return out, []

    def _add_repost(self, mb: dict[str, Any], mid: str, seen: set[str], out: list[Post]) -> None:
        rid = str(mb.get("mid") or mb.get("id") or "")
        if not rid or rid in seen:
            return
        seen.add(rid)
        rt = mb.get("retweeted_status") if isinstance(mb.get("retweeted_status"), dict) else {}
        original = str(rt.get("mid") or rt.get("id") or mid)
        u = _user(mb.get("user"))
        text = self.text_of(str(mb.get("text") or mb.get("raw_text") or "")) or "转发微博"
        out.append(self._post(rid, text, parse_when(mb.get("created_at")), u, str(u.get("screen_name") or ""), [],
                              repost_of=original, reply_to=str(mb.get("pid") or ""),
                              url=f"https://m.weibo.cn/detail/{rid}",
                              region=str(mb.get("region_name") or "").replace("发布于", "").strip(),
                              reposts=parse_count(mb.get("reposts_count")),
                              comments=parse_count(mb.get("comments_count")),
                              likes=parse_count(mb.get("attitudes_count")), raw={"repost": mb, "of": mid}))

    def _post(self, pid: str, text: str, when: Any, u: dict[str, Any], name: str, images: list[dict[str, str]],
              **kw: Any) -> Post:
        from ..models import utcnow

        return Post(source=self.source, source_id=pid, mid=pid, text=text, created_at=when or utcnow(),
                    time_unknown=when is None, author=name, author_id=str(u.get("id") or ""),
                    author_type=self.typer(name, str(u.get("id") or ""), u.get("verified"), u.get("verified_type")),
                    platform="weibo", images=images, **kw)
