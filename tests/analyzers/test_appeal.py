"""诉求 (complaints, requests) and official notices are not rumours; every tag says why (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers import Analyzer
from analyzers.rumour import (TAG_THRESHOLD, AppealLexicon, cascade_assessment, counts_as_rumour, is_claim,
                              is_spreading)

FIX = Path(__file__).parent / "fixtures"


def _lines(name: str) -> list[str]:
    return [ln for ln in (FIX / name).read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


@pytest.fixture(scope="module")
def an() -> Analyzer:
    return Analyzer()


@pytest.mark.parametrize("name", ["complaints.txt", "official_notices.txt"])
def test_complaints_and_notices_are_not_tagged_as_rumour(an: Analyzer, name: str) -> None:
    texts = _lines(name)
    anns = an.analyze([{"id": str(i), "text": t} for i, t in enumerate(texts)])
    tagged = [t for t, a in zip(texts, anns) if a.rumour_score >= TAG_THRESHOLD]
    assert len(tagged) <= 0.01 * len(texts), tagged


def test_the_issue_complaints_are_shown_as_appeals_with_reasons(an: Analyzer) -> None:
    for text in ("人民医院门口又堵了半小时，停车太难了[怒]", "县医院挂号排了两个小时，太折腾了…"):
        a = an.analyze([{"id": "1", "text": text}])[0]
        assert a.complaint_score >= 0.5 and a.rumour_score < TAG_THRESHOLD
        assert a.rumour_reasons and "诉求" in a.rumour_reasons[0]


def test_a_rumour_claim_says_why(an: Analyzer) -> None:
    a = an.analyze([{"id": "1", "text": "紧急扩散！青山水库今晚泄洪，下游赶紧转移，转起来"}])[0]
    assert a.rumour_score >= TAG_THRESHOLD and a.complaint_score < 0.5
    assert any("说法线索" in r and "紧急扩散" in r for r in a.rumour_reasons)


def test_cascade_needs_spread_and_no_official_answer() -> None:
    doubt = lambda t: bool(AppealLexicon().groups(t).get("doubt"))  # noqa: E731
    spread = ["真的假的？", "转发微博", "求证", "真的吗", "吓人"]
    assert cascade_assessment(0.8, spread, doubt, official=False)[0]
    assert not cascade_assessment(0.8, spread[:1], doubt, official=False)[0]  # not spreading yet
    assert not cascade_assessment(0.8, spread, doubt, official=True)[0]  # answered
    tag, _, reasons = cascade_assessment(0.8, spread, doubt, official=False, appeal=True)  # a 诉求, as the live rule
    assert not tag and any("诉求" in r for r in reasons)
    tag, _, reasons = cascade_assessment(0.2, spread, doubt, official=False)  # a weak text questioned by many
    assert tag and any("质疑回复 3" in r for r in reasons)


def test_the_rule_parts_the_eval_and_bench_use_are_the_rules() -> None:
    """evaluate.py and bench/rumour_cascades.py take the claim, the spread and the post test from here."""
    doubt = AppealLexicon().is_doubt
    assert doubt("真的假的？") and not doubt("转发微博")
    replies = ["真的假的？"] * 3 + ["转发微博"] * 27  # 3 doubt replies of 30: exactly 10 %
    assert is_claim(0.2, 3, 30) and cascade_assessment(0.2, replies, doubt, official=False)[0]
    assert not is_claim(0.2, 3, 31) and not cascade_assessment(0.2, replies + ["转发微博"], doubt, official=False)[0]
    assert is_claim(0.5, 0, 0) and not is_claim(0.49, 0, 0)
    assert not is_claim(0.9, 0, 0, appeal=True) and not is_claim(0.2, 3, 4, appeal=True)  # a 诉求: never
    assert is_spreading(3) and not is_spreading(2)
    assert not cascade_assessment(0.9, replies[:2], doubt, official=False)[0]  # a claim not spreading yet
    assert counts_as_rumour(0.7, 0.0) and not counts_as_rumour(0.69, 0.0) and not counts_as_rumour(None, 0.0)
    assert not counts_as_rumour(0.9, 0.5)  # a 诉求 is never a rumour post
    assert counts_as_rumour(0.8, 0.0, threshold=0.8) and not counts_as_rumour(0.8, 0.3, appeal_threshold=0.3)
