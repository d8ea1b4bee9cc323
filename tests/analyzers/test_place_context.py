"""Place names in context: the place dictionary must not split ordinary phrases into county names (issue 13)."""

from __future__ import annotations

import pytest

from analyzers.segmentation import Segmenter

# (text, a token that must appear, a token that must not)
ORDINARY = [
    ("明天全县停电", "全县", "天全县"),
    ("明天全县人民放假", "明天", "天全县"),
    ("前天全县普降大雨", "全县", "天全县"),
    ("每天全县都有人排队", "每天", "天全县"),
    ("今天全县中小学正常上课", "全县", "天全县"),
    ("全县人民都知道", "全县", "天全县"),
    ("真正安县的人都说好", "真正", "正安县"),
    ("落落大方县城里的人", "县城", "大方县"),
    ("平安县城", "县城", "安县"),
    ("转疯了！说明天全县中小学停课", "明天", "天全县"),  # the demo's rumour: 说明/天全县 before the repair
    ("他说明天全县停水", "全县", "天全县"),
]
PLACES = [
    ("天全县发生地震", "天全县"),
    ("雅安市天全县", "天全县"),
    ("在天全县工作", "天全县"),
    ("今天全县天全县都停电", "天全县"),
    ("今天全椒县下雪", "全椒县"),
]


@pytest.fixture(scope="module", params=["rjieba", "jieba"])
def seg(request: pytest.FixtureRequest) -> Segmenter:
    return Segmenter(backend=request.param).ensure_loaded()


@pytest.mark.parametrize("text,want,not_want", ORDINARY)
def test_ordinary_phrases_are_not_county_names(seg: Segmenter, text: str, want: str, not_want: str) -> None:
    toks = seg.cut_raw(text)
    assert want in toks and not_want not in toks, toks


@pytest.mark.parametrize("text,place", PLACES)
def test_real_county_names_are_kept(seg: Segmenter, text: str, place: str) -> None:
    assert place in seg.cut_raw(text)


def test_parse_tokens_follow_the_repair(seg: Segmenter) -> None:
    p = seg.parse("#停电# 明天全县停电，@县供电公司 [泪]")
    assert "全县" in p.tokens and "天全县" not in p.tokens and "#停电#" in p.hashtags
