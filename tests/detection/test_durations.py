from datetime import timedelta

import pytest

from opinion_desk.detection.durations import format_duration, parse_duration


@pytest.mark.parametrize("text,secs", [("30s", 30), ("5m", 300), ("1h", 3600), ("7d", 7 * 86400), ("90 minutes", 5400),
                                       ("1h30m", 5400), ("5分钟", 300), ("2小时", 7200), ("3天", 3 * 86400),
                                       ({"minutes": 5}, 300), ("1w", 7 * 86400)])
def test_accepted_forms(text, secs) -> None:
    assert parse_duration(text) == timedelta(seconds=secs)


@pytest.mark.parametrize("bad", ["5 minuts", "", "m5", "5", "0m", {"minuts": 5}, 5, None, "5m x"])
def test_bad_durations_say_what_is_accepted(bad) -> None:
    with pytest.raises(ValueError) as e:
        parse_duration(bad)
    assert "时长" in str(e.value)


def test_format_in_chinese() -> None:
    assert format_duration(timedelta(minutes=90)) == "1小时30分钟"
