"""Page text for collectors: HTML -> plain text, article bodies, Chinese date strings, counts like "1.2万"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from bs4 import BeautifulSoup, Tag

CST = timezone(timedelta(hours=8))  # the sites' own clock (Chinese sites write Beijing time), not the desk's display zone
BLOCK_TAGS = {"p", "div", "section", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "article"}
#: where government and news CMSs (TRS, Hanweb...) put the article body, most specific first
ARTICLE_SELECTORS = ("#js_content", ".rich_media_content", "#zoom", ".TRS_Editor", "#UCAP-CONTENT",
                     ".article-content", ".article_content", "#article", "article", ".pages_content",
                     "#content", ".content", "#main", "main")


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def soup(html: str) -> BeautifulSoup:
    """An HTML page parsed leniently; XHTML pages (weibo.cn, old CMSs) lose their ``<?xml?>`` line: read as HTML."""
    return BeautifulSoup(_XML_DECL.sub("", html, count=1) if html.lstrip().startswith("<?xml") else html, "lxml")


def node_text(node: Tag | BeautifulSoup) -> str:
    """Visible text of a node: emoticon images become their alt text ([哈哈]), blocks become lines."""
    for bad in node.find_all(["script", "style", "noscript", "template"]):
        bad.decompose()
    for img in node.find_all("img"):
        alt = img.get("alt")
        img.replace_with(alt if isinstance(alt, str) and alt.strip() else "")
    for br in node.find_all("br"):
        br.replace_with("\n")
    for blk in node.find_all(BLOCK_TAGS - {"br"}):
        blk.insert_before("\n")
        blk.insert_after("\n")
    text = node.get_text()
    lines = [re.sub(r"[ \t\r\f\v\u00a0\u3000]+", " ", ln).strip() for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    return node_text(soup(f"<div>{html}</div>").div or soup(html))


def extract_article(html: str, selector: str | None = None) -> tuple[str, str]:
    """(plain text, inner HTML) of the article body: ``selector`` when given, else the first known CMS body
    container with real text, else the block with the most paragraph text. ('', '') when nothing is found."""
    doc = soup(html)
    candidates: list[Tag] = []
    if selector:
        candidates = [n for n in doc.select(selector)]
    else:
        for sel in ARTICLE_SELECTORS:
            candidates.extend(doc.select(sel))
            if candidates:
                break
    best: Tag | None = None
    if candidates:
        best = max(candidates, key=lambda n: len(n.get_text(strip=True)))
    elif not selector:
        scores: dict[int, tuple[int, Tag]] = {}
        for p in doc.find_all("p"):
            parent = p.parent
            if isinstance(parent, Tag):
                n, _ = scores.get(id(parent), (0, parent))
                scores[id(parent)] = (n + len(p.get_text(strip=True)), parent)
        if scores:
            best = max(scores.values(), key=lambda x: x[0])[1]
    if best is None:
        return "", ""
    inner = best.decode_contents()
    return node_text(best), inner


_CN_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                      r"(?:[\sT]*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?")
_WEIBO_DATE = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}")
_RFC_DATE = re.compile(r"(?:[A-Z][a-z]{2},?\s*)?\d{1,2}\s+[A-Z][a-z]{2}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
                       r"(?:\s*(?:[+-]\d{4}|GMT|UTC?|[A-Z]{3}))?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})")
_RELATIVE = re.compile(r"(\d+)\s*(秒|分钟|小时|天)前")
_DAY_WORD = re.compile(r"(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})")
_CN_MD = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:：](\d{2}))?")
_MD_DATE = re.compile(r"^(\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_UNIT_SECONDS = {"秒": 1, "分钟": 60, "小时": 3600, "天": 86400}


def _aware(dt: datetime) -> datetime:
    return (dt if dt.tzinfo else dt.replace(tzinfo=CST)).astimezone(timezone.utc)


def _month_day(mo: int, d: int, hh: int, mm: int, local: datetime) -> datetime | None:
    try:
        dt = datetime(local.year, mo, d, hh, mm, tzinfo=CST)
    except ValueError:
        return None
    if dt > local + timedelta(days=1):  # "12-31" read in January is last year
        dt = dt.replace(year=local.year - 1)
    return dt.astimezone(timezone.utc)


def parse_when(value: Any, now: datetime | None = None) -> datetime | None:
    """A date as seen on Chinese sites, feeds and crawler files -> aware UTC, or None when there is none.

    The one parser for this grammar. The date may stand alone or sit inside longer text (weibo.cn's
    ``06月17日 18:12 来自绿洲APP``, ``发布时间：2024-06-18 10:00 阅读 12``). Forms: RFC 822
    (``Thu, 17 Jun 2021 10:43:35 +0800``), Weibo's ``Sat Jun 19 18:00:02 +0800 2021``, ISO 8601, epoch
    seconds/milliseconds, ``2018-09-18 14:38:10`` / ``2024年5月1日`` / ``[2024-05-01]`` (naive = China Standard
    Time), ``06月17日 18:12`` and ``05-01`` (this year, or last year when that would be in the future), and relative
    forms (刚刚, N秒/分钟/小时/天前, 今天 07:36, 昨天 12:00, 前天 08:00) counted from ``now``.
    """
    now = now or datetime.now(timezone.utc)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, (int, float)):
        v = float(value) / (1000.0 if value > 1e12 else 1.0)
        try:
            return datetime.fromtimestamp(v, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    s = str(value).strip().strip("[]()（）【】").strip()
    if not s:
        return None
    if s.isdigit():
        return parse_when(int(s), now) if len(s) in (10, 13) else None
    try:  # the whole string in ISO 8601 (the common case, and the only one with fractions and offsets)
        iso = s.replace("Z", "+00:00")
        if len(iso) >= 11 and iso[10] == " ":
            iso = iso[:10] + "T" + iso[11:]
        return _aware(datetime.fromisoformat(iso))
    except ValueError:
        pass
    return _absolute(s) or _relative(s, now)


def _absolute(s: str) -> datetime | None:
    """A date with its own year (Weibo's, ISO, RFC 822, Chinese) anywhere in ``s``."""
    m = _WEIBO_DATE.search(s)
    if m:
        try:
            return datetime.strptime(m.group(0), "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
        except ValueError:
            pass
    m = _ISO_DATE.search(s)
    if m:
        try:
            return _aware(datetime.fromisoformat(m.group(0).replace("Z", "+00:00").replace(" ", "T", 1)))
        except ValueError:
            pass
    m = _RFC_DATE.search(s)
    if m:
        try:
            return _aware(parsedate_to_datetime(m.group(0))) if re.search(r"[+-]\d{4}|[A-Z]{2,3}$", m.group(0)) \
                else parsedate_to_datetime(m.group(0)).replace(tzinfo=timezone.utc)
        except (TypeError, ValueError, IndexError):
            pass
    m = _CN_DATE.search(s)
    if m:
        y, mo, d, hh, mm, ss = (int(x) if x else 0 for x in m.groups())
        try:
            return datetime(y, mo, d, hh, mm, ss, tzinfo=CST).astimezone(timezone.utc)
        except ValueError:
            return None
    return None


def _relative(s: str, now: datetime) -> datetime | None:
    """刚刚, N分钟前, 今天/昨天/前天 HH:MM, 06月17日 18:12 and 05-01: counted from ``now`` (China Standard Time)."""
    local = now.astimezone(CST)
    if s.startswith("刚刚"):
        return now
    m = _RELATIVE.search(s)
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    m = _DAY_WORD.search(s)
    if m:
        day = local - timedelta(days={"今天": 0, "昨天": 1, "前天": 2}[m.group(1)])
        return day.replace(hour=int(m.group(2)), minute=int(m.group(3)), second=0,
                           microsecond=0).astimezone(timezone.utc)
    m = _CN_MD.search(s) or _MD_DATE.match(s)
    if m:
        mo, d, hh, mm = (int(x) if x else 0 for x in m.groups())
        return _month_day(mo, d, hh, mm, local)
    return None


def parse_count(value: Any) -> int:
    """Weibo-style counts: 37053, "37053", "1.2万", "100万+", "3亿", "" -> int (0 when unreadable)."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip().rstrip("+").replace(",", "")
    mult = 1
    if s.endswith("万"):
        mult, s = 10_000, s[:-1]
    elif s.endswith("亿"):
        mult, s = 100_000_000, s[:-1]
    try:
        return int(float(s) * mult)
    except ValueError:
        return 0
