"""Local HTTP stand-ins for the sites collectors read: a generic page server and a strict m.weibo.cn.

They serve our own fixture files (tests/collectors/fixtures) in the sites' real formats and check requests the
way the real services do (m.weibo.cn: the login cookie, the containerid, the XHR headers).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opinion_desk.collectors import SourceSpec, build_collector

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a hanging site)
    trickle: float = 0.0  # seconds between body bytes (a site that never finishes)


def fixture_reply(name: str, ctype: str) -> Reply:
    return Reply(body=(FIXTURES / name).read_bytes(), headers={"Content-Type": ctype})


Handler = Callable[[str, dict[str, list[str]], dict[str, str]], Reply]


class StandIn:
    """Serves ``routes[path]`` (a :class:`Reply` or a function of (path, query, headers)); 404 otherwise."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.log.append((self.path, headers))
                route = outer.routes.get(parts.path)
                if route is None:
                    reply = Reply(404, "<html><body>404 Not Found</body></html>".encode(), {"Content-Type": "text/html"})
                elif callable(route):
                    reply = route(parts.path, parse_qs(parts.query), headers)
                else:
                    reply = route
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.trickle:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self) -> list[str]:
        return [p for p, _ in self.log]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(obj: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                 {"Content-Type": "application/json; charset=utf-8"})


class WeiboStandIn(StandIn):
    """m.weibo.cn's mobile JSON: getIndex (timelines by containerid 107603<uid> with since_id paging, search by
    containerid 100103type=T&q=KW with page), statuses/extend. Requests without the valid ``SUB`` cookie get what
    the real site gives a logged-out or expired session: ``login_mode`` "redirect" (302 to passport.weibo.cn) or
    "json" (``{"ok":-100,"url":...}``)."""

    def __init__(self, cookie: str = "SUB=_2A25valid; SUBP=0033WrSXqPxfM") -> None:
        super().__init__()
        self.cookie = cookie
        self.login_mode = "json"
        self.blocked = False  # answer HTTP 432, the anti-crawl wall
        self.timelines: dict[str, dict[str, str]] = {  # uid -> since_id ("" = first page) -> fixture
            "7000000001": {"": "weibo_timeline_7000000001_p1.json",
                           "4999000000000103": "weibo_timeline_7000000001_p2.json"}}
        self.searches: dict[tuple[str, str, str], str] = {("61", "化工厂", "1"): "weibo_search_61_huagongchang_p1.json"}
        self.routes["/api/container/getIndex"] = self.get_index
        self.routes["/statuses/extend"] = self.extend
        self.routes["/comments/hotflow"] = self.hotflow
        self.routes["/api/comments/show"] = self.comments_show
        self.routes["/api/statuses/repostTimeline"] = self.repost_timeline
        self.hotflow_refused: set[str] = set()  # mids whose hotflow answers HTTP 403 (old posts, as on the real site)

    def _auth(self, headers: dict[str, str]) -> Reply | None:
        if self.blocked:
            return Reply(432, b"", {"Content-Type": "text/html"})
        sent = headers.get("cookie", "")
        if "SUB=" not in sent or sent.split("SUB=")[1].split(";")[0] != self.cookie.split("SUB=")[1].split(";")[0]:
            if self.login_mode == "redirect":
                return Reply(302, b"", {"Location": "https://passport.weibo.cn/signin/welcome?entry=mweibo&r=https%3A%2F%2Fm.weibo.cn%2F"})
            return fixture_reply("weibo_login_expired.json", "application/json; charset=utf-8")
        if headers.get("x-requested-with") != "XMLHttpRequest" or "m.weibo.cn" not in headers.get("referer", "") \
                and "127.0.0.1" not in headers.get("referer", ""):
            return _json({"ok": 0, "msg": "请求异常"}, 200)
        return None

    def get_index(self, path: str, q: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        deny = self._auth(headers)
        if deny is not None:
            return deny
        cid = (q.get("containerid") or [""])[0]
        if cid.startswith("107603"):
            name = self.timelines.get(cid[6:], {}).get((q.get("since_id") or [""])[0])
        elif cid.startswith("100103type="):
            inner = parse_qs(cid[len("100103"):])
            if (q.get("page_type") or [""])[0] != "searchall":
                return _json({"ok": 0, "msg": "参数错误"})
            name = self.searches.get(((inner.get("type") or [""])[0], (inner.get("q") or [""])[0],
                                      (q.get("page") or ["1"])[0]))
        else:
            return _json({"ok": 0, "msg": "参数错误"})
        if name is None:
            return fixture_reply("weibo_empty.json", "application/json; charset=utf-8")
        return fixture_reply(name, "application/json; charset=utf-8")

    def extend(self, path: str, q: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        deny = self._auth(headers)
        if deny is not None:
            return deny
        f = FIXTURES / f"weibo_extend_{(q.get('id') or [''])[0]}.json"
        if not f.exists():
            return _json({"ok": 0, "msg": "微博不存在或暂无查看权限!"})
        return fixture_reply(f.name, "application/json; charset=utf-8")


    # comments and reposts: files formats/weibo_<kind>_<mid>_<page or max_id>.json
    def _reaction(self, headers: dict[str, str], name: str, empty_msg: str) -> Reply:
        deny = self._auth(headers)
        if deny is not None:
            return deny
        f = FIXTURES / "formats" / name
        if not f.exists():
            return _json({"ok": 0, "msg": empty_msg})
        return fixture_reply(f"formats/{name}", "application/json; charset=utf-8")

    def hotflow(self, path: str, q: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        mid, id_ = (q.get("mid") or [""])[0], (q.get("id") or [""])[0]
        if not mid or mid != id_ or "max_id_type" not in q:  # the real endpoint wants id, mid and max_id_type
            return _json({"ok": 0, "msg": "参数错误"})
        if mid in self.hotflow_refused:
            return Reply(403, b"", {"Content-Type": "text/html"})
        return self._reaction(headers, f"weibo_hotflow_{mid}_{(q.get('max_id') or ['0'])[0]}.json", "快来发表你的评论吧")

    def comments_show(self, path: str, q: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        mid, page = (q.get("id") or [""])[0], (q.get("page") or ["1"])[0]
        return self._reaction(headers, f"weibo_comments_show_{mid}_{page}.json", "还没有人评论")

    def repost_timeline(self, path: str, q: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        mid, page = (q.get("id") or [""])[0], (q.get("page") or ["1"])[0]
        if not mid:
            return _json({"ok": 0, "msg": "参数错误"})
        return self._reaction(headers, f"weibo_reposts_{mid}_{page}.json", "还没有人转发")


def make(kind: str, name: str = "src", credentials: dict | None = None, timeout: float = 5.0, **options):
    return build_collector(SourceSpec(name=name, type=kind, cadence=60, options=options,
                                      credentials=credentials or {}, timeout=timeout))
