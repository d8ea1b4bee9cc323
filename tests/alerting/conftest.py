"""Stand-ins for the robots' servers (WeCom, DingTalk, Feishu, a generic webhook) on 127.0.0.1 that check the
documented request formats and signatures strictly and answer with the real reply shapes and error codes (see
../shared/data/formats/robots/FIELDS.md), and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5"
DING_SECRET = "SECd41d8cd98f00b204e9800998ecf8427e"
FEISHU_HOOK = "2cb8e5b0-5bd2-4c23-a4d6-0b5cf5c2b8ae"
FEISHU_SECRET = "test-secret"

WECOM_HINT = ", hint: [1755605200056773468916791], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e="
DING_SIGN_FAIL = ("description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，"
                  "请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;")


class Robot:
    """Records accepted messages; ``fail_next`` queues error replies to send before accepting again."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.fail_next: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.mentions: list[list[str]] = []  # per accepted message: whom the platform would @ (see mentioned())
        self.event = threading.Event()
        self.base = ""


def _wecom(robot: Robot, query: dict, body: Any) -> dict:
    if query.get("key") != [WECOM_KEY]:
        return {"errcode": 93000, "errmsg": "invalid webhook url" + WECOM_HINT + "93000"}
    if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown", "image", "news"):
        return {"errcode": 40008, "errmsg": "invalid message type" + WECOM_HINT + "40008"}
    if body["msgtype"] == "text":
        t = body.get("text")
        if not isinstance(t, dict) or not isinstance(t.get("content"), str) or not t["content"]:
            return {"errcode": 44004, "errmsg": "empty content" + WECOM_HINT + "44004"}
        if len(t["content"].encode("utf-8")) > 2048:
            return {"errcode": 45002, "errmsg": "content size out of limit" + WECOM_HINT + "45002"}
        for k in ("mentioned_list", "mentioned_mobile_list"):
            if k in t and not (isinstance(t[k], list) and all(isinstance(x, str) for x in t[k])):
                return {"errcode": 40058, "errmsg": f"invalid {k}" + WECOM_HINT + "40058"}
    if body["msgtype"] == "markdown":
        m = body.get("markdown")
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or not m["content"]:
            return {"errcode": 44004, "errmsg": "empty content" + WECOM_HINT + "44004"}
        if len(m["content"].encode("utf-8")) > 4096:
            return {"errcode": 45002, "errmsg": "content size out of limit" + WECOM_HINT + "45002"}
    now = time.time()  # 群机器人: each robot sends at most 20 messages a minute
    robot.times = [t for t in robot.times if now - t < 60]
    if len(robot.times) >= 20:
        return {"errcode": 45009, "errmsg": "api freq out of limit" + WECOM_HINT + "45009"}
    robot.times.append(now)
    return {"errcode": 0, "errmsg": "ok"}


