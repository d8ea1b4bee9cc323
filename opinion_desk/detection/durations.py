"""Durations as analysts write them: ``30s``, ``5m``, ``1h``, ``7d``, ``1w``, ``90 minutes``, ``2 hours``, ``5分钟``,
``1小时``, ``3天``, or a mapping ``{minutes: 5}`` (ElastAlert style). Anything else is a :class:`ValueError` whose
message says what is accepted."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

UNITS: dict[str, float] = {}
for _names, _secs in (
    (("s", "sec", "secs", "second", "seconds", "秒", "秒钟"), 1),
    (("m", "min", "mins", "minute", "minutes", "分", "分钟"), 60),
    (("h", "hr", "hrs", "hour", "hours", "时", "小时", "个小时"), 3600),
    (("d", "day", "days", "天", "日"), 86400),
    (("w", "week", "weeks", "周", "星期"), 7 * 86400),
):
    for _n in _names:
        UNITS[_n] = _secs

_ONE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z\u4e00-\u9fff]+)")
MAPPING_KEYS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400}
HELP = "应为如 30s、5m、1h、7d、'90 minutes'、'5分钟' 或 {minutes: 5}"
MAX_SECONDS = 3660 * 86400  # ten years: longer is a typo (and past what a timedelta can hold)
PATTERN = r"^\s*(\d+(\.\d+)?\s*[a-zA-Z\u4e00-\u9fff]+\s*)+$"


def parse_duration(value: Any) -> timedelta:
    """Parse a duration; raises ``ValueError`` naming the bad value."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, dict):
        total = 0.0
        for k, v in value.items():
            if k not in MAPPING_KEYS or isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"无法识别的时长 {value!r}（{HELP}）")
            total += MAPPING_KEYS[k] * float(v)
        return _bounded(total, value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"无法识别的时长 {value!r}（{HELP}）")
    s = value.strip().lower()
    pos = 0
    total = 0.0
    for m in _ONE.finditer(s):
        if s[pos:m.start()].strip():
            raise ValueError(f"无法识别的时长 {value!r}（{HELP}）")
        unit = m.group(2)
        if unit not in UNITS:
            raise ValueError(f"无法识别的时长 {value!r}：未知单位 '{m.group(2)}'（{HELP}）")
        total += float(m.group(1)) * UNITS[unit]
        pos = m.end()
    if pos == 0 or s[pos:].strip():
        raise ValueError(f"无法识别的时长 {value!r}（{HELP}）")
    return _bounded(total, value)


def _bounded(total: float, value: Any) -> timedelta:
    if not total > 0:  # also NaN
        raise ValueError(f"时长 {value!r} 必须大于零")
    if total > MAX_SECONDS:
        raise ValueError(f"时长 {value!r} 太长（最多 {MAX_SECONDS // 86400} 天）")
    return timedelta(seconds=total)


def format_duration(td: timedelta) -> str:
    """A short Chinese rendering: ``5分钟``, ``1小时30分钟``, ``2天``."""
    secs = int(td.total_seconds())
    parts = []
    for unit, n in (("天", 86400), ("小时", 3600), ("分钟", 60), ("秒", 1)):
        if secs >= n:
            parts.append(f"{secs // n}{unit}")
            secs %= n
    return "".join(parts) or "0秒"
