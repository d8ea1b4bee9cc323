"""A rule's own alert_subject / alert_text reach every channel in place of the default title and reason, and
post text pulled into them (``{samples[0].text}``) is escaped and defanged exactly like the default text."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

from opinion_desk.alerting.channels import build_channels
from opinion_desk.detection import message
from opinion_desk.detection.loader import parse_rule

from .conftest import DING_SECRET, FEISHU_SECRET
from .test_channels import payload

BAIT = "[官方通知：点此查看伤亡名单](http://evil.example.com/list)"
LINK = re.compile(r"https?://evil|www\.|evil\.example|\]\(http")
RULE = ("name: 重点关注词\ntype: keyword\nfilter: {keywords: [爆炸]}\n"
        "alert_subject: '【速核】{key}：{samples[0].author}'\n"
        "alert_text: \"{key} 第 {count} 次，{time}\\n原文：{0}\"\nalert_text_args: ['samples[0].text']\n")


def rendered() -> dict:
    p = payload()
    spec = parse_rule(RULE, "rules/kw.yaml")
    samples = [{"id": "p1", "author": "网友[点我](https://evil.example.com)", "text": BAIT + " www.evil.example.com/a"}]
    p["alert"]["details"] = {"samples": samples,
                             "message": message.for_alert(spec.message, p["alert"], samples, timezone(timedelta(hours=8)))}
    p["posts"] = samples
    return p


def test_message_is_rendered_in_the_desk_zone() -> None:
    msg = rendered()["alert"]["details"]["message"]
    assert msg["subject"] == "【速核】爆炸：网友[点我](https://evil.example.com)"
    assert msg["text"].startswith("爆炸 第 1 次，2024-05-01 08:30\n原文：[官方通知")


def test_every_channel_shows_the_rule_text_escaped(wecom, dingtalk, feishu, webhook, smtp_server) -> None:
    host, port, box = smtp_server
    ch, _ = build_channels({"w": {"type": "wecom", "url": wecom.url},
                            "d": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET},
                            "f": {"type": "feishu", "url": feishu.url, "secret": FEISHU_SECRET},
                            "h": {"type": "webhook", "url": webhook.url}},
                           {"smtp_host": host, "smtp_port": port, "mail_to": ["duty@example.gov.cn"]})
    for name in ("w", "d", "f", "h", "email"):
        ch[name].send(rendered())
    texts = {
        "wecom": wecom.received[0]["body"]["markdown"]["content"],
        "dingtalk": dingtalk.received[0]["body"]["markdown"]["text"] + dingtalk.received[0]["body"]["markdown"]["title"],
        "feishu": str(feishu.received[0]["body"]["content"]["post"]["zh_cn"]),
        "webhook": webhook.received[0]["body"]["text"] + webhook.received[0]["body"]["title"],
        "email": box.messages[0]["msg"].get_body(("plain",)).get_content() + box.messages[0]["msg"]["Subject"],
    }
    for name, text in texts.items():
        text = text.replace("http://desk.local/alerts#A1", "")
        assert "速核" in text and "第 1 次" in text and "官方通知：点此查看伤亡名单" in text, name
        assert "命中关注词" not in text, name  # the rule's text replaces the default reason
        assert not LINK.search(text), (name, text)
