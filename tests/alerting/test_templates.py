"""Post text in alert messages is shown, never rendered: a Markdown link written in a public post must not become
a clickable link in the duty group (WeCom, DingTalk, Feishu, webhook, email), and bare addresses are defanged."""

from __future__ import annotations

import re

from opinion_desk.alerting.channels import build_channels
from opinion_desk.alerting.channels.base import md, plain

from .conftest import DING_SECRET, FEISHU_SECRET
from .test_channels import payload

BAIT = "[官方通知：点此查看伤亡名单](http://evil.example.com/list)"
LIVE = re.compile(r"\]\(|https?://|www\.|<font color=\"warning\">x|\*\*假|evil\.example")
LINK = re.compile(r"https?://|www\.|evil\.example")  # plain text: markup is inert, addresses must not be
DESK = "http://desk.local/alerts#A1"


def hostile() -> dict:
    p = payload()
    p["alert"]["key"] = "[点我](https://evil.example.com)"
    p["alert"]["reason"] = "命中关注词：**假** <font color=\"warning\">x</font>"
    p["posts"] = [{"id": "p1", "author": "# 官方`发布`", "source": "weibo", "url": "javascript:alert(1)",
                   "text": f"{BAIT} 另见 www.evil.example.com/a 和 https://evil.example.com/b"}]
    return p


def test_md_turns_markup_into_lookalikes_and_defangs_links() -> None:
    out = md(BAIT)
    assert out == "［官方通知：点此查看伤亡名单］（hxxp://evil［.］example［.］com/list）"
    assert not LIVE.search(md("**假** <font> `x` _y_ # z > q | ~ www.a.cn"))
    assert plain("see https://a.example.cn/x?y=1 now") == "see hxxps://a[.]example[.]cn/x?y=1 now"
    assert plain("见官网 www.gov.cn。") == "见官网 www[.]gov[.]cn。"
    assert plain(None) == ""


def _assert_shown_not_live(text: str, live: re.Pattern = LIVE) -> None:
    text = text.replace(f"[打开值班台处置]({DESK})", "").replace(DESK, "")  # the desk's own link may stay
    assert "官方通知：点此查看伤亡名单" in text  # the officer still reads what the post says
    assert not live.search(text), text


def test_wecom_markdown_and_text(wecom) -> None:
    ch, _ = build_channels({"群": {"type": "wecom", "url": wecom.url},
                            "群2": {"type": "wecom", "url": wecom.url, "format": "text"}}, {})
    ch["群"].send(hostile())
    ch["群2"].send(hostile())
    md_body = wecom.received[0]["body"]["markdown"]["content"]
    _assert_shown_not_live(md_body)
    assert "[打开值班台处置](http://desk.local/alerts#A1)" in md_body  # the desk's own link stays a link
    _assert_shown_not_live(wecom.received[1]["body"]["text"]["content"], LINK)


def test_dingtalk_markdown(dingtalk) -> None:
    ch, _ = build_channels({"钉": {"type": "dingtalk", "url": dingtalk.url, "secret": DING_SECRET}}, {})
    ch["钉"].send(hostile())
    body = dingtalk.received[0]["body"]["markdown"]
    _assert_shown_not_live(body["text"], LINK)
    assert not LINK.search(body["title"])


def test_feishu_post(feishu) -> None:
    ch, _ = build_channels({"飞": {"type": "feishu", "url": feishu.url, "secret": FEISHU_SECRET}}, {})
    ch["飞"].send(hostile())
    zh = feishu.received[0]["body"]["content"]["post"]["zh_cn"]
    texts = "\n".join(el["text"] for line in zh["content"] for el in line if el["tag"] == "text")
    _assert_shown_not_live(texts, LINK)
    links = [el["href"] for line in zh["content"] for el in line if el["tag"] == "a"]
    assert links == ["http://desk.local/alerts#A1"] and not LINK.search(zh["title"])


def test_webhook_text_is_defanged(webhook) -> None:
    ch, _ = build_channels({"hook": {"type": "webhook", "url": webhook.url}}, {})
    ch["hook"].send(hostile())
    body = webhook.received[0]["body"]
    _assert_shown_not_live(body["text"], LINK)
    assert not LINK.search(body["title"])
    assert body["posts"][0]["text"].startswith(BAIT)  # the data itself is passed on as collected


def test_email_has_no_link_from_a_post(smtp_server) -> None:
    host, port, box = smtp_server
    ch, _ = build_channels({}, {"smtp_host": host, "smtp_port": port, "mail_to": ["duty@example.gov.cn"]})
    ch["email"].send(hostile())
    msg = box.messages[0]["msg"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert re.findall(r'href="([^"]*)"', html) == ["http://desk.local/alerts#A1"]
    assert "javascript:" not in html.split("原文：")[0]
    _assert_shown_not_live(text, LINK)
    _assert_shown_not_live(html, LINK)
    assert not LINK.search(msg["Subject"])


def test_delivery_errors_never_carry_the_robot_key() -> None:
    """A failed delivery's message reaches the log and the alerts page: the key, token and hook id are hidden."""
    import pytest

    from opinion_desk.errors import DeliveryError

    defs = {"w": {"type": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=wecom-key-123456"},
            "d": {"type": "dingtalk", "url": "http://127.0.0.1:9/robot/send?access_token=ding-token-123456",
                  "secret": "SECsecret-123456"},
            "f": {"type": "feishu", "url": "http://127.0.0.1:9/open-apis/bot/v2/hook/feishu-hook-id-123456"},
            "h": {"type": "webhook", "url": "http://127.0.0.1:9/hook?token=hook-token-123456"}}
    ch, _ = build_channels(defs, {})
    for name in defs:
        with pytest.raises(DeliveryError) as e:
            ch[name].send(payload())
        text = str(e.value)
        assert "127.0.0.1" in text and "123456" not in text, text
