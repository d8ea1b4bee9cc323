"""Publishing the approved answer: one contract (:class:`Publisher`), one file per kind, one registry
(:data:`PUBLISHERS`).

- ``weibo.py``: Weibo ``statuses/share`` (≤ 140 汉字 counted as Weibo does, no #话题#, a link under the bound
  safe domain, ``rip``), ``statuses/show`` to check it is live, ``oauth2/get_token_info`` before publishing.
- ``wechat.py``: WeChat Official Account ``draft/add`` then ``message/mass/sendall`` to all followers (or
  ``freepublish/submit`` when ``[incidents.wechat] publish_mode = "freepublish"``), with the account type's
  mass-send quota counted in the state database.
- ``demo.py``: the 演示 publisher of ``opinion-desk run --demo`` (or ``[incidents] publisher = "demo"``): nothing
  leaves the desk, every result and audit entry says 演示.
- ``manual.py``: a publication made by hand and recorded by its link: fetched, snapshotted, checked live.

Every refusal is a :class:`PublishError` whose message speaks to the officer in Chinese; the config key or the
platform's raw answer goes to ``detail`` (a line for the admin). Base URLs are configurable, so tests point
them at local stand-ins (tests/incidents/standins.py) that refuse what the platforms refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Any, Callable, Protocol

from ...errors import IncidentError

CHANNELS = ("weibo", "wechat")
CHANNEL_ZH = {"weibo": "微博", "wechat": "微信公众号"}
MODE_ZH = {"api": "接口发布", "demo": "演示", "manual": "手工发布"}
NOT_CONNECTED = {"weibo": "微博账号未接入", "wechat": "微信公众号未接入"}

# kind -> "module:Class", imported on first use
PUBLISHERS: dict[str, str] = {
    "weibo": "opinion_desk.incidents.publish.weibo:WeiboPublisher",
    "wechat": "opinion_desk.incidents.publish.wechat:WeChatPublisher",
    "demo": "opinion_desk.incidents.publish.demo:DemoPublisher",
}


class PublishError(IncidentError):
    """A platform refused or failed a publication, or the account is not set up. ``code`` is the platform's
    error code, ``reason`` the Chinese reason, ``detail`` a line for the admin (config key, raw answer)."""

    def __init__(self, channel: str, reason: str, code: Any = None, detail: str = "",
                 not_configured: bool = False) -> None:
        self.channel = channel
        self.reason = reason
        self.code = code
        self.detail = detail
        self.not_configured = not_configured
        c = f"（错误码 {code}）" if code is not None else ""
        head = NOT_CONNECTED.get(channel, channel) if not_configured else f"{CHANNEL_ZH.get(channel, channel)}发布失败{c}"
        super().__init__(f"{head}：{reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": False, "error": str(self), "reason": self.reason, "code": self.code, "detail": self.detail,
                "not_configured": self.not_configured}


def not_configured(channel: str, detail: str) -> PublishError:
    return PublishError(channel, "请手工发布后登记链接", detail=detail, not_configured=True)


@dataclass
class PublishContext:
    """What a publication needs besides the draft: the public link to the full statement and the operator's
    real IP (Weibo's ``rip``)."""

    link: str
    rip: str = ""
    actor: str = ""


@dataclass
class PublishResult:
    channel: str
    remote_id: str
    url: str
    mode: str = "api"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {"ok": True, "remote_id": self.remote_id, "url": self.url, "mode": self.mode, "details": self.details}
        if self.mode == "demo":
            d["label"] = "演示"
        return d


@dataclass
class LiveCheck:
    """Is a publication readable by the public now? ``state``: ``live``, ``gone`` (the platform says it is
    deleted or missing) or ``unknown`` (could not tell: network, no credentials)."""

    state: str
    how: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "how": self.how, "detail": self.detail}


@dataclass
class AccountCheck:
    """The pre-flight check of one channel's account: can it publish now, and how much quota is left."""

    channel: str
    mode: str
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    detail: str = ""
    quota: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "channel_zh": CHANNEL_ZH.get(self.channel, self.channel), "mode": self.mode,
                "mode_zh": MODE_ZH.get(self.mode, self.mode), "ok": self.ok, "summary": self.summary,
                "problems": self.problems, "detail": self.detail, "quota": self.quota}


class Publisher(Protocol):
    """The contract every publisher kind follows."""

    channel: str
    mode: str

    @classmethod
    def from_config(cls, cfg: Any, channel: str, mass_sends: "MassSends") -> "Publisher": ...

    def publish(self, draft: Any, ctx: PublishContext) -> PublishResult: ...

    def check_account(self, ctx: PublishContext) -> AccountCheck: ...

    def check_live(self, remote_id: str, url: str, details: dict[str, Any]) -> LiveCheck: ...


MassSends = Callable[[datetime], int]  # how many mass sends the desk made since a time (the state database)


def mode(cfg: Any) -> str:
    """``demo`` when ``[incidents] publisher = "demo"``, or when it is empty and the desk runs the demo;
    ``platform`` otherwise. Never the demo silently in production: only these two ways choose it."""
    chosen = str(cfg["incidents"].get("publisher") or "")
    if chosen:
        return chosen
    return "demo" if cfg["desk"].get("demo") else "platform"


def publisher_class(kind: str) -> Any:
    try:
        target = PUBLISHERS[kind]
    except KeyError:
        raise IncidentError(f"未知的发布方式 {kind!r}（可选：{'、'.join(PUBLISHERS)}）") from None
    mod, _, cls = target.partition(":")
    return getattr(import_module(mod), cls)


def build(cfg: Any, channel: str, mass_sends: MassSends | None = None) -> Publisher:
    """The publisher of ``channel`` for this desk (the 演示 one in demo mode)."""
    if channel not in CHANNELS:
        raise IncidentError(f"未知的发布渠道 {channel!r}")
    kind = "demo" if mode(cfg) == "demo" else channel
    return publisher_class(kind).from_config(cfg, channel, mass_sends or (lambda since: 0))
