"""Briefing periods in the desk's time zone: a Beijing day and week, ranges, the schedule's due periods."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from opinion_desk.briefings import period as P
from opinion_desk.errors import BriefingError

BJ = ZoneInfo("Asia/Shanghai")


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def test_a_day_is_the_beijing_day():
    p = P.day(date(2026, 11, 24), BJ)
    assert (p.start, p.end) == (utc("2026-11-23 16:00"), utc("2026-11-24 16:00"))
    assert p.title() == "舆情日报（2026年11月24日）"
    assert p.label() == "2026年11月24日（星期二）"
    assert p.span_text() == "2026-11-24 00:00 至 2026-11-25 00:00（北京时间）"


def test_a_week_runs_monday_to_sunday():
    p = P.week(date(2026, 11, 26), BJ)  # a Thursday
    assert (p.start, p.end) == (utc("2026-11-22 16:00"), utc("2026-11-29 16:00"))
    assert p.title() == "舆情周报（2026年11月23日至11月29日）"
    assert P.week(date(2026, 12, 30), BJ).label() == "2026年12月28日至2027年1月3日"


def test_other_zones_are_honoured():
    p = P.day(date(2026, 11, 24), ZoneInfo("Europe/Berlin"))
    assert p.start == utc("2026-11-23 23:00")
    assert "Europe/Berlin" in p.span_text()


def test_a_range_with_a_date_alone_includes_the_last_day():
    p = P.span("2026-11-20", "2026-11-24", BJ)
    assert (p.start, p.end) == (utc("2026-11-19 16:00"), utc("2026-11-24 16:00"))
    assert p.label() == "2026年11月20日至11月24日"
    q = P.span("2026-11-24 08:00", "2026-11-24 20:30", BJ)
    assert (q.start, q.end) == (utc("2026-11-24 00:00"), utc("2026-11-24 12:30"))
    assert q.label() == "2026年11月24日 08:00至2026年11月24日 20:30"


@pytest.mark.parametrize("since, until, field, words", [
    ("2026/11/20", "2026-11-24", "from", "时间格式不对"),
    ("2026-11-20", "2026-13-01", "to", "不是有效的日期或时刻：'2026-13-01'"),
    ("2026-11-31", "2026-12-01", "from", "不是有效的日期或时刻"),
    ("2026-11-24", "2026-11-20", "to", "应晚于开始时间"),
    ("2026-01-01", "2026-06-30", "to", "最多 93 天"),
])
def test_bad_ranges_are_refused_in_chinese_naming_the_field(since, until, field, words):
    with pytest.raises(BriefingError) as e:
        P.span(since, until, BJ)
    assert e.value.field == field and words in str(e.value)


def test_due_before_and_after_the_daily_time():
    before = datetime(2026, 11, 25, 7, 59, tzinfo=BJ)  # a Wednesday
    after = datetime(2026, 11, 25, 8, 0, tzinfo=BJ)
    assert [p.slug() for p in P.due(before, BJ, "08:00", "")] == ["daily-20261123"]
    assert [p.slug() for p in P.due(after, BJ, "08:00", "")] == ["daily-20261124"]
    assert P.due(after, BJ, "", "mon") == []


def test_due_weekly_after_its_day_and_time():
    monday_early = datetime(2026, 11, 30, 7, 0, tzinfo=BJ)
    monday_late = datetime(2026, 11, 30, 8, 30, tzinfo=BJ)
    weekly = lambda now, on="mon": [p for p in P.due(now, BJ, "08:00", on) if p.kind == "weekly"][0]  # noqa: E731
    assert weekly(monday_early).slug() == "weekly-20261116"  # the run of Monday the 23rd: the week of the 16th
    assert weekly(monday_late).slug() == "weekly-20261123"
    assert weekly(monday_late, "fri").slug() == "weekly-20261116"  # Friday the 27th reported the week before it


def test_bad_clock_is_named():
    with pytest.raises(BriefingError, match=r"\[briefings\] daily_at"):
        P.parse_clock("8点")


@pytest.mark.parametrize("key, value, words", [("weekly_on", "monday", "[briefings] weekly_on: 应为 mon"),
                                               ("daily_at", "25:00", "[briefings] daily_at: 应为 时:分")])
def test_a_bad_schedule_is_refused_at_start(key, value, words):
    from opinion_desk.briefings.service import check
    from opinion_desk.config import load_config
    from opinion_desk.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        check(load_config(path=None, env={}, overrides={"briefings": {key: value}}))
    assert words in str(e.value)
