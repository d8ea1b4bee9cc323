"""A failed source run in plain Chinese for the duty officer (the technical message stays in ``last_error``)."""

from __future__ import annotations

import re

# (pattern in the technical message, plain reason); first match wins; {0} is the first group
_REASONS: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.I), r) for p, r in [
    (r"HTTP (404|410)\b", "网页不存在（HTTP {0}），地址可能已变更，请核对信息源地址"),
    (r"HTTP (401|403)\b", "对方网站拒绝访问（HTTP {0}）"),
    (r"HTTP (418|429|432)\b", "访问受限（HTTP {0}），对方限制了访问频率，稍后自动重试"),
    (r"HTTP (5\d\d)\b", "对方网站故障（HTTP {0}），稍后自动重试"),
    (r"HTTP (\d{3})\b", "对方网站返回错误（HTTP {0}）"),
    (r"timed out|no complete answer|no answer within|cut off", "对方网站响应超时，稍后自动重试"),
    (r"cannot connect|request failed", "无法连接对方网站（网络或域名问题）"),
    (r"malformed feed.*宽松解析可读出 (\d+) 条", "订阅内容格式有误；宽松解析可读出 {0} 条，可在信息源中设置 lenient: true"),
    (r"malformed feed|not an RSS or Atom", "订阅内容格式错误，不是有效的 RSS/Atom 订阅"),
    (r"not JSON|unexpected answer|field 'data' missing", "返回内容不是预期格式（可能被验证页拦截）"),
    (r"no item matches selector", "网页结构已变化，列表选择器找不到条目"),
    (r"larger than", "返回内容过大，已放弃本次采集"),
    (r"every new line is bad|not (utf|gb)", "导入文件内容无法读取（编码或格式错误）"),
]]


def failure_reason(error: str | None, kind: str | None) -> str:
    """The failure of a run in plain Chinese (the technical message stays in ``last_error``)."""
    if kind == "auth":
        return "登录已失效，请更新 Cookie 或令牌"
    for pattern, reason in _REASONS:
        m = pattern.search(error or "")
        if m:
            return reason.format(*m.groups())
    if kind == "timeout":
        return "采集超时，已中止本次运行"
    return "采集失败"
