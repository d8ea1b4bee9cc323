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


def test_the_learned_table_stays_under_its_cap():
    """Past max_terms the table keeps only keyword candidates seen in more than one post (numbers, single
    characters and one-off words go), at most three quarters of the cap; the keywords of a post are unchanged."""
    from analyzers.keywords import KeywordExtractor

    ex = KeywordExtractor(top_k=3, prior_path="/nonexistent", max_terms=400)
    ref = KeywordExtractor(top_k=3, prior_path="/nonexistent", max_terms=10**9)
    for i in range(300):
        toks = ["暴雨", "积水", "县", str(10_000 + i), f"路段{i}", "排水" if i % 2 else "停运"]
        assert ex.extract_batch([toks], [20]) == ref.extract_batch([toks], [20])
        assert len(ex.terms) <= 400
    assert "10000" not in ex.vocab and "路段0" not in ex.vocab  # one-off words went at a prune
    assert {"暴雨", "积水", "排水", "停运"} <= set(ex.vocab) and ex.df["暴雨"] == ref.df["暴雨"]
