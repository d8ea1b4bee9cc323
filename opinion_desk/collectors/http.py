"""HTTP for collectors: timeouts, a per-host rate limit, a byte and time budget, Chinese encodings.

- :class:`HostRateLimiter` spaces requests to one host by at least ``interval`` seconds across every source
  (two sources on the same government site share its budget). Its clock and sleep are injectable for tests.
- :class:`Fetcher` wraps a ``requests.Session``: connect/read timeouts, a *total* deadline per response (a server
  that trickles bytes is cut off too), a size cap, and errors as :class:`CollectorError` naming the source, the
  URL and the reason (HTTP status, timeout, connection refused).
- :func:`decode` turns page bytes into text: BOM, then the declared charsets (HTTP header, ``<meta charset>`` / the
  XML declaration; GB2312/GBK read as their superset GB18030), then UTF-8, then a real detector
  (charset-normalizer) whose doubts are reported (:func:`decode_report`) instead of guessed silently.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import CollectorError

DEFAULT_UA = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0 Mobile Safari/537.36 opinion-desk")
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
XML_ENC_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-]+)["']""", re.I)
#: labels that mean "some GB encoding": decode with the superset
GB_ALIASES = {"gb2312", "gbk", "gb_2312", "gb-2312", "x-gbk", "cp936", "gb18030", "euc-cn", "gb_2312-80"}


def normalize_charset(name: str | None) -> str | None:
    if not name:
        return None
    n = name.strip().lower()
    return "gb18030" if n in GB_ALIASES else n


def declared_charset(body: bytes, content_type: str | None = None) -> str | None:  # noqa: D103
    """The charset the response declares (HTTP header, XML declaration, meta tag), normalised."""
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type, re.I)
        if m:
            return normalize_charset(m.group(1))
    head = body[:4096]
    m = XML_ENC_RE.match(head) or CHARSET_RE.search(head)
    return normalize_charset(m.group(1).decode("ascii")) if m else None


#: charsets servers send by default whatever the page is (Apache, Tomcat): the document's own declaration wins
GENERIC_CHARSETS = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"}
#: when the detector hesitates between near-equal guesses, the ones Chinese and Western sites really use win
COMMON_CHARSETS = ("utf_8", "gb18030", "big5", "cp1252", "latin_1", "utf_16")
CLOSE_CHAOS = 0.1  # guesses whose "chaos" is within this of the best one are taken as equally likely


@dataclass
class Decoded:
    text: str
    encoding: str  # what was used: "utf-8", "gb18030", "big5" ...
    how: str  # "bom", "declared", "utf-8", "detected"
    note: str = ""  # a doubt worth showing on the source's health ("" when none)


def _strict(body: bytes, enc: str) -> str | None:
    try:
        return body.decode(enc)
    except (LookupError, UnicodeDecodeError):
        return None


def _doc_charset(body: bytes) -> str | None:
    head = body[:4096].lstrip()
    m = XML_ENC_RE.match(head) or CHARSET_RE.search(head)
    return normalize_charset(m.group(1).decode("ascii")) if m else None


def detect(body: bytes) -> Decoded:
    """Undeclared bytes that are not UTF-8: the detector's guess (charset-normalizer), with a note when it is
    unsure (several guesses that read differently and look equally plausible)."""
    from charset_normalizer import from_bytes

    results = list(from_bytes(body))
    if not results:
        return Decoded(body.decode("gb18030", errors="replace"), "gb18030", "detected",
                       "编码无法识别，按 GB18030 读取，可能有乱码；请在信息源中设置 encoding")
    best = min(results, key=lambda m: m.chaos)
    close = [m for m in results if m.chaos <= best.chaos + CLOSE_CHAOS]
    rank = {c: i for i, c in enumerate(COMMON_CHARSETS)}
    pick = min(close, key=lambda m: (rank.get(m.encoding, len(rank)), m.chaos))
    text = str(pick)
    others = sorted({m.encoding for m in close if str(m) != text})
    enc = normalize_charset(pick.encoding.replace("_", "-")) or pick.encoding
    note = ""
    if others:
        note = (f"未声明编码，检测为 {enc}（把握不大，也可能是 {'、'.join(others[:4])}）；"
                "若有乱码，请在信息源中设置 encoding")
    return Decoded(text, enc, "detected", note)


