"""Jurisdiction routing: places and organisations in the posts -> the responsible department."""

from __future__ import annotations

import pytest

from opinion_desk.errors import ConfigError
from opinion_desk.incidents import routing

TABLE = routing.parse([
    {"department": "青山县应急管理局", "match": ["青山县", "人民路"], "contacts": [{"name": "张科长"}]},
    {"department": "青山县教育局", "match": ["城南小学"], "assignee": "li"},
    {"department": "城东街道办", "region": "城东街道"},
], "test.yaml")


def test_most_matching_posts_then_most_specific_term():
    posts = [{"text": "网传城南小学停课"}, {"text": "城南小学门口积水", "tokens": ["城南小学"]},
             {"text": "青山县下大雨"}]
    r = routing.route(TABLE, posts)
    assert r.department == "青山县教育局" and r.assignee == "li" and r.matched == ["城南小学"] and r.posts == 2
    r = routing.route(TABLE, [{"text": "人民路积水"}])
    assert r.department == "青山县应急管理局" and r.contacts == [{"name": "张科长"}]
    assert routing.route(TABLE, [{"text": "无关内容", "region": "城东街道"}]).department == "城东街道办"
    assert routing.route(TABLE, [{"text": "无关内容"}]) is None


def test_bad_tables_name_the_entry_and_field(tmp_path):
    with pytest.raises(ConfigError, match="entry 1 field 'department'"):
        routing.parse([{"match": ["x"]}], "j.yaml")
    with pytest.raises(ConfigError, match="entry 2 .*'match'"):
        routing.parse([{"department": "a", "match": ["x"]}, {"department": "b", "match": [3]}], "j.yaml")
    p = tmp_path / "j.yaml"
    p.write_text("- department: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="j.yaml"):
        routing.load(p)
    assert routing.load(tmp_path / "absent.yaml") == []
