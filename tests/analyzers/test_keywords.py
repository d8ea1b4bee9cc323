"""Keywords say what a post is about: no single characters such as 县 or 市, no mentions or emoticons."""

from __future__ import annotations


def test_keywords_are_words_not_single_characters(analyzer):
    posts = [{"id": f"k{i}", "text": t} for i, t in enumerate([
        "青山县城东化工园区发生爆炸，县应急管理局已到现场 @青山发布 [怒]",
        "县教育局通报城南小学食堂问题，市里派人督导",
        "网传县水库泄洪，县里辟谣：水库运行正常",
    ])]
    for ann in analyzer.analyze(posts):
        assert ann.keywords, ann
        assert all(len(k) >= 2 for k in ann.keywords), ann.keywords
        assert not any(k.startswith(("@", "[")) for k in ann.keywords), ann.keywords
