"""WeChat Official Account: the article goes into a draft, then is mass-sent to every follower (群发), because
an answer nobody is notified of is not an answer.

1. ``GET {base}/cgi-bin/token?grant_type=client_credential&appid=&secret=`` -> ``{"access_token", "expires_in"}``
2. ``POST {base}/cgi-bin/draft/add?access_token=`` ``{"articles": [{title, author, digest, content,
   content_source_url, thumb_media_id, need_open_comment, only_fans_can_comment}]}`` -> ``{"media_id"}``
3. ``POST {base}/cgi-bin/message/mass/sendall?access_token=`` ``{"filter": {"is_to_all": true}, "mpnews":
   {"media_id"}, "msgtype": "mpnews", "send_ignore_reprint": 0, "clientmsgid"}`` -> ``{"errcode": 0, "msg_id",
   "msg_data_id"}``. Quotas per account type: 订阅号 one mass send a day, 服务号 four a month (``45028 has no
   masssend quota``); the same ``clientmsgid`` again answers ``45065`` with the earlier job's ``msg_id``, which
   is taken as already sent. ``message/mass/get`` ``{"msg_id"}`` -> ``msg_status`` (SEND_SUCCESS, SENDING,
   SEND_FAIL, DELETE) checks it later.
3'. Only with ``[incidents.wechat] publish_mode = "freepublish"`` (chosen knowingly: 发布 is not 群发, followers
   are not pushed anything): ``freepublish/submit`` -> ``publish_id``, ``freepublish/get`` until
   ``publish_status`` 0 (``article_detail.item[].article_url``); ``freepublish/getarticle`` ``{"article_id"}``
   checks it later (``is_deleted``).

Errors come as ``{"errcode": 40001, "errmsg": "invalid credential ..."}``; an invalid or expired token (40001,
40014, 42001) is fetched again once. The desk counts its own mass sends (the state database) and shows the
quota left before publishing.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from ...redact import scrub_query
from ..lifecycle import now as clock
from . import NOT_CONNECTED, AccountCheck, LiveCheck, MassSends, PublishContext, PublishError, PublishResult, not_configured

TOKEN_ERRORS = {40001, 40014, 42001}
CST = timezone(timedelta(hours=8))  # WeChat counts its mass-send quota by the Beijing day, whatever the desk shows
STATUS_ZH = {2: "原创校验失败", 3: "常规失败", 4: "平台审核不通过", 5: "发布后被删除", 6: "文章被封禁"}
QUOTA = {"subscription": ("day", 1, "订阅号"), "service": ("month", 4, "服务号")}
ZH = {
    40001: "公众号接口凭证无效",
    40007: "素材 media_id 无效（封面图或草稿不存在）",
    40013: "公众号 AppID 无效",
    40014: "公众号接口凭证不合法",
    40125: "公众号 AppSecret 无效",
    40164: "调用接口的服务器 IP 不在公众号的 IP 白名单中",
    42001: "公众号接口凭证已过期",
    45003: "标题超过 64 字",
    45004: "摘要超过 120 字",
    45009: "接口调用次数已达今日上限",
    45028: "群发次数已用完（订阅号每天 1 次，服务号每月 4 次）",
    45065: "相同内容 24 小时内已群发过",
    45066: "相同内容重试过快，请 1 分钟后再试",
    47001: "提交的数据格式不对",
    47003: "参数不合规",
    48001: "公众号没有此接口的权限（未认证或未开通）",
    53503: "草稿未通过发布检查",
    53600: "文章 id 无效",
}
MASS_ZH = {"SEND_SUCCESS": "群发成功", "SENDING": "群发中", "SEND_FAIL": "群发失败", "DELETE": "群发消息已删除"}


_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}  # (base, appid, secret) -> (token, good until)
_TOKENS_LOCK = threading.Lock()


def period_start(period: str, now: datetime) -> datetime:
    """The start (UTC) of the Beijing day or month holding ``now``."""
    local = now.astimezone(CST)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        start = start.replace(day=1)
    return start.astimezone(timezone.utc)


class WeChatPublisher:
    channel = "wechat"
    mode = "api"

    def __init__(self, base_url: str, appid: str, secret: str, author: str = "", thumb_media_id: str = "",
                 publish_mode: str = "mass", account_type: str = "subscription",
                 mass_sends: MassSends | None = None, timeout: float = 20, poll_attempts: int = 10,
                 poll_seconds: float = 0.5) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.author = author
        self.thumb_media_id = thumb_media_id
        self.publish_mode = publish_mode
        self.account_type = account_type
        self.mass_sends = mass_sends or (lambda since: 0)
        self.timeout = timeout
        self.poll_attempts = poll_attempts
        self.poll_seconds = poll_seconds

    @classmethod
    def from_config(cls, cfg: Any, channel: str, mass_sends: MassSends) -> "WeChatPublisher":
        c = cfg["incidents.wechat"]
        return cls(c["base_url"], c["appid"], c["secret"], c["author"], c["thumb_media_id"],
                   c.get("publish_mode") or "mass", c.get("account_type") or "subscription", mass_sends)

    # -- the API -------------------------------------------------------------------------------------------
    @staticmethod
    def error_for(body: dict[str, Any]) -> PublishError:
        code = body.get("errcode")
        raw = str(body.get("errmsg", ""))
        detail = f"errcode={code}: {raw}"
        if code in (40013, 40125):
            detail += "（[incidents.wechat] appid / secret）"
        elif code == 40164:
            detail += "（在公众平台「设置与开发-基本配置」把本机出口 IP 加入白名单）"
        return PublishError("wechat", ZH.get(code, raw or "未知错误"), code, detail=detail)

    def _check(self, r: requests.Response) -> dict[str, Any]:
        try:
            body = r.json()
        except ValueError:
            raise PublishError("wechat", f"公众号接口应答异常（HTTP {r.status_code}）", detail=r.text[:300]) from None
        if body.get("errcode", 0) != 0:
            raise self.error_for(body)
        return body

    def token(self, fresh: bool = False) -> str:
        """The access_token, kept for its lifetime (``expires_in``, less 5 minutes) across publisher instances:
        each ``cgi-bin/token`` call makes a new one (a daily quota, and the previous one dies 5 minutes later),
        so the pre-flight, the checks and the publications share one."""
        key = (self.base_url, self.appid, self.secret)
        with _TOKENS_LOCK:
            held = _TOKENS.get(key)
            if held and not fresh and held[1] > time.monotonic():
                return held[0]
        try:
            r = requests.get(f"{self.base_url}/cgi-bin/token", timeout=self.timeout,
                             params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        except requests.RequestException as e:
            raise PublishError("wechat", "无法连接公众号接口，请检查网络", detail=scrub_query(f"{self.base_url}: {e}")) from None
        body = self._check(r)
        with _TOKENS_LOCK:
            _TOKENS[key] = (body["access_token"], time.monotonic() + max(60, int(body.get("expires_in", 7200)) - 300))
        return body["access_token"]

    def post(self, path: str, body: dict[str, Any], accept: tuple[int, ...] = ()) -> dict[str, Any]:
        """POST JSON with the token; an invalid/expired token is fetched again once. ``accept``: error codes
        whose body is returned rather than raised."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in (0, 1):
            try:
                r = requests.post(f"{self.base_url}{path}", params={"access_token": self.token(fresh=attempt == 1)},
                                  data=data, headers={"Content-Type": "application/json; charset=utf-8"},
                                  timeout=self.timeout)
            except requests.RequestException as e:
                raise PublishError("wechat", "无法连接公众号接口，请检查网络", detail=scrub_query(f"{self.base_url}: {e}")) from None
            try:
                return self._check(r)
            except PublishError as e:
                if e.code in TOKEN_ERRORS and attempt == 0:
                    continue
                if e.code in accept:
                    return r.json()
                raise
        raise AssertionError("unreachable")

    # -- the contract --------------------------------------------------------------------------------------
    def _missing(self) -> str:
        if not self.appid or not self.secret:
            return "[incidents.wechat] appid / secret 未设置"
        if not self.thumb_media_id:
            return "[incidents.wechat] thumb_media_id（封面图的永久素材 id）未设置"
        return ""

    def publish(self, draft: Any, ctx: PublishContext) -> PublishResult:
        missing = self._missing()
        if missing:
            raise not_configured("wechat", missing)
        article = {"title": draft.wechat_title, "author": self.author, "digest": draft.wechat_digest,
                   "content": draft.wechat_body, "content_source_url": ctx.link,
                   "thumb_media_id": self.thumb_media_id, "need_open_comment": 0, "only_fans_can_comment": 0}
        media_id = self.post("/cgi-bin/draft/add", {"articles": [article]})["media_id"]
        if self.publish_mode == "freepublish":
            return self._freepublish(media_id)
        body = {"filter": {"is_to_all": True}, "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
                "send_ignore_reprint": 0, "clientmsgid": f"opinion-desk-draft-{getattr(draft, 'id', 0)}"}
        res = self.post("/cgi-bin/message/mass/sendall", body, accept=(45065,))
        msg_id = str(res.get("msg_id") or "")
        if not msg_id:
            raise PublishError("wechat", "群发接口应答缺少 msg_id", detail=str(res)[:300])
        return PublishResult("wechat", msg_id, "", details={
            "publish_mode": "mass", "media_id": media_id, "msg_id": msg_id,
            "msg_data_id": str(res.get("msg_data_id") or ""), "repeat": res.get("errcode") == 45065})

    def _freepublish(self, media_id: str) -> PublishResult:
        publish_id = str(self.post("/cgi-bin/freepublish/submit", {"media_id": media_id})["publish_id"])
        for _ in range(self.poll_attempts):
            st = self.post("/cgi-bin/freepublish/get", {"publish_id": publish_id})
            code = st.get("publish_status")
            if code == 0:
                items = (st.get("article_detail") or {}).get("item") or []
                url = items[0].get("article_url", "") if items else ""
                aid = str(st.get("article_id") or "")
                return PublishResult("wechat", aid or publish_id, url, details={
                    "publish_mode": "freepublish", "media_id": media_id, "publish_id": publish_id,
                    "article_id": aid})
            if code != 1:
                raise PublishError("wechat", STATUS_ZH.get(code, f"发布失败（publish_status {code}）"), code)
            time.sleep(self.poll_seconds)
        raise PublishError("wechat", f"发布任务 {publish_id} 仍在处理中，请稍后在公众平台后台确认")

    def quota(self, now: datetime | None = None) -> dict[str, Any] | None:
        """Mass sends left in this period (the desk's own count), or None when publishing without mass send."""
        if self.publish_mode == "freepublish":
            return None
        period, limit, zh = QUOTA.get(self.account_type, QUOTA["subscription"])
        now = now or clock()
        used = int(self.mass_sends(period_start(period, now)))
        left = max(0, limit - used)
        when = "今日" if period == "day" else "本月"
        return {"account_type": self.account_type, "period": period, "limit": limit, "used": used, "left": left,
                "text": f"{zh}{when}群发剩余 {left}/{limit} 次"}

    def check_account(self, ctx: PublishContext) -> AccountCheck:
        missing = self._missing()
        if missing:
            return AccountCheck("wechat", "api", False, f"{NOT_CONNECTED['wechat']}：请手工发布后登记链接", detail=missing)
        problems: list[str] = []
        detail = ""
        try:
            self.token()
            summary = "接口凭证有效"
        except PublishError as e:
            problems.append(e.reason)
            detail = e.detail
            summary = "接口凭证不可用"
        q = self.quota()
        if q is None:
            summary += "；发布方式：仅发布（freepublish，不推送给粉丝）"
        else:
            summary += f"；{q['text']}"
            if q["left"] <= 0:
                problems.append(f"{q['text']}：请手工发布或改日群发")
        return AccountCheck("wechat", "api", not problems, summary, problems, detail, q)

    def check_live(self, remote_id: str, url: str, details: dict[str, Any]) -> LiveCheck:
        if self._missing():
            return LiveCheck("unknown", "无法通过公众号接口核验", self._missing())
        try:
            if details.get("publish_mode") == "freepublish":
                body = self.post("/cgi-bin/freepublish/getarticle", {"article_id": remote_id})
                items = body.get("news_item") or []
                if not items or any(i.get("is_deleted") for i in items):
                    return LiveCheck("gone", "freepublish/getarticle：文章已删除")
                return LiveCheck("live", "freepublish/getarticle 查到该文章", items[0].get("url", ""))
            body = self.post("/cgi-bin/message/mass/get", {"msg_id": remote_id})
        except PublishError as e:
            if e.code == 53600:
                return LiveCheck("gone", "freepublish/getarticle：文章不存在", e.detail)
            return LiveCheck("unknown", f"公众号接口未能核验：{e.reason}", e.detail)
        st = str(body.get("msg_status") or "")
        how = f"message/mass/get：{MASS_ZH.get(st, st)}"
        if st == "SEND_SUCCESS":
            return LiveCheck("live", how, f"msg_id={remote_id}")
        if st in ("SEND_FAIL", "DELETE"):
            return LiveCheck("gone", how, f"msg_id={remote_id}")
        return LiveCheck("unknown", how, f"msg_id={remote_id}")
