"""Local stand-ins for the Weibo and WeChat Official Account APIs, on 127.0.0.1, checking requests the way the
documented APIs do and answering in their shapes (including their error bodies)."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def _handle(self, method: str) -> None:
                u = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                req = {"method": method, "path": u.path, "query": {k: v[0] for k, v in parse_qs(u.query).items()},
                       "content_type": self.headers.get("Content-Type", ""), "raw": raw}
                owner.requests.append(req)
                status, body = owner.handle(req)
                self._answer(status, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, req: dict[str, Any]) -> tuple[int, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class WeiboStandin(_Server):
    """``POST /2/statuses/share.json``: form-encoded access_token + status; the status must hold a URL of the
    safe domain and at most 2000 characters; repeats are refused."""

    def __init__(self, token: str = "weibo-token", safe_domain: str = "www.qingshan.gov.cn", uid: str = "5011223344"):
        self.token = token
        self.safe_domain = safe_domain
        self.uid = uid
        self.statuses: list[dict[str, Any]] = []
        self.fail_next: dict[str, Any] | None = None
        super().__init__()

    def error(self, status: int, code: int, msg: str) -> tuple[int, Any]:
        return status, {"error": msg, "error_code": code, "request": "/2/statuses/share.json"}

    def handle(self, req: dict[str, Any]) -> tuple[int, Any]:
        if req["path"] != "/2/statuses/share.json":
            return 404, {"error": "Request Api not found!", "error_code": 10014, "request": req["path"]}
        if req["method"] != "POST":
            return self.error(400, 10021, "HTTP method is not suported for this request!")
        if not req["content_type"].startswith("application/x-www-form-urlencoded"):
            return self.error(400, 10008, "param error, see doc for more info.")
        form = {k: v[0] for k, v in parse_qs(req["raw"].decode("utf-8")).items()}
        if form.get("access_token") != self.token:
            return self.error(401, 21332, "invalid_access_token")
        status = form.get("status")
        if not status:
            return self.error(400, 10016, "miss required parameter (status), see doc for more info.")
        if self.fail_next:
            f, self.fail_next = self.fail_next, None
            return self.error(f["status"], f["code"], f["msg"])
        if self.safe_domain not in status:
            return self.error(400, 10017, "parameter (status)'s value invalid, expect (status must contain a url of "
                                          "the safe domain), but get (" + status[:20] + "), see doc for more info.")
        if len(status) > 2000:
            return self.error(400, 20012, "Text too long, please input text less than 2000 characters!")
        if any(s["text"] == status for s in self.statuses):
            return self.error(400, 20019, "Repeat content!")
        sid = str(4900000000000000 + len(self.statuses) + 1)
        st = {"created_at": "Tue Nov 24 10:00:00 +0800 2026", "id": int(sid), "idstr": sid, "mid": sid,
              "text": status, "source": "<a href=\"\" rel=\"nofollow\">舆情值班台</a>", "reposts_count": 0,
              "comments_count": 0, "attitudes_count": 0,
              "user": {"id": int(self.uid), "idstr": self.uid, "screen_name": "青山发布", "verified": True}}
        self.statuses.append(st)
        return 200, st


class WeChatStandin(_Server):
    """The Official Account's token, draft/add, freepublish/submit and freepublish/get."""

    def __init__(self, appid: str = "wx0123456789abcdef", secret: str = "wechat-secret", thumb: str = "THUMB_MEDIA_1"):
        self.appid = appid
        self.secret = secret
        self.thumb = thumb
        self.tokens: set[str] = set()
        self.drafts: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, Any]] = []
        super().__init__()

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def handle(self, req: dict[str, Any]) -> tuple[int, Any]:
        q, path = req["query"], req["path"]
        if path == "/cgi-bin/token":
            if req["method"] != "GET" or q.get("grant_type") != "client_credential":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            if q.get("appid") != self.appid:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if q.get("secret") != self.secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            tok = secrets.token_hex(16)
            self.tokens.add(tok)
            return 200, {"access_token": tok, "expires_in": 7200}
        if path not in ("/cgi-bin/draft/add", "/cgi-bin/freepublish/submit", "/cgi-bin/freepublish/get"):
            return 404, {"errcode": 48001, "errmsg": "api unauthorized"}
        if req["method"] != "POST":
            return 200, {"errcode": 43002, "errmsg": "require POST method"}
        if q.get("access_token") not in self.tokens:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        try:
            body = json.loads(req["raw"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 200, {"errcode": 47001, "errmsg": "data format error"}
        if path == "/cgi-bin/draft/add":
            arts = body.get("articles")
            if not isinstance(arts, list) or not arts:
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            for a in arts:
                for k in ("title", "content", "thumb_media_id"):
                    if not isinstance(a.get(k), str) or not a.get(k):
                        return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{k} empty"}
                if a["thumb_media_id"] != self.thumb:
                    return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
                if len(a.get("digest", "")) > 120:
                    return 200, {"errcode": 45004, "errmsg": "description size out of limit"}
                if len(a["title"]) > 64:
                    return 200, {"errcode": 45003, "errmsg": "title size out of limit"}
                for k in ("need_open_comment", "only_fans_can_comment"):
                    if k in a and a[k] not in (0, 1):
                        return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{k}"}
            mid = "MEDIA_" + secrets.token_hex(8)
            self.drafts[mid] = body
            return 200, {"media_id": mid}
        if path == "/cgi-bin/freepublish/submit":
            mid = body.get("media_id")
            if mid not in self.drafts:
                return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
            pid = str(2247483647 + len(self.jobs) + 1)
            self.jobs[pid] = {"media_id": mid, "polls": 0}
            return 200, {"errcode": 0, "errmsg": "ok", "publish_id": pid, "msg_data_id": int(pid)}
        pid = str(body.get("publish_id", ""))
        job = self.jobs.get(pid)
        if job is None:
            return 200, {"errcode": 53600, "errmsg": "Article ID 无效"}
        job["polls"] += 1
        if job["polls"] == 1:
            return 200, {"publish_id": pid, "publish_status": 1, "fail_idx": []}
        art = self.drafts[job["media_id"]]["articles"][0]
        url = f"https://mp.weixin.qq.com/s/{pid}"
        if not any(p["url"] == url for p in self.published):
            self.published.append({"url": url, "title": art["title"], "content": art["content"]})
        return 200, {"publish_id": pid, "publish_status": 0, "article_id": f"ART_{pid}",
                     "article_detail": {"count": 1, "item": [{"idx": 1, "article_url": url}]}, "fail_idx": []}


@pytest.fixture
def weibo():
    """A stand-in Weibo API server on loopback (import this fixture where it is used)."""
    s = WeiboStandin()
    yield s
    s.close()


@pytest.fixture
def wechat():
    """A stand-in WeChat Official Account API server on loopback."""
    s = WeChatStandin()
    yield s
    s.close()
