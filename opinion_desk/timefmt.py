"""The desk's time zone (``[desk] timezone``) and how a time is shown to a person: the one place for both.

Times are stored as aware UTC everywhere; pages, CLI output, exports, alert ids and evidence show them in the desk's
zone through :func:`fmt` (Beijing time unless the config says otherwise). Naive times a person types or a feed sends
are read in the desk's zone (see :func:`opinion_desk.models.parse_time`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
#: zone names that are Beijing time
CHINA_ZONES = ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Chungking", "PRC")
SECONDS = "%Y-%m-%d %H:%M:%S"
MINUTES = "%Y-%m-%d %H:%M"


def zone(cfg: Any = None) -> ZoneInfo:
    """The desk's zone: ``[desk] timezone`` of ``cfg`` (a :class:`~opinion_desk.config.Config` or a dict), else
    Asia/Shanghai. The name was validated when the config was loaded; an unknown one falls back to Asia/Shanghai."""
    name = DEFAULT_ZONE
    if cfg is not None:
        try:
            name = cfg["desk"]["timezone"] or DEFAULT_ZONE
        except (KeyError, TypeError):
            name = DEFAULT_ZONE
    return _zone(name)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def zone_label(tz: ZoneInfo) -> str:
    """How a person is told the zone: 北京时间 for China's zone, else the IANA name and its offset now."""
    if tz.key in CHINA_ZONES:
        return "北京时间"
    return f"{tz.key} 时间 UTC{offset(tz)}"


def offset(tz: ZoneInfo, at: datetime | None = None) -> str:
    """The zone's UTC offset at ``at`` (default now) as ``+08:00``."""
    off = (at or datetime.now(timezone.utc)).astimezone(tz).utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_datetime(value: datetime | str | None) -> datetime | None:
    """A stored time (aware datetime, naive = UTC as SQLite gives it back, or an ISO string) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local(value: datetime | str | None, tz: ZoneInfo) -> datetime | None:
    """``value`` (aware, naive UTC or ISO string) in the desk's zone; None stays None."""
    t = to_datetime(value)
    return t.astimezone(tz) if t is not None else None


def fmt(value: datetime | str | None, tz: ZoneInfo, pattern: str = SECONDS, empty: str = "—") -> str:
    """``value`` shown in the desk's zone with ``pattern``; a missing or unreadable time shows ``empty``."""
    t = local(value, tz)
    return t.strftime(pattern) if t is not None else (empty if not value else str(value))


def iso(value: datetime | str | None, tz: ZoneInfo) -> str:
    """``value`` as ISO 8601 with the desk's offset (``2026-11-24T10:30:00+08:00``) for exports a machine reads too."""
    t = local(value, tz)
    return t.isoformat(timespec="seconds") if t is not None else ""
