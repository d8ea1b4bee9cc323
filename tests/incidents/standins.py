"""Local stand-ins for the Weibo and WeChat Official Account APIs, on 127.0.0.1, checking requests the way the
documented APIs do and answering in their shapes (including their error bodies and codes): they accept what the
real APIs accept and refuse what they refuse (see each class). They also serve the published post / article as
the public reads it, so a recorded link can be fetched back."""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
from email.parser import BytesParser
from email.policy import HTTP
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
                page = isinstance(body, str)  # a web page (a post or an article as the public sees it)
                data = body.encode("utf-8") if page else json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", f"{'text/html' if page else 'application/json'}; charset=utf-8")
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


WEIBO_URL_RE = re.compile(r"https?://[!-~]+")  # a link runs to the first space or non-ASCII character


def weibo_count(text: str) -> int:
    """How Weibo counts a status, in 汉字: a link is a t.cn short link (20 half-width characters), two half-width
    characters make one 汉字 (rounded up)."""
    halves = 0
    pos = 0
    for m in WEIBO_URL_RE.finditer(text):
        halves += sum(1 if c.isascii() else 2 for c in text[pos:m.start()]) + 20
        pos = m.end()
    halves += sum(1 if c.isascii() else 2 for c in text[pos:])
    return (halves + 1) // 2


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """The fields and files of a multipart/form-data body."""
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename():
            files[name] = data
        else:
            fields[name] = data.decode("utf-8")
    return fields, files


class WeiboStandin(_Server):
    """Weibo as documented (open.weibo.com/wiki/2/statuses/share, /statuses/show, /oauth2/get_token_info):

    ``statuses/share`` takes a form-encoded ``access_token``, ``status`` and ``rip`` (the operator's real IP,
    required: 10016), and refuses a status over 140 汉字 as Weibo counts (20012), holding a ``#话题#`` (10017),
    without a link under the app's bound safe domain (10017 appkey not bind domain), or repeated (20019). An
    expired token answers 21327, an unknown one 21332. Published statuses can be read back (``statuses/show``;
    20101 once deleted) and as web pages (``/<uid>/<id>``)."""

    def __init__(self, token: str = "weibo-token", safe_domain: str = "qingshan.gov.cn", uid: str = "5011223344"):
        self.token = token
        self.safe_domain = safe_domain
        self.uid = uid
        self.expired: set[str] = set()
        self.statuses: list[dict[str, Any]] = []
        self.deleted: set[str] = set()
        self.fail_next: dict[str, Any] | None = None
        super().__init__()

    def expire_token(self) -> None:
        self.expired.add(self.token)

    def delete(self, sid: str) -> None:
        self.deleted.add(sid)

    def error(self, status: int, code: int, msg: str, request: str = "/2/statuses/share.json") -> tuple[int, Any]:
        return status, {"error": msg, "error_code": code, "request": request}

    def _token(self, tok: str | None, request: str) -> tuple[int, Any] | None:
        if tok in self.expired:
            return self.error(401, 21327, "expired_token", request)
        if tok != self.token:
            return self.error(401, 21332, "invalid_access_token", request)
        return None

    def _bound(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host == self.safe_domain or host.endswith("." + self.safe_domain)

    def handle(self, req: dict[str, Any]) -> tuple[int, Any]:
        path = req["path"]
        if path == "/oauth2/get_token_info":
            form = {k: v[0] for k, v in parse_qs(req["raw"].decode("utf-8")).items()}
            bad = self._token(form.get("access_token"), path)
            return bad or (200, {"uid": int(self.uid), "appkey": "1234567890", "scope": "", "create_at": 1764000000,
                                 "expire_in": 157679999})
        if path == "/2/statuses/show.json":
            bad = self._token(req["query"].get("access_token"), path)
            if bad:
                return bad
            sid = req["query"].get("id", "")
            st = next((x for x in self.statuses if x["idstr"] == sid and sid not in self.deleted), None)
            return (200, st) if st else self.error(400, 20101, "Target weibo does not exist!", path)
        if path.startswith(f"/{self.uid}/"):  # the post's web page
            sid = path.rsplit("/", 1)[-1]
            st = next((x for x in self.statuses if x["idstr"] == sid and sid not in self.deleted), None)
            if st is None:
                return 404, "<html><body>微博不存在</body></html>"
            return 200, f"<html><head><title>青山发布的微博</title></head><body><p>{html.escape(st['text'])}</p></body></html>"
        if path != "/2/statuses/share.json":
            return 404, {"error": "Request Api not found!", "error_code": 10020, "request": path}
        if req["method"] != "POST":
            return self.error(400, 10021, "HTTP method is not suported for this request!")
        pic = None
        if req["content_type"].startswith("multipart/form-data"):  # with a picture
            form, files = _multipart(req["content_type"], req["raw"])
            pic = files.get("pic")
            if pic is None:
                return self.error(400, 10008, "param error, see doc for more info.")
            if not pic.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")):
                return self.error(400, 20005, "Unsupported image type, only suport JPG, GIF, PNG!")
            if len(pic) >= 5 * 1024 * 1024:
                return self.error(400, 20006, "Image size too large.")
        elif req["content_type"].startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in parse_qs(req["raw"].decode("utf-8")).items()}
        else:
            return self.error(400, 10008, "param error, see doc for more info.")
        bad = self._token(form.get("access_token"), path)
        if bad:
            return bad
        status = form.get("status")
        if not status:
            return self.error(400, 10016, "miss required parameter (status), see doc for more info.")
        if not form.get("rip"):
            return self.error(400, 10016, "miss required parameter (rip), see doc for more info.")
        if self.fail_next:
            f, self.fail_next = self.fail_next, None
            return self.error(f["status"], f["code"], f["msg"])
        if re.search(r"#[^#\s][^#]*#", status):
            return self.error(400, 10017, "parameter (status)'s value invalid, expect (text without #topic#), but get ("
                              + status[:20] + "), see doc for more info.")
        if weibo_count(status) > 140:
            return self.error(400, 20012, "Text too long, please input text less than 140 characters!")
        if not any(self._bound(u) for u in WEIBO_URL_RE.findall(status)):
            return self.error(400, 10017, "appkey not bind domain!")
        if any(s["text"] == status for s in self.statuses):
            return self.error(400, 20019, "Repeat content!")
        sid = str(4900000000000000 + len(self.statuses) + 1)
        st = {"created_at": "Tue Nov 24 10:00:00 +0800 2026", "id": int(sid), "idstr": sid, "mid": sid,
              "text": status, "source": "<a href=\"\" rel=\"nofollow\">舆情值班台</a>", "reposts_count": 0,
              "comments_count": 0, "attitudes_count": 0, "rip": form["rip"],
              "user": {"id": int(self.uid), "idstr": self.uid, "screen_name": "青山发布", "verified": True}}
        if pic is not None:
            st["original_pic"] = f"https://wx1.sinaimg.cn/large/{sid}.jpg"
            st["pic_bytes"] = len(pic)
        self.statuses.append(st)
        return 200, st


