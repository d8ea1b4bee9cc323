"""Post records: stable ids and input errors that name the field."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opinion_desk.errors import InputError
from opinion_desk.models import Post, parse_time, post_id


def test_id_is_stable_per_source_and_post():
    assert post_id("weibo", "123") == post_id("weibo", "123")
    assert post_id("weibo", "123") != post_id("rss", "123")


@pytest.mark.parametrize("value, expected", [
    ("2026-11-24T08:00:00+08:00", datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)),
    ("2026-11-24 08:00:00", datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)),  # naive = China time
    (1795996800, datetime.fromtimestamp(1795996800, timezone.utc)),
    (1795996800000, datetime.fromtimestamp(1795996800, timezone.utc)),
    ("2026-11-24T00:00:00Z", datetime(2026, 11, 24, tzinfo=timezone.utc)),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_from_dict_names_bad_fields():
    with pytest.raises(InputError) as ei:
        Post.from_dict({"source_id": "1", "created_at": "2026-01-01T00:00:00"}, where="items[3]", default_source="x")
    assert ei.value.where == "items[3]" and ei.value.field == "text"
    with pytest.raises(InputError) as ei:
        Post.from_dict({"id": "1", "text": "你好", "created_at": "昨天"}, where="f.jsonl:7", default_source="x")
    assert ei.value.field == "created_at" and "f.jsonl:7" in str(ei.value)
    with pytest.raises(InputError) as ei:
        Post.from_dict({"id": "1", "text": "你好", "created_at": 1, "reposts": "many"}, default_source="x")
    assert ei.value.field == "reposts"


def test_from_dict_accepts_aliases():
    p = Post.from_dict({"mid": 42, "content": "暴雨", "ts": 1795996800, "author": "青山发布"}, default_source="weibo")
    assert p.source == "weibo" and p.source_id == "42" and p.text == "暴雨" and p.author == "青山发布"
