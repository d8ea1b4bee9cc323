"""WeChat Official Account: token, draft, publish, status.

1. ``GET {base}/cgi-bin/token?grant_type=client_credential&appid=&secret=`` -> ``{"access_token", "expires_in"}``
2. ``POST {base}/cgi-bin/draft/add?access_token=`` ``{"articles": [{title, author, digest, content,
   content_source_url, thumb_media_id, need_open_comment, only_fans_can_comment}]}`` -> ``{"media_id"}``
3. ``POST {base}/cgi-bin/freepublish/submit?access_token=`` ``{"media_id"}`` -> ``{"errcode": 0, "publish_id"}``
4. ``POST {base}/cgi-bin/freepublish/get?access_token=`` ``{"publish_id"}`` -> ``publish_status`` 0 (success,
   with ``article_detail.item[].article_url``), 1 (publishing: asked again), 2-6 (failed).

Errors come as ``{"errcode": 40001, "errmsg": "invalid credential ..."}``; an expired token (40001, 40014,
42001) is fetched again once.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from . import PublishError, PublishResult

TOKEN_ERRORS = {40001, 40014, 42001}
STATUS_ZH = {2: "原创校验失败", 3: "常规失败", 4: "平台审核不通过", 5: "发布后被删除", 6: "文章被封禁"}


class WeChatPublisher:
    channel = "wechat"

    def __init__(self, base_url: str, appid: str, secret: str, author: str = "", thumb_media_id: str = "",
                 timeout: float = 20, poll_attempts: int = 10, poll_seconds: float = 0.5) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.author = author
        self.thumb_media_id = thumb_media_id
        self.timeout = timeout
        self.poll_attempts = poll_attempts
        self.poll_seconds = poll_seconds
        self._token: str | None = None

    def _check(self, r: requests.Response) -> dict[str, Any]:
        try:
            body = r.json()
        except ValueError:
            raise PublishError("wechat", f"HTTP {r.status_code}，应答不是 JSON") from None
        if body.get("errcode", 0) != 0:
            raise PublishError("wechat", str(body.get("errmsg", "")), body.get("errcode"))
        return body

    def token(self, fresh: bool = False) -> str:
        if self._token and not fresh:
            return self._token
        if not self.appid or not self.secret:
            raise PublishError("wechat", "未配置 appid/secret（[incidents.wechat]）")
        try:
            r = requests.get(f"{self.base_url}/cgi-bin/token", timeout=self.timeout,
                             params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        except requests.RequestException as e:
            raise PublishError("wechat", f"无法连接 {self.base_url}: {e}") from None
        self._token = self._check(r)["access_token"]
        return self._token

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in (0, 1):
            try:
                r = requests.post(f"{self.base_url}{path}", params={"access_token": self.token(fresh=attempt == 1)},
                                  data=data, headers={"Content-Type": "application/json; charset=utf-8"},
                                  timeout=self.timeout)
            except requests.RequestException as e:
                raise PublishError("wechat", f"无法连接 {self.base_url}: {e}") from None
            try:
                return self._check(r)
            except PublishError as e:
                if e.code in TOKEN_ERRORS and attempt == 0:
                    continue
                raise
        raise AssertionError("unreachable")

    def publish(self, draft: Any, content_source_url: str = "") -> PublishResult:
        if not self.thumb_media_id:
            raise PublishError("wechat", "未配置封面图 thumb_media_id（[incidents.wechat] thumb_media_id）")
        article = {"title": draft.wechat_title, "author": self.author, "digest": draft.wechat_digest,
                   "content": draft.wechat_body, "content_source_url": content_source_url,
                   "thumb_media_id": self.thumb_media_id, "need_open_comment": 0, "only_fans_can_comment": 0}
        media_id = self._post("/cgi-bin/draft/add", {"articles": [article]})["media_id"]
        publish_id = str(self._post("/cgi-bin/freepublish/submit", {"media_id": media_id})["publish_id"])
        for _ in range(self.poll_attempts):
            st = self._post("/cgi-bin/freepublish/get", {"publish_id": publish_id})
            code = st.get("publish_status")
            if code == 0:
                items = (st.get("article_detail") or {}).get("item") or []
                url = items[0].get("article_url", "") if items else ""
                return PublishResult("wechat", str(st.get("article_id") or publish_id), url)
            if code != 1:
                raise PublishError("wechat", STATUS_ZH.get(code, f"publish_status {code}"), code)
            time.sleep(self.poll_seconds)
        raise PublishError("wechat", f"发布任务 {publish_id} 仍在处理中，请稍后在后台确认")
