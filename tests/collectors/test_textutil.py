"""The one date parser of collected text: dates alone or inside longer text, Chinese, RFC, ISO, relative forms."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opinion_desk.collectors.textutil import parse_when

NOW = datetime(2024, 6, 18, 4, 0, tzinfo=timezone.utc)  # 12:00 in Beijing


@pytest.mark.parametrize("text, want", [
    ("06月17日 18:12 来自绿洲APP", "2024-06-17T10:12:00+00:00"),
    ("刚刚", "2024-06-18T04:00:00+00:00"),
    ("刚刚 来自微博 weibo.com", "2024-06-18T04:00:00+00:00"),
    ("5分钟前", "2024-06-18T03:55:00+00:00"),
    ("3小时前 来自iPhone客户端", "2024-06-18T01:00:00+00:00"),
    ("昨天 12:00", "2024-06-17T04:00:00+00:00"),
    ("今天 07:36", "2024-06-17T23:36:00+00:00"),
    ("前天 08:00", "2024-06-16T00:00:00+00:00"),
    ("Sat Jun 15 18:00:02 +0800 2024", "2024-06-15T10:00:02+00:00"),
    ("Mon, 17 Jun 2024 10:43:35 +0800", "2024-06-17T02:43:35+00:00"),
    ("更新于 Mon, 17 Jun 2024 10:43:35 GMT", "2024-06-17T10:43:35+00:00"),
    ("发布时间：2024-06-18 10:05 来源：某某日报", "2024-06-18T02:05:00+00:00"),
    ("2018-09-18 14:38:10", "2018-09-18T06:38:10+00:00"),
    ("2024年6月17日 15:30", "2024-06-17T07:30:00+00:00"),
    ("发布日期：2024年06月16日", "2024-06-15T16:00:00+00:00"),
    ("[05-01]", "2024-04-30T16:00:00+00:00"),
    ("12-31", "2023-12-30T16:00:00+00:00"),  # read in June: last December
    ("2024-06-18 18:00:00+08:00", "2024-06-18T10:00:00+00:00"),
    ("见 2024-06-18T10:00:00Z 更新", "2024-06-18T10:00:00+00:00"),
    ("1718733600", "2024-06-18T18:00:00+00:00"),
])
def test_dates_anywhere(text, want):
    assert parse_when(text, NOW).isoformat() == want


@pytest.mark.parametrize("text", ["", "yesterday-ish", "3-5人", "第12期", None, "13月45日", "2024-02-30"])
def test_not_a_date(text):
    assert parse_when(text, NOW) is None
