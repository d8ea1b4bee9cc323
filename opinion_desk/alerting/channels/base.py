"""The alert channel contract: a channel is built once from its definition (``conf``) and ``send``s one
message (a new alert or a resolved notice). A failure is a :class:`~opinion_desk.errors.DeliveryError`;
``retryable=False`` when trying again cannot help (bad key, bad signature), so the outbox stops at once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import requests
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, pass_context

from ...errors import DeliveryError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def local_time(payload: Any, value: str | None, fmt: str = "%Y-%m-%d %H:%M:%S", empty: str = "") -> str:
    """A time of a payload in the desk's zone: the payload's ``tz`` (``[desk] timezone``), else Beijing time."""
    from ... import timefmt

    return timefmt.fmt(value, timefmt.zone({"desk": {"timezone": payload.get("tz")}}), fmt, empty=empty)


@pass_context
def _local(ctx: Any, value: str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """:func:`local_time` as a template filter (the template's context is the payload)."""
    return local_time(ctx, value, fmt)


# a link written in a post must never become clickable in a duty group: schemes are defanged (hxxps://) and the
# dots of a web address bracketed (example[.]com), so no client's auto-linker sees an address
_URL = re.compile(r"(?i)\b(?:(https?|ftp)://|(www\.))[^\s<>\"'）】」]*")
_SCHEMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}
# Markdown (and the WeCom <font> tag) syntax -> look-alike full-width characters: robots differ in which
# backslash escapes they honour, full-width forms read naturally in Chinese text and mean nothing to any renderer
_MD = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "*": "＊", "_": "＿", "`": "｀", ">": "＞",
                     "<": "＜", "#": "＃", "~": "～", "|": "｜", "\\": "＼"})


def _defang_url(m: re.Match[str]) -> str:
    url = m.group(0)
    scheme = (m.group(1) or "").lower()
    rest = url[len(scheme) + 3:] if scheme else url
    host, sep, path = rest.partition("/")
    host = host.replace(".", "[.]")
    return (f"{_SCHEMES[scheme]}://" if scheme else "") + host + sep + path


def plain(value: Any) -> str:
    """Text from a post for a plain-text message: web addresses defanged (``hxxps://example[.]com/x``)."""
    return _URL.sub(_defang_url, "" if value is None else str(value))


def md(value: Any) -> str:
    """Text from a post for a Markdown message: defanged like :func:`plain`, and every Markdown character
    turned into its full-width look-alike, so ``[点此](http://x)`` is shown, never rendered as a link."""
    return plain(value).translate(_MD).replace("\n", " ")


def template_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=ChainableUndefined, autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["local"] = _local
    env.filters["md"] = md
    env.filters["plain"] = plain
    return env


_ENV: Environment | None = None


def render(name: str, payload: dict[str, Any], **extra: Any) -> str:
    """Render ``templates/<name>`` with the payload (``alert``, ``kind``, ``posts``, ``desk_url``)."""
    global _ENV
    if _ENV is None:
        _ENV = template_env()
    if name.endswith(".html"):
        tpl = _ENV.overlay(autoescape=True).get_template(name)
    else:
        tpl = _ENV.get_template(name)
    return tpl.render(**payload, **extra).strip()


def title(payload: dict[str, Any]) -> str:
    if payload["kind"] == "escalation":  # an incident notice (opinion_desk/incidents/escalation.py)
        e = payload["escalation"]
        return f"【{e['kind_zh']}】事件#{e['incident_id']}「{e['title']}」（{e['level']}）"
    a = payload["alert"]
    subject = ((a.get("details") or {}).get("message") or {}).get("subject")  # the rule's alert_subject
    if subject and payload["kind"] != "resolved":
        return plain(subject)
    key = f"「{plain(a['key'])}」" if a.get("key") else ""
    if payload["kind"] == "resolved":
        return f"【舆情平息】{a['rule']}{key}"
    return f"【{a.get('severity_zh', '')}预警】{a['rule']}{key}"


def mentions(payload: dict[str, Any], field: str) -> list[str]:
    """The ``field`` (phone, email, feishu_id) of each person an incident notice names, each once. Phones are the
    mobile numbers robots can @ (WeCom, DingTalk match them to group members): ``+86 138-0000-0001`` becomes
    ``13800000001``; a landline (``0571-...``) is left out (the person is still named in the text)."""
    values = [str(p[field]).strip() for p in payload.get("mentions") or [] if p.get(field)]
    if field == "phone":
        values = [m for m in (re.sub(r"[\s()-]", "", v).removeprefix("+86") for v in values) if re.fullmatch(r"1\d{10}", m)]
    return list(dict.fromkeys(values))


def cut_bytes(text: str, limit: int) -> str:
    """Cut UTF-8 text to at most ``limit`` bytes without breaking a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


class Channel:
    """One configured channel. Subclasses set ``kind`` and ``REQUIRED`` and implement :meth:`send`."""

    kind: ClassVar[str] = ""
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    timeout: float = 10.0

    def __init__(self, name: str, conf: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
        missing = [k for k in self.REQUIRED if not conf.get(k)]
        if missing:
            raise ValueError(f"channel '{name}'（{self.kind}）：缺少 {', '.join(missing)}")
        self.name = name
        self.conf = conf
        self.settings = settings or {}  # the [alerting] config section

    def send(self, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def scrub(self, text: str) -> str:
        """``text`` (an error message, a reply) without this channel's credentials: the robot key or token in the
        URL's query, the hook id in its path, the signing secret. Error messages reach logs and the alerts page."""
        from urllib.parse import parse_qsl, urlsplit

        secrets_: set[str] = set()
        url = str(self.conf.get("url") or "")
        if url:
            parts = urlsplit(url)
            secrets_.update(v for _k, v in parse_qsl(parts.query) if len(v) >= 4)
            secrets_.update(seg for seg in parts.path.split("/") if len(seg) >= 16)
        if self.conf.get("secret"):
            secrets_.add(str(self.conf["secret"]))
        for v in sorted(secrets_, key=len, reverse=True):
            text = text.replace(v, "***")
        return text

    # -- helpers for HTTP robots -----------------------------------------------------------------
    def post_json(self, url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            r = requests.post(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                              headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
                              timeout=self.timeout)
        except requests.RequestException as e:
            raise DeliveryError(self.name, self.scrub(f"cannot reach {self.kind}: {type(e).__name__}: {e}")) from None
        if r.status_code >= 500 or r.status_code == 429:
            raise DeliveryError(self.name, f"HTTP {r.status_code} from {self.kind}")
        if r.status_code >= 400:
            raise DeliveryError(self.name, self.scrub(f"HTTP {r.status_code} from {self.kind}: {r.text[:200]}"),
                                retryable=False)
        try:
            return r.json()
        except ValueError:
            raise DeliveryError(self.name,
                                self.scrub(f"{self.kind} answered with non-JSON: {r.text[:200]!r}")) from None
