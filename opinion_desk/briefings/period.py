"""The time span of a briefing, in the desk's time zone (``[desk] timezone``): a day (日报), a Monday-to-Sunday
week (周报) or any range (简报). Times inside are aware UTC, ``start <= t < end`` like every store query."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import BriefingError

KIND_ZH = {"daily": "舆情日报", "weekly": "舆情周报", "range": "舆情简报"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_ZH = ("一", "二", "三", "四", "五", "六", "日")
MAX_DAYS = 93  # an on-demand briefing covers at most a quarter


def desk_zone(cfg: object) -> ZoneInfo:
    """The configured time zone (``[desk] timezone``); a bad name is an error naming the key."""
    name = cfg["desk"]["timezone"]  # type: ignore[index]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BriefingError("[desk] timezone", f"未知时区 {name!r}（例如 Asia/Shanghai）") from None


@dataclass(frozen=True)
class Period:
    kind: str  # daily | weekly | range
    start: datetime  # aware UTC
    end: datetime
    tz: ZoneInfo

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.tz)

    @property
    def kind_zh(self) -> str:
        return KIND_ZH[self.kind]

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def label(self, weekday: bool = True) -> str:
        """The period in Chinese: 2026年11月24日（星期二） / 2026年11月16日至11月22日 / with hours when not whole
        days."""
        a, b = self.local_start, self.local_end
        whole = a.time() == time(0) and b.time() == time(0)
        if self.kind == "daily":
            return f"{a.year}年{a.month}月{a.day}日" + (f"（星期{WEEKDAY_ZH[a.weekday()]}）" if weekday else "")
        if whole:
            last = b - timedelta(days=1)
            if last.date() == a.date():
                return f"{a.year}年{a.month}月{a.day}日"
            tail = f"{last.year}年{last.month}月{last.day}日" if last.year != a.year else f"{last.month}月{last.day}日"
            return f"{a.year}年{a.month}月{a.day}日至{tail}"
        return f"{a:%Y年%m月%d日 %H:%M}至{b:%Y年%m月%d日 %H:%M}".replace("年0", "年").replace("月0", "月")

    def span_text(self) -> str:
        """The exact span with the zone: 2026-11-24 00:00 至 2026-11-25 00:00（北京时间）."""
        return f"{self.local_start:%Y-%m-%d %H:%M} 至 {self.local_end:%Y-%m-%d %H:%M}（{zone_name(self.tz)}）"

    def title(self) -> str:
        return f"{self.kind_zh}（{self.label(weekday=False)}）"

    def slug(self) -> str:
        a = self.local_start
        if self.kind == "daily":
            return f"daily-{a:%Y%m%d}"
        if self.kind == "weekly":
            return f"weekly-{a:%Y%m%d}"
        return f"range-{a:%Y%m%d%H%M}-{self.local_end:%Y%m%d%H%M}"


def zone_name(tz: ZoneInfo) -> str:
    from ..timefmt import zone_label

    return zone_label(tz)


def _utc(local: datetime) -> datetime:
    return local.astimezone(timezone.utc)


def day(d: date, tz: ZoneInfo) -> Period:
    a = datetime.combine(d, time(0), tz)
    return Period("daily", _utc(a), _utc(datetime.combine(d + timedelta(days=1), time(0), tz)), tz)


def week(d: date, tz: ZoneInfo) -> Period:
    """The Monday-to-Sunday week holding ``d``."""
    monday = d - timedelta(days=d.weekday())
    return Period("weekly", _utc(datetime.combine(monday, time(0), tz)),
                  _utc(datetime.combine(monday + timedelta(days=7), time(0), tz)), tz)


_LOCAL = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")


def parse_local(text: str, tz: ZoneInfo, field: str) -> tuple[datetime, bool]:
    """``2026-11-24`` or ``2026-11-24 08:00`` in the desk's zone -> (aware local time, whether only a date)."""
    m = _LOCAL.fullmatch((text or "").strip())
    if not m:
        raise BriefingError(field, f"时间格式不对：{text!r}（应为 2026-11-24 或 2026-11-24 08:00）")
    y, mo, d, hh, mm = m.groups()
    try:
        t = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), tzinfo=tz)
    except ValueError:  # 2026-11-31, 25:00
        raise BriefingError(field, f"不是有效的日期或时刻：{text!r}") from None
    return t, hh is None


def span(since: str, until: str, tz: ZoneInfo) -> Period:
    """An on-demand range. A date alone in ``until`` includes that whole day (2026-11-20 至 2026-11-24 = 5 days)."""
    a, _ = parse_local(since, tz, "from")
    b, date_only = parse_local(until, tz, "to")
    if date_only:
        b = datetime.combine(b.date() + timedelta(days=1), time(0), tz)
    if b <= a:
        raise BriefingError("to", f"结束时间 {until} 应晚于开始时间 {since}")
    if (b - a) > timedelta(days=MAX_DAYS):
        raise BriefingError("to", f"时间段过长：{(b - a).days} 天，最多 {MAX_DAYS} 天")
    return Period("range", _utc(a), _utc(b), tz)


def due(now: datetime, tz: ZoneInfo, daily_at: str, weekly_on: str) -> list[Period]:
    """The latest scheduled briefings whose time has come by ``now``: yesterday's 日报 once ``daily_at`` has
    passed today (else the day before's), and the last whole week's 周报 once ``weekly_on`` at ``daily_at``
    has passed. Empty ``daily_at`` turns the schedule off; empty ``weekly_on`` the weekly one."""
    if not daily_at:
        return []
    hh, mm = parse_clock(daily_at)
    local = now.astimezone(tz)
    at = time(hh, mm)
    today = local.date()
    ran_today = local.time() >= at
    out = [day(today - timedelta(days=1 if ran_today else 2), tz)]
    if weekly_on:
        wd = WEEKDAYS.index(weekly_on)
        back = (today.weekday() - wd) % 7
        if back == 0 and not ran_today:
            back = 7
        run_day = today - timedelta(days=back)  # the latest weekly run day that has come
        out.append(week(run_day - timedelta(days=run_day.weekday() + 1), tz))  # the last whole week before it
    return out


def parse_clock(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise BriefingError("[briefings] daily_at", f"应为 时:分，例如 \"08:00\"，收到 {text!r}")
    return int(m.group(1)), int(m.group(2))