class WeChatStandin(_Server):
    """The Official Account as documented: ``cgi-bin/token``; ``draft/add``; ``message/mass/sendall`` to all
    followers (``filter.is_to_all``, ``msgtype = mpnews``, the draft's ``media_id``; the account type's quota:
    订阅号 one a day -> 45028; a repeated ``clientmsgid`` -> 45065 with the earlier ``msg_id``) and
    ``message/mass/get`` (SENDING on the first query, then SEND_SUCCESS; DELETE once deleted); ``freepublish``
    submit/get/getarticle. An expired token answers 42001, an unknown one 40001. Articles can be read as web
    pages (``/s/<id>``; WeChat's 已删除 page once deleted)."""

    def __init__(self, appid: str = "wx0123456789abcdef", secret: str = "", thumb: str = "THUMB_MEDIA_1",
                 mass_quota: int = 1):
        self.appid = appid
        self.secret = secret or "wechat-secret-" + secrets.token_hex(4)  # each account its own (tokens are kept)
        self.thumb = thumb
        self.mass_quota = mass_quota  # mass sends left today (订阅号: 1 a day)
        self.tokens: set[str] = set()
        self.expired: set[str] = set()
        self.drafts: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.mass: dict[str, dict[str, Any]] = {}
        self.clientmsgids: dict[str, str] = {}
        self.published: list[dict[str, Any]] = []
        self.deleted: set[str] = set()
        super().__init__()

    def expire_tokens(self) -> None:
        self.expired |= self.tokens
        self.tokens.clear()

    def delete_mass(self, msg_id: str) -> None:
        self.mass[msg_id]["status"] = "DELETE"
        self.deleted.add(self.mass[msg_id]["url"])

    def _page(self, path: str) -> tuple[int, Any]:
        url = f"{self.url}{path}"
        art = next((p for p in self.published if p["url"] == url), None)
        if art is None:
            return 404, "<html><body>参数错误</body></html>"
        if url in self.deleted:
            return 200, "<html><body><p>该内容已被发布者删除</p></body></html>"
        return 200, f"<html><head><title>{html.escape(art['title'])}</title></head><body>{art['content']}</body></html>"

    def _article(self, media_id: str, key: str) -> str:
        art = self.drafts[media_id]["articles"][0]
        url = f"{self.url}/s/{key}"
        if not any(p["url"] == url for p in self.published):
            self.published.append({"url": url, "title": art["title"], "content": art["content"]})
        return url

    def handle(self, req: dict[str, Any]) -> tuple[int, Any]:
        q, path = req["query"], req["path"]
        if path.startswith("/s/") and req["method"] == "GET":
            return self._page(path)
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
        known = ("/cgi-bin/draft/add", "/cgi-bin/freepublish/submit", "/cgi-bin/freepublish/get",
                 "/cgi-bin/freepublish/getarticle", "/cgi-bin/message/mass/sendall", "/cgi-bin/message/mass/get")
        if path not in known:
            return 404, {"errcode": 48001, "errmsg": "api unauthorized"}
        if req["method"] != "POST":
            return 200, {"errcode": 43002, "errmsg": "require POST method"}
        if q.get("access_token") in self.expired:
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if q.get("access_token") not in self.tokens:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        try:
            body = json.loads(req["raw"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 200, {"errcode": 47001, "errmsg": "data format error"}
        return getattr(self, "_" + path.rsplit("/", 2)[-2] + "_" + path.rsplit("/", 1)[-1])(body)

    def _draft_add(self, body: dict[str, Any]) -> tuple[int, Any]:
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

    def _mass_sendall(self, body: dict[str, Any]) -> tuple[int, Any]:
        f = body.get("filter")
        if not isinstance(f, dict) or not isinstance(f.get("is_to_all"), bool):
            return 200, {"errcode": 47001, "errmsg": "data format error: filter.is_to_all"}
        if not f["is_to_all"] and "tag_id" not in f:
            return 200, {"errcode": 47003, "errmsg": "argument invalid! filter.tag_id"}
        if body.get("msgtype") != "mpnews" or not isinstance(body.get("mpnews"), dict):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        mid = body["mpnews"].get("media_id")
        if mid not in self.drafts:
            return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
        if body.get("send_ignore_reprint", 0) not in (0, 1):
            return 200, {"errcode": 47003, "errmsg": "argument invalid! send_ignore_reprint"}
        cid = body.get("clientmsgid")
        if cid is not None and (not isinstance(cid, str) or len(cid.encode()) > 64):
            return 200, {"errcode": 45067, "errmsg": "clientmsgid size out of limit"}
        if cid in self.clientmsgids:
            return 200, {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": int(self.clientmsgids[cid])}
        if self.mass_quota <= 0:
            return 200, {"errcode": 45028, "errmsg": "has no masssend quota"}
        self.mass_quota -= 1
        msg_id = str(1000000001 + len(self.mass))
        if cid is not None:
            self.clientmsgids[cid] = msg_id
        self.mass[msg_id] = {"media_id": mid, "status": "SENDING", "gets": 0,
                             "url": self._article(mid, f"mass{msg_id}")}
        return 200, {"errcode": 0, "errmsg": "send job submission success", "msg_id": int(msg_id),
                     "msg_data_id": int(msg_id) * 10}

    def _mass_get(self, body: dict[str, Any]) -> tuple[int, Any]:
        job = self.mass.get(str(body.get("msg_id", "")))
        if job is None:
            return 200, {"errcode": 47003, "errmsg": "argument invalid! msg_id"}
        job["gets"] += 1
        if job["status"] == "SENDING" and job["gets"] > 1:
            job["status"] = "SEND_SUCCESS"
        return 200, {"msg_id": int(body["msg_id"]), "msg_status": job["status"]}

    def _freepublish_submit(self, body: dict[str, Any]) -> tuple[int, Any]:
        mid = body.get("media_id")
        if mid not in self.drafts:
            return 200, {"errcode": 40007, "errmsg": "invalid media_id"}
        pid = str(2247483647 + len(self.jobs) + 1)
        self.jobs[pid] = {"media_id": mid, "polls": 0}
        return 200, {"errcode": 0, "errmsg": "ok", "publish_id": pid, "msg_data_id": int(pid)}

    def _freepublish_get(self, body: dict[str, Any]) -> tuple[int, Any]:
        pid = str(body.get("publish_id", ""))
        job = self.jobs.get(pid)
        if job is None:
            return 200, {"errcode": 53600, "errmsg": "Article ID 无效"}
        job["polls"] += 1
        if job["polls"] == 1:
            return 200, {"publish_id": pid, "publish_status": 1, "fail_idx": []}
        url = self._article(job["media_id"], pid)
        return 200, {"publish_id": pid, "publish_status": 0, "article_id": f"ART_{pid}",
                     "article_detail": {"count": 1, "item": [{"idx": 1, "article_url": url}]}, "fail_idx": []}

    def _freepublish_getarticle(self, body: dict[str, Any]) -> tuple[int, Any]:
        aid = str(body.get("article_id", ""))
        pid = aid.removeprefix("ART_")
        if pid not in self.jobs:
            return 200, {"errcode": 53600, "errmsg": "Article ID 无效"}
        url = f"{self.url}/s/{pid}"
        art = next((p for p in self.published if p["url"] == url), None)
        return 200, {"news_item": [{"title": art["title"] if art else "", "url": url,
                                    "is_deleted": url in self.deleted}]}


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
