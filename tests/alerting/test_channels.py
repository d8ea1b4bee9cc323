"""Each channel against its stand-in: the documented body, the signature, the real replies and error codes."""

from __future__ import annotations

import pytest

from opinion_desk.alerting.channels import CHANNEL_TYPES, build_channels
from opinion_desk.alerting.channels import dingtalk as ding_mod
from opinion_desk.alerting.channels import feishu as feishu_mod
from opinion_desk.errors import DeliveryError

from .conftest import DING_SECRET, FEISHU_SECRET


def payload(kind: str = "alert") -> dict:
    alert = {"id": "A20240501-083012-3f9a1c", "rule": "重点关注词", "rule_type": "keyword", "severity": "high",
             "severity_zh": "重大", "key": "爆炸", "status": "open", "status_zh": "未平息",
             "reason": "命中关注词：爆炸", "first_match": "2024-05-01T00:30:12+00:00",
             "last_match": "2024-05-01T00:30:12+00:00", "resolved_at": "2024-05-01T02:00:00+00:00",
             "count": 1, "duty": {"check": "核实现场伤亡", "owner": "应急管理局"}, "details": {}, "post_ids": ["p1"]}
    posts = [{"id": "p1", "author": "热心网友", "source": "weibo", "text": "化工厂发生爆炸，浓烟很大", "url": "https://weibo.com/1"}]
    return {"alert": alert, "kind": kind, "posts": posts, "desk_url": "http://desk.local/alerts#A1"}


def test_registry_has_every_channel() -> None:
    assert set(CHANNEL_TYPES) == {"dashboard", "email", "wecom", "dingtalk", "feishu", "webhook"}


def test_bad_definitions_are_named() -> None:
    channels, problems = build_channels({"x": {"type": "pager"}, "y": {"type": "wecom"}}, {})
    assert "dashboard" in channels and "x" not in channels
    assert any("channel 'x'" in p and "'type'" in p for p in problems)
    assert any("channel 'y'" in p and "url" in p for p in problems)


def test_dingtalk_sign_matches_the_documented_vector() -> None:
    assert ding_mod.sign("xxx", 1720063700033) == "IHDTBKzS3wZ2L1jwzs7iZM2suWC89V%2BVfuN1kTnAMSE%3D"


def test_feishu_sign_matches_the_documented_vector_and_not_dingtalks() -> None:
    s = feishu_mod.sign("test-secret", 1599360473)
    assert s == "wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY="
    assert s != "bwOSU6XMEexAHKuyN31krxa2lbNEg4trOnn0f+E2pPs="


def test_wecom_markdown_is_accepted(wecom) -> None:
    ch, _ = build_channels({"群": {"type": "wecom", "url": wecom.url}}, {})
    ch["群"].send(payload())
    body = wecom.received[0]["body"]
    assert body["msgtype"] == "markdown"
    assert "重点关注词" in body["markdown"]["content"] and "核实现场伤亡" in body["markdown"]["content"]


def test_wecom_text_with_mentions(wecom) -> None:
    ch, _ = build_channels({"群": {"type": "wecom", "url": wecom.url, "mentioned_mobile_list": [13800001111]}}, {})
    ch["群"].send(payload())
    text = wecom.received[0]["body"]["text"]
    assert text["mentioned_mobile_list"] == ["13800001111"] and "【重大预警】" in text["content"]


def test_wecom_rate_limit_is_retryable_and_bad_key_is_not(wecom) -> None:
    ch, _ = build_channels({"群": {"type": "wecom", "url": wecom.url}, "坏": {"type": "wecom", "url": wecom.url + "x"}}, {})
    wecom.fail_next.append({"errcode": 45009, "errmsg": "api freq out of limit, hint: [1], from ip: 127.0.0.1"})
    with pytest.raises(DeliveryError) as e:
        ch["群"].send(payload())
    assert e.value.retryable and "45009" in str(e.value)
    with pytest.raises(DeliveryError) as e:
        ch["坏"].send(payload())
    assert not e.value.retryable and "93000" in str(e.value)


