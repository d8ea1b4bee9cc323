"""The publishers against stand-ins that check the documented request formats and answer the real shapes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from opinion_desk.incidents.publish import PublishError
from opinion_desk.incidents.publish.wechat import WeChatPublisher
from opinion_desk.incidents.publish.weibo import WeiboPublisher

D = SimpleNamespace(weibo_text="#青山发布#【通报】积水已排除", wechat_title="通报", wechat_digest="积水已排除",
                    wechat_body="<p>积水已排除</p>")


def test_weibo_share_adds_the_safe_url(weibo):
    pub = WeiboPublisher(weibo.url, weibo.token, "https://www.qingshan.gov.cn/")
    r = pub.publish(D)
    assert r.remote_id == weibo.statuses[0]["idstr"] and r.url.endswith(f"/{weibo.uid}/{r.remote_id}")
    assert weibo.statuses[0]["text"].endswith("https://www.qingshan.gov.cn/")
    req = weibo.requests[-1]
    assert req["content_type"].startswith("application/x-www-form-urlencoded")
    with pytest.raises(PublishError) as e:  # the same text again
        pub.publish(D)
    assert e.value.code == 20019


def test_weibo_errors_carry_the_code(weibo):
    with pytest.raises(PublishError) as e:
        WeiboPublisher(weibo.url, "wrong", "https://www.qingshan.gov.cn/").publish(D)
    assert e.value.code == 21332 and "invalid_access_token" in str(e.value)
    with pytest.raises(PublishError) as e:  # a URL outside the safe domain
        WeiboPublisher(weibo.url, weibo.token, "https://elsewhere.example.com/").publish(D)
    assert e.value.code == 10017
    with pytest.raises(PublishError, match="safe_url"):
        WeiboPublisher(weibo.url, weibo.token, "").publish(D)


def test_wechat_draft_submit_poll(wechat):
    pub = WeChatPublisher(wechat.url, wechat.appid, wechat.secret, "融媒体中心", wechat.thumb, poll_seconds=0)
    r = pub.publish(D)
    assert r.url.startswith("https://mp.weixin.qq.com/s/") and wechat.published[0]["title"] == "通报"
    paths = [q["path"] for q in wechat.requests]
    assert paths == ["/cgi-bin/token", "/cgi-bin/draft/add", "/cgi-bin/freepublish/submit",
                     "/cgi-bin/freepublish/get", "/cgi-bin/freepublish/get"]
    # an expired token is fetched again once
    wechat.expire_tokens()
    pub.publish(D)
    assert [q["path"] for q in wechat.requests].count("/cgi-bin/token") == 2


def test_wechat_errors(wechat):
    with pytest.raises(PublishError) as e:
        WeChatPublisher(wechat.url, wechat.appid, "bad", thumb_media_id=wechat.thumb).publish(D)
    assert e.value.code == 40125
    with pytest.raises(PublishError) as e:
        WeChatPublisher(wechat.url, wechat.appid, wechat.secret, thumb_media_id="nope").publish(D)
    assert e.value.code == 40007
    with pytest.raises(PublishError, match="thumb_media_id"):
        WeChatPublisher(wechat.url, wechat.appid, wechat.secret).publish(D)
