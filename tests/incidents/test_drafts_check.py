"""One draft -> Weibo post and WeChat article; the own-draft check against official statements and rumours."""

from __future__ import annotations

from opinion_desk.incidents.check import check_draft, facts
from opinion_desk.incidents.drafts import DIGEST_MAX, WEIBO_MAX, compose, weibo_summary


def test_compose_both_forms():
    c = compose("关于积水的通报", "第一段<b>加粗</b>\n\n第二段", ["青山发布", "#积水#"], "https://www.qingshan.gov.cn/a")
    assert c.weibo_text == "#青山发布# #积水#【关于积水的通报】第一段<b>加粗</b> 第二段 https://www.qingshan.gov.cn/a"
    assert c.wechat_body == "<p>第一段&lt;b&gt;加粗&lt;/b&gt;</p><p>第二段</p>"  # text never becomes markup
    assert c.wechat_digest.startswith("第一段") and not c.problems


def test_long_text_is_cut_to_the_limits_and_said_so():
    c = compose("标题", "长" * 3000, ["话题"], "https://x.gov.cn/")
    assert len(c.weibo_text) == WEIBO_MAX and c.weibo_text.endswith("https://x.gov.cn/")
    assert any("2000" in p for p in c.problems)
    assert len(c.wechat_digest) == DIGEST_MAX and len(weibo_summary(c.weibo_text)) == 140
    assert compose("", "").problems == ["标题不能为空", "正文不能为空"]


def test_facts_and_conflicts():
    assert facts("5月3日14时，3人受伤，12辆车受损") == {"日期": {"5月3日"}, "人": {"3"}, "辆": {"12"}}
    official = [{"id": "o1", "author": "青山县应急管理局", "text": "造成2人受伤，12辆车受损",
                 "created_at": "2026-11-24T02:00:00+00:00"}]
    rumours = [{"id": "r1", "author": "某网友", "text": "网传已有3人死亡"}]
    res = check_draft("事故造成3人受伤，12辆车受损", official, rumours)
    kinds = {(f.kind, f.unit) for f in res.findings}
    assert kinds == {("conflict", "人"), ("rumour", "人")}
    conflict = res.conflicts[0]
    assert conflict.draft_values == ["3"] and conflict.other_values == ["2"]
    assert "青山县应急管理局" in conflict.message and "11-24 10:00" in conflict.message
    assert check_draft("造成2人受伤", official, []).to_dict()["ok"] is True
