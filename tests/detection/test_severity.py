"""Severity from the event's size, speed and sensitivity, capped by the rule (issue 13); the rumour rule uses it
and never counts a 诉求 (complaint / request)."""

from __future__ import annotations

from opinion_desk.detection.severity import EventFigures, describe, severity

from .helpers import post, rule
from .helpers import run


def test_a_small_cluster_is_routine_whatever_the_rule_says() -> None:
    assert severity("critical", EventFigures(size=5, per_hour=5, sensitivity=0.95)) == "low"
    assert severity("high", EventFigures(size=30, per_hour=30, sensitivity=0.9)) == "medium"


def test_major_needs_size_speed_and_sensitivity() -> None:
    big = EventFigures(size=300, per_hour=120, sensitivity=0.85)
    assert severity("high", big) == "high"
    assert severity("medium", big) == "medium"  # the rule's severity is a ceiling
    assert severity("high", EventFigures(size=300, per_hour=120, sensitivity=0.3)) == "medium"
    huge = EventFigures(size=5000, per_hour=2000, sensitivity=0.95)
    assert severity("critical", huge) == "critical" and severity("high", huge) == "high"


def test_complaints_and_answered_events_stay_below_major() -> None:
    big = dict(size=300, per_hour=120, sensitivity=0.85)
    assert severity("critical", EventFigures(**big, appeal=True)) == "medium"
    assert severity("critical", EventFigures(**big, answered=True)) == "medium"
    assert "诉求类" in describe(EventFigures(**big, appeal=True))


def test_rumour_rule_skips_complaints_and_carries_severity_and_reasons() -> None:
    yaml_rule = ("name: r\ntype: rumour\ntimeframe: 1h\nquery_key: topic\nthreshold: 0.7\nmin_posts: 2\n"
                 "severity: critical\n")
    reasons = ["文本谣言分 0.90", "说法线索：网传、紧急扩散"]
    spread = [post(m, topic_id="t1", rumour_score=0.9, rumour_reasons=reasons, **({"repost_of": "m0"} if m else
                                                                                   {"mid": "m0"})) for m in (0, 5, 10)]
    ms = run(rule(yaml_rule), spread)
    assert [m.key for m in ms] == ["t1"]
    assert ms[0].details["severity"] == "low"  # three posts: routine
    assert ms[0].details["reasons"] == ["首帖谣言分 0.90", "首小时转发/评论 2 条", "质疑回复 0 条（0%）",
                                        "说法线索：网传、紧急扩散"]  # the cascade's figures, then the first post's cues
    assert "规模 3 条" in ms[0].details["figures"]
    appeals = [post(m, topic_id="t1", rumour_score=0.9, complaint_score=0.6, repost_of="m0") for m in (0, 5, 10)]
    assert run(rule(yaml_rule), appeals) == []
