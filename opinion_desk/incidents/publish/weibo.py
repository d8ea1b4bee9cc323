"""Weibo: ``POST {base}/2/statuses/share.json`` (form-encoded ``access_token`` and ``status``).

The API requires the status to carry a URL of the application's registered safe domain; ours is
``[incidents.weibo] safe_url`` and is appended when the text lacks it. Success answers the status object
(``id``, ``idstr``, ``user.idstr`` ...); failure answers ``{"error": ..., "error_code": ..., "request": ...}``.
"""

from __future__ import annotations

from typing import Any

import requests

from . import PublishError, PublishResult


class WeiboPublisher:
    channel = "weibo"

    def __init__(self, base_url: str, access_token: str, safe_url: str, timeout: float = 20) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.safe_url = safe_url
        self.timeout = timeout

    def status_text(self, text: str) -> str:
        if self.safe_url and self.safe_url not in text:
            text = f"{text} {self.safe_url}"
        return text

    def publish(self, draft: Any) -> PublishResult:
        if not self.access_token:
            raise PublishError("weibo", "未配置 access_token（[incidents.weibo] access_token）")
        if not self.safe_url:
            raise PublishError("weibo", "未配置安全域名链接（[incidents.weibo] safe_url），statuses/share 要求正文带此链接")
        status = self.status_text(draft.weibo_text)
        try:
            r = requests.post(f"{self.base_url}/2/statuses/share.json",
                              data={"access_token": self.access_token, "status": status}, timeout=self.timeout)
        except requests.RequestException as e:
            raise PublishError("weibo", f"无法连接 {self.base_url}: {e}") from None
        try:
            body = r.json()
        except ValueError:
            raise PublishError("weibo", f"HTTP {r.status_code}，应答不是 JSON") from None
        if "error_code" in body or r.status_code != 200:
            raise PublishError("weibo", str(body.get("error", f"HTTP {r.status_code}")), body.get("error_code"))
        sid = str(body.get("idstr") or body.get("id") or "")
        if not sid:
            raise PublishError("weibo", "应答缺少 idstr/id")
        uid = str((body.get("user") or {}).get("idstr") or (body.get("user") or {}).get("id") or "")
        url = f"https://weibo.com/{uid}/{sid}" if uid else f"https://m.weibo.cn/status/{sid}"
        return PublishResult("weibo", sid, url)