def _dingtalk(robot: Robot, query: dict, body: Any) -> dict:
    if query.get("access_token") != [DING_TOKEN]:
        return {"errmsg": "token is not exist", "errcode": 300001}
    ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    if not ts or not sign:
        return {"errcode": 310000, "errmsg": DING_SIGN_FAIL}
    if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000:
        return {"errcode": 310000, "errmsg": DING_SIGN_FAIL}
    want = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256).digest()).decode()
    if sign != want:  # parse_qs has already url-decoded it once
        return {"errcode": 310000, "errmsg": DING_SIGN_FAIL}
    if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown", "link", "actionCard", "feedCard"):
        return {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
    if body["msgtype"] == "markdown":
        md = body.get("markdown")
        if not isinstance(md, dict) or not md.get("title") or not md.get("text"):
            return {"errcode": 40035, "errmsg": "缺少参数 markdown.title/markdown.text"}
    if body["msgtype"] == "text" and not (body.get("text") or {}).get("content"):
        return {"errcode": 40035, "errmsg": "缺少参数 text.content"}
    bad_at = _dingtalk_at(body)
    if bad_at:
        return bad_at
    now = time.time()
    robot.times = [t for t in robot.times if now - t < 60]
    if len(robot.times) >= 20:
        return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    robot.times.append(now)
    return {"errmsg": "ok", "errcode": 0}


def _feishu(robot: Robot, path: str, body: Any) -> dict:
    if path != f"/open-apis/bot/v2/hook/{FEISHU_HOOK}":
        return {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}
    if not isinstance(body, dict):
        return {"code": 9499, "msg": "Bad Request", "data": {}}
    ts, sign = str(body.get("timestamp", "")), body.get("sign", "")
    key = f"{ts}\n{FEISHU_SECRET}".encode()
    want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if not ts.isdigit() or abs(int(ts) - time.time()) > 3600 or sign != want:
        return {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}
    if "msg_type" not in body:
        return {"code": 19002, "data": {}, "msg": "params error, msg_type need"}
    if body["msg_type"] == "text" and not (body.get("content") or {}).get("text"):
        return {"code": 10002, "data": {}, "msg": "text is nil"}
    if body["msg_type"] == "post":
        post = ((body.get("content") or {}).get("post") or {}).get("zh_cn")
        if not isinstance(post, dict) or not isinstance(post.get("content"), list) or not all(
                isinstance(line, list) and all(isinstance(x, dict) and x.get("tag") in ("text", "a", "at", "img")
                                               for x in line) for line in post["content"]):
            return {"code": 9499, "msg": "Bad Request", "data": {}}
    return {"code": 0, "msg": "success", "data": {}, "Extra": None, "StatusCode": 0, "StatusMessage": "success"}


AT_TAG = re.compile(r'<at user_id="([^"]+)">[^<]*</at>')


def mentioned(kind: str, body: dict) -> list[str]:
    """Whom a message @mentions, as each platform documents it: WeCom ``text.mentioned_mobile_list`` (and
    ``mentioned_list``; markdown carries none); DingTalk ``at.atMobiles`` -- a mobile is highlighted only when
    ``@<mobile>`` is also in the text; Feishu ``<at user_id="ou_...">name</at>`` in a text message."""
    if kind == "wecom":
        t = body.get("text") if body.get("msgtype") == "text" else None
        return list((t or {}).get("mentioned_mobile_list") or []) + list((t or {}).get("mentioned_list") or [])
    if kind == "dingtalk":
        text = (body.get("text") or {}).get("content") or (body.get("markdown") or {}).get("text") or ""
        return [m for m in (body.get("at") or {}).get("atMobiles") or [] if f"@{m}" in text]
    if kind == "feishu" and body.get("msg_type") == "text":
        return AT_TAG.findall((body.get("content") or {}).get("text") or "")
    return []


def _dingtalk_at(body: dict) -> dict | None:
    """DingTalk refuses a malformed ``at`` (atMobiles/atUserIds lists of strings, isAtAll a boolean)."""
    at = body.get("at")
    if at is None:
        return None
    if not isinstance(at, dict) or not all(isinstance(at.get(k, []), list) and all(isinstance(x, str) for x in at.get(k, []))
                                           for k in ("atMobiles", "atUserIds")) or \
            not isinstance(at.get("isAtAll", False), bool):
        return {"errcode": 40035, "errmsg": "缺少参数 json:at"}
    return None


def serve(kind: str) -> tuple[Robot, ThreadingHTTPServer]:
    robot = Robot()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            ctype = self.headers.get("Content-Type", "")
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            record = {"path": url.path, "query": query, "body": body, "headers": dict(self.headers), "raw": raw,
                      "at": time.time()}
            if kind == "webhook":
                status, reply = (200, {"ok": True}) if body is not None else (400, {"error": "not JSON"})
            elif not ctype.startswith("application/json"):
                status, reply = 200, ({"code": 9499, "msg": "Bad Request", "data": {}} if kind == "feishu"
                                      else {"errcode": 40035, "errmsg": "Content-Type must be application/json"})
            elif robot.fail_next:
                status, reply = 200, robot.fail_next.pop(0)
            else:
                status = 200
                reply = {"wecom": lambda: _wecom(robot, query, body), "dingtalk": lambda: _dingtalk(robot, query, body),
                         "feishu": lambda: _feishu(robot, url.path, body)}[kind]()
            ok = reply.get("errcode", reply.get("code", 0)) == 0 and status == 200
            (robot.received if ok else robot.rejected).append({**record, "reply": reply})
            if ok:
                robot.mentions.append(mentioned(kind, body) if isinstance(body, dict) else [])
                robot.event.set()
            out = json.dumps(reply, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    robot.base = f"http://127.0.0.1:{server.server_address[1]}"
    return robot, server


def robot_fixture(kind: str, path: str):  # noqa: ANN201
    """A fixture serving one stand-in robot of ``kind``; its ``url`` is the webhook address with ``path``."""

    @pytest.fixture
    def fixture() -> Iterator[Robot]:
        robot, server = serve(kind)
        robot.url = robot.base + path  # type: ignore[attr-defined]
        yield robot
        server.shutdown()

    return fixture


wecom = robot_fixture("wecom", f"/cgi-bin/webhook/send?key={WECOM_KEY}")
dingtalk = robot_fixture("dingtalk", f"/robot/send?access_token={DING_TOKEN}")
feishu = robot_fixture("feishu", f"/open-apis/bot/v2/hook/{FEISHU_HOOK}")
webhook = robot_fixture("webhook", "/hooks/opinion")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.event = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "msg": msg})
        self.event.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    import socket

    from aiosmtpd.controller import Controller

    box = Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield "127.0.0.1", port, box
    ctl.stop()
