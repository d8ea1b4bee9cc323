"""The own-draft check: before approval, compare the draft with known rumours and earlier official statements.

Simple and explainable on purpose. From each text the check takes *facts*: numbers with a unit (3人, 12辆,
2.5米, 40分钟), dates (5月3日) and clock times (14时, 14:30). Then:

- an earlier **official statement** (a post with ``author_type`` gov) with the same unit but other numbers is a
  conflict: "草稿：死亡 2人；官方通报（某局，05-03 10:00）：3人";
- a known **rumour** (``rumour_score`` >= :data:`RUMOUR_SCORE`, or a post of a rumour alert) whose facts the
  draft repeats is a warning: the draft may be echoing the rumour.

Each finding names the post, its author and time, and the facts on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

RUMOUR_SCORE = 0.6
UNITS = ("人", "名", "辆", "户", "间", "处", "所", "座", "亩", "万元", "亿元", "元", "吨", "米", "公里", "千米",
         "厘米", "毫米", "小时", "分钟", "天", "起", "例", "家", "头", "只", "级", "个")
_NUM = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
FACT_RE = re.compile(_NUM + r"\s*(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")")
DATE_RE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日")
TIME_RE = re.compile(r"(\d{1,2})\s*(?:时|点|:|：)\s*(\d{1,2})?\s*分?")


def facts(text: str) -> dict[str, set[str]]:
    """{unit: {number, ...}}, plus "日期" and "时刻"."""
    out: dict[str, set[str]] = {}
    for num, unit in FACT_RE.findall(text):
        out.setdefault(unit, set()).add(num)
    for m, d in DATE_RE.findall(text):
        out.setdefault("日期", set()).add(f"{int(m)}月{int(d)}日")
    return out


@dataclass
class Finding:
    kind: str  # conflict | rumour
    post_id: str
    author: str
    created_at: str
    unit: str
    draft_values: list[str]
    other_values: list[str]
    excerpt: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    compared: int = 0

    @property
    def conflicts(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "conflict"]

    def to_dict(self) -> dict[str, Any]:
        return {"compared": self.compared, "conflicts": len(self.conflicts),
                "warnings": len(self.findings) - len(self.conflicts), "findings": [f.to_dict() for f in self.findings],
                "ok": not self.findings}


def _get(p: Any, k: str, default: Any = None) -> Any:
    return p.get(k, default) if isinstance(p, dict) else getattr(p, k, default)


def _when(p: Any, tz: tzinfo) -> str:
    t = _get(p, "created_at")
    if t is None:
        return ""
    if isinstance(t, str):
        from ..models import parse_time

        try:
            t = parse_time(t)
        except Exception:
            return t[:16].replace("T", " ")
    return t.astimezone(tz).strftime("%m-%d %H:%M")


def _unseen(posts: Iterable[Any], seen: set[str]) -> Iterator[tuple[Any, str, dict[str, set[str]]]]:
    """Each post not compared yet, with its id and the facts of its title and text."""
    for p in posts:
        pid = _get(p, "id") or ""
        if pid in seen:
            continue
        seen.add(pid)
        yield p, pid, facts(f"{_get(p, 'title', '') or ''} {_get(p, 'text', '') or ''}")


def _shown(vals: Iterable[str], unit: str) -> str:
    return "、".join(sorted(vals)) + ("" if unit == "日期" else unit)


def check_draft(text: str, official: Iterable[Any], rumours: Iterable[Any], tz: tzinfo | None = None) -> CheckResult:
    """Compare ``text`` with official statements (a differing figure is a conflict) and rumours (a shared
    figure is a warning); posts or post dicts."""
    from ..timefmt import zone

    tz = tz or zone()
    mine = facts(text)
    res = CheckResult()
    seen: set[str] = set()
    for p, pid, theirs in _unseen(official, seen):
        res.compared += 1
        for unit, vals in mine.items():
            if unit in theirs and not vals & theirs[unit]:
                author = _get(p, "author", "") or "官方"
                res.findings.append(Finding(
                    "conflict", pid, author, _when(p, tz), unit, sorted(vals), sorted(theirs[unit]),
                    (_get(p, "text", "") or "")[:120],
                    f"与{author}（{_when(p, tz)}）的官方发布不一致：草稿写「{_shown(vals, unit)}」，"
                    f"官方发布为「{_shown(theirs[unit], unit)}」"))
    for p, pid, theirs in _unseen(rumours, seen):
        res.compared += 1
        for unit, vals in mine.items():
            shared = vals & theirs.get(unit, set())
            if shared:
                author = _get(p, "author", "") or "网民"
                res.findings.append(Finding(
                    "rumour", pid, author, _when(p, tz), unit, sorted(vals), sorted(theirs[unit]),
                    (_get(p, "text", "") or "")[:120],
                    f"草稿中的「{_shown(shared, unit)}」与疑似谣言（{author}，{_when(p, tz)}）说法相同，请核实来源"))
    return res


def is_rumour(p: Any) -> bool:
    score = _get(p, "rumour_score")
    return score is not None and float(score) >= RUMOUR_SCORE