def test_wecom_refuses_the_21st_message_of_a_minute_as_retryable(wecom) -> None:
    """群机器人: at most 20 messages a minute per robot; the stand-in refuses the 21st with 45009, as WeCom does."""
    ch, _ = build_channels({"群": {"type": "wecom", "url": wecom.url}}, {})
    for _ in range(20):
        ch["群"].send(payload())
    with pytest.raises(DeliveryError) as e:
        ch["群"].send(payload())
    assert e.value.retryable and "45009" in str(e.value) and len(wecom.received) == 20


def test_dingtalk_signed_markdown_is_accepted(dingtalk) -> None:
    ch, _ = build_channels({"钉": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET,
                                   "at_mobiles": ["13800001111"]}}, {})
    ch["钉"].send(payload("resolved"))
    rec = dingtalk.received[0]
    assert rec["body"]["msgtype"] == "markdown" and rec["body"]["markdown"]["title"].startswith("【舆情平息】")
    assert rec["body"]["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}
    assert "舆情平息" in rec["body"]["markdown"]["text"]


def test_dingtalk_wrong_secret_is_310000_sign_not_match(dingtalk) -> None:
    ch, _ = build_channels({"钉": {"type": "dingtalk", "url": dingtalk.url, "secret": "SECwrong"}}, {})
    with pytest.raises(DeliveryError) as e:
        ch["钉"].send(payload())
    assert "310000" in str(e.value) and "签名不匹配" in str(e.value) and not e.value.retryable


def test_dingtalk_too_fast_is_retryable(dingtalk) -> None:
    ch, _ = build_channels({"钉": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET}}, {})
    dingtalk.fail_next.append({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
    with pytest.raises(DeliveryError) as e:
        ch["钉"].send(payload())
    assert e.value.retryable


def test_feishu_signed_post_is_accepted(feishu) -> None:
    ch, _ = build_channels({"飞": {"type": "feishu", "url": feishu.url, "secret": FEISHU_SECRET}}, {})
    ch["飞"].send(payload())
    body = feishu.received[0]["body"]
    assert body["msg_type"] == "post" and isinstance(body["timestamp"], str)
    zh = body["content"]["post"]["zh_cn"]
    assert zh["title"].startswith("【重大预警】") and zh["content"][-1][0]["tag"] == "a"


def test_feishu_wrong_secret_is_19021(feishu) -> None:
    ch, _ = build_channels({"飞": {"type": "feishu", "url": feishu.url, "secret": "nope"}}, {})
    with pytest.raises(DeliveryError) as e:
        ch["飞"].send(payload())
    assert "19021" in str(e.value) and not e.value.retryable


def test_webhook_posts_json_with_signature(webhook) -> None:
    import hashlib
    import hmac

    ch, _ = build_channels({"hook": {"type": "webhook", "url": webhook.url, "secret": "s3"}}, {})
    ch["hook"].send(payload())
    rec = webhook.received[0]
    assert rec["body"]["event"] == "alert" and rec["body"]["alert"]["rule"] == "重点关注词"
    assert rec["headers"]["X-Desk-Signature"] == "sha256=" + hmac.new(b"s3", rec["raw"], hashlib.sha256).hexdigest()


def test_webhook_unreachable_is_retryable() -> None:
    ch, _ = build_channels({"hook": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}, {})
    with pytest.raises(DeliveryError) as e:
        ch["hook"].send(payload())
    assert e.value.retryable


def test_email_html_and_text_in_chinese(smtp_server) -> None:
    host, port, box = smtp_server
    ch, _ = build_channels({}, {"smtp_host": host, "smtp_port": port, "mail_to": ["duty@example.gov.cn"],
                                "mail_from": "desk@example.gov.cn"})
    ch["email"].send(payload())
    m = box.messages[0]
    assert m["to"] == ["duty@example.gov.cn"]
    msg = m["msg"]
    assert msg["Subject"] == "【重大预警】重点关注词「爆炸」"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "命中关注词：爆炸" in text and "核实现场伤亡" in text
    assert "<h2" in html and "应急管理局" in html


def test_email_unreachable_server_is_retryable() -> None:
    ch, _ = build_channels({}, {"smtp_host": "127.0.0.1", "smtp_port": 9, "mail_to": ["a@b.cn"]})
    with pytest.raises(DeliveryError) as e:
        ch["email"].send(payload())
    assert e.value.retryable