def decode_report(body: bytes, content_type: str | None = None) -> Decoded:
    """Bytes of a page or feed -> text, and how the encoding was chosen.

    Order: a BOM; the charsets the response declares (the document's own declaration before a generic
    ``ISO-8859-1`` HTTP header, which servers send whatever the page is), each only if the bytes decode with it;
    UTF-8; then the detector (:func:`detect`) — never a silent guess: an unsure detection comes with a note.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        return Decoded(body[3:].decode("utf-8", errors="replace"), "utf-8", "bom")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Decoded(body.decode("utf-16", errors="replace"), "utf-16", "bom")
    header = None
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type, re.I)
        header = normalize_charset(m.group(1)) if m else None
    doc = _doc_charset(body)
    order = [doc, header] if header in GENERIC_CHARSETS else [header, doc]
    for cs in order:
        if not cs:
            continue
        if cs in GENERIC_CHARSETS and _strict(body, "utf-8") is not None and not body.isascii():
            continue  # "ISO-8859-1" on bytes that are valid UTF-8: the label is a server default
        text = _strict(body, cs)
        if text is not None:
            return Decoded(text, cs, "declared")
    text = _strict(body, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    found = detect(body)
    if header or doc:
        said = "、".join(dict.fromkeys(c for c in (header, doc) if c))
        found.note = (f"声明的编码 {said} 与内容不符，已按检测结果 {found.encoding} 读取"
                      + (f"；{found.note}" if found.note else ""))
    return found


def decode(body: bytes, content_type: str | None = None) -> str:
    """Bytes of a page or feed -> text (see :func:`decode_report`)."""
    return decode_report(body, content_type).text


class HostRateLimiter:
    """At least ``interval`` seconds between the starts of two requests to the same host."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self.per_host: dict[str, float] = {}  # host -> its own interval (from a source's `host_interval`)

    def reserve(self, host: str) -> float:
        """Book the next slot for ``host``; returns how long the caller must wait for it."""
        gap = self.per_host.get(host, self.interval)
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + gap
            return slot - now

    def wait(self, host: str) -> float:
        delay = self.reserve(host)
        if delay > 0:
            self.sleep(delay)
        return delay


#: the limiter every collector shares (the app sets its interval from ``collectors.host_interval``)
LIMITER = HostRateLimiter()


@dataclass
class Response:
    url: str  # final URL (after redirects, if followed)
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return decode(self.body, self.headers.get("content-type"))

    def json(self, source: str) -> Any:
        import json

        try:
            return json.loads(self.text)
        except ValueError as e:
            snippet = self.text[:80].replace("\n", " ")
            raise CollectorError(source, f"{self.url}: not JSON ({e}); body starts {snippet!r}") from None


class Fetcher:
    """One source's HTTP client."""

    def __init__(self, source: str, timeout: float = 20.0, max_bytes: int = 20 * 1024 * 1024,
                 limiter: HostRateLimiter | None = None, headers: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.limiter = limiter if limiter is not None else LIMITER
        self.clock = clock
        self.session = requests.Session()
        self.session.headers["User-Agent"] = DEFAULT_UA
        self.session.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
        if headers:
            self.session.headers.update(headers)
        self.requests_made = 0

    def get(self, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            allow_redirects: bool = True, ok_statuses: tuple[int, ...] = (200,)) -> Response:
        host = urlsplit(url).netloc.lower()
        self.limiter.wait(host)
        self.requests_made += 1
        deadline = self.clock() + self.timeout
        try:
            r = self.session.get(url, params=params, headers=headers, stream=True, allow_redirects=allow_redirects,
                                 timeout=(min(10.0, self.timeout), self.timeout))
            chunks: list[bytes] = []
            size = 0
            try:
                while True:
                    # read1: whatever has arrived (a trickling server cannot hold us past the deadline)
                    chunk = r.raw.read1(65536, decode_content=True)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise CollectorError(self.source, f"{url}: response larger than {self.max_bytes} bytes")
                    if self.clock() > deadline:
                        raise CollectorError(self.source, f"{url}: no complete answer within {self.timeout:g}s "
                                                          "(the server is too slow; cut off)")
            finally:
                r.close()
        except requests.Timeout:
            raise CollectorError(self.source, f"{url}: timed out after {self.timeout:g}s") from None
        except requests.ConnectionError as e:
            reason = str(e.args[0] if e.args else e)
            if "Read timed out" in reason:
                raise CollectorError(self.source, f"{url}: timed out after {self.timeout:g}s") from None
            raise CollectorError(self.source, f"{url}: cannot connect ({_short(reason)})") from None
        except requests.RequestException as e:
            raise CollectorError(self.source, f"{url}: request failed ({_short(str(e))})") from None
        resp = Response(url=r.url, status=r.status_code, headers={k.lower(): v for k, v in r.headers.items()},
                        body=b"".join(chunks))
        if resp.status not in ok_statuses and not (300 <= resp.status < 400 and not allow_redirects):
            raise CollectorError(self.source, f"{url}: HTTP {resp.status}")
        return resp

    def close(self) -> None:
        self.session.close()


def _short(s: str, n: int = 160) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
