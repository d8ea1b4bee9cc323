"""The publishers against strict stand-ins (tests/incidents/standins.py) that accept what the documented APIs
accept and refuse what they refuse, with the platforms' codes; each refusal reaches the officer in Chinese."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from opinion_desk.incidents.publish import PublishContext, PublishError, build
from opinion_desk.incidents.publish.wechat import WeChatPublisher
from opinion_desk.incidents.publish.weibo import WeiboPublisher, share_text, weibo_length
from tests.incidents.standins import weibo_count

LINK = "https://www.qingshan.gov.cn/desk/statements/7-abc"
CTX = PublishContext(link=LINK, rip="203.0.113.7")
D = SimpleNamespace(id=7, weibo_text="#青山发布#【通报】积水已排除 https://www.qingshan.gov.cn/xxgk/", wechat_title="通报",
                    wechat_digest="积水已排除", wechat_body="<p>积水已排除</p>")
LONG = SimpleNamespace(id=8, wechat_title="关于人民路积水情况的通报", wechat_digest="", weibo_text="",
                       wechat_body="<p>" + "11月24日，青山县人民路因强降雨出现积水，经排查无人员伤亡。#人民路积水# " * 12 + "</p>")


def wb(weibo, **kw) -> WeiboPublisher:
    return WeiboPublisher(weibo.url, kw.pop("token", weibo.token), "qingshan.gov.cn", **kw)


def wx(wechat, **kw) -> WeChatPublisher:
    return WeChatPublisher(wechat.url, wechat.appid, kw.pop("secret", wechat.secret), "融媒体中心", wechat.thumb,
                           poll_seconds=0, **kw)


# -- counting as Weibo counts ---------------------------------------------------------------------------------
def test_weibo_length_counts_halfwidth_as_half_and_a_link_as_ten():
    assert weibo_length("汉" * 140) == 140 and weibo_count("汉" * 140) == 140
    assert weibo_length("ab" * 10) == 10 and weibo_length("a") == 1
    assert weibo_length(f"汉 {LINK}") == 1 + 1 + 10  # the space is half, the link 20 halves
    assert weibo_length("x " + "https://example.com/" + "a" * 300) == weibo_count("x " + "https://example.com/" + "a" * 300)


def test_share_text_is_a_summary_within_140_without_hashtags_ending_with_the_link():
    text = share_text(LONG, LINK)
    assert weibo_length(text) <= 140 and weibo_count(text) <= 140
    assert "#" not in text and text.startswith("【关于人民路积水情况的通报】11月24日") and text.endswith(f"全文：{LINK}")
    assert "……" in text
    assert share_text(D, LINK) == f"【通报】积水已排除 全文：{LINK}"


# -- Weibo statuses/share: what the platform refuses, with its code and a Chinese message ----------------------
def test_weibo_share_publishes_and_is_read_back(weibo):
    pub = wb(weibo)
    r = pub.publish(LONG, CTX)
    st = weibo.statuses[0]
    assert r.remote_id == st["idstr"] and r.url == f"https://weibo.com/{weibo.uid}/{r.remote_id}"
    assert st["rip"] == "203.0.113.7" and LINK in st["text"] and r.details["length"] <= 140
    assert weibo.requests[-1]["content_type"].startswith("application/x-www-form-urlencoded")
    assert pub.check_live(r.remote_id, r.url, {}).state == "live"
    weibo.delete(r.remote_id)
    gone = pub.check_live(r.remote_id, r.url, {})
    assert gone.state == "gone" and "已删除" in gone.how
    with pytest.raises(PublishError) as e:  # the same text again
        pub.publish(LONG, CTX)
    assert e.value.code == 20019 and "重复" in str(e.value)


@pytest.mark.parametrize("status, rip, code, zh", [
    ("汉" * 130 + f" {LINK}", "203.0.113.7", 20012, "超过 140 字"),  # 260 + 1 + 20 halves: 141 汉字
    (f"#青山发布# 积水已排除 {LINK}", "203.0.113.7", 10017, "#话题#"),
    (f"积水已排除 {LINK}", "", 10016, "rip"),
    ("积水已排除 https://elsewhere.example.com/a", "203.0.113.7", 10017, "安全域名"),
])
def test_weibo_share_refusals(weibo, status, rip, code, zh):
    with pytest.raises(PublishError) as e:
        wb(weibo).share(status, rip)
    assert e.value.code == code and zh in str(e.value) and str(e.value).startswith("微博发布失败")
    assert weibo.statuses == []


def test_weibo_141_hanzi_is_refused_and_140_accepted(weibo):
    body140 = "汉" * (140 - 11)  # + a space (half) + the link (10), rounded up: 140
    assert weibo_count(f"{body140} {LINK}") == 140
    wb(weibo).share(f"{body140} {LINK}", "203.0.113.7")
    with pytest.raises(PublishError) as e:
        wb(weibo).share(f"汉{body140} {LINK}", "203.0.113.7")  # 141
    assert e.value.code == 20012 and "超过 140 字" in str(e.value)


def test_weibo_expired_or_missing_token(weibo):
    weibo.expire_token()
    with pytest.raises(PublishError) as e:
        wb(weibo).publish(D, CTX)
    assert e.value.code == 21327 and "授权已过期" in str(e.value) and "access_token" in e.value.detail
    check = wb(weibo).check_account(CTX)
    assert not check.ok and "授权已过期" in check.problems[0]
    with pytest.raises(PublishError) as e:
        WeiboPublisher(weibo.url, "", "qingshan.gov.cn").publish(D, CTX)
    assert str(e.value) == "微博账号未接入：请手工发布后登记链接" and e.value.not_configured
    assert e.value.detail == "[incidents.weibo] access_token 未设置"


def test_weibo_preflight_names_link_and_rip(weibo):
    ok = wb(weibo).check_account(CTX)
    assert ok.ok and ok.summary.startswith("授权有效")
    bad = wb(weibo).check_account(PublishContext(link="http://127.0.0.1:5000/statements/1-x", rip=""))
    assert not bad.ok and any("安全域名" in p for p in bad.problems) and any("rip" in p for p in bad.problems)
    assert "public_base_url" in bad.detail


# -- WeChat: draft/add then mass send to every follower ---------------------------------------------------------
def test_wechat_drafts_then_mass_sends_to_all_followers(wechat):
    pub = wx(wechat)
    r = pub.publish(D, CTX)
    paths = [q["path"] for q in wechat.requests]
    assert paths == ["/cgi-bin/token", "/cgi-bin/draft/add", "/cgi-bin/message/mass/sendall"]
    import json

    body = json.loads(wechat.requests[-1]["raw"])
    assert body["filter"] == {"is_to_all": True} and body["msgtype"] == "mpnews"
    assert body["mpnews"]["media_id"] == r.details["media_id"] and body["send_ignore_reprint"] == 0
    draft = json.loads(wechat.requests[1]["raw"])["articles"][0]
    assert draft["content_source_url"] == LINK and draft["thumb_media_id"] == wechat.thumb
    assert r.remote_id == r.details["msg_id"] and wechat.mass[r.remote_id]["status"] == "SENDING"
    assert pub.check_live(r.remote_id, "", r.details).state == "unknown"  # still sending
    live = pub.check_live(r.remote_id, "", r.details)
    assert live.state == "live" and "群发成功" in live.how
    wechat.delete_mass(r.remote_id)
    assert pub.check_live(r.remote_id, "", r.details).state == "gone"


def test_wechat_exhausted_quota_and_repeat(wechat):
    pub = wx(wechat)
    first = pub.publish(D, CTX)
    # the same draft again: the platform knows the clientmsgid (45065) and names the earlier job
    again = pub.publish(D, CTX)
    assert again.remote_id == first.remote_id and again.details["repeat"]
    with pytest.raises(PublishError) as e:  # another answer the same day: 订阅号 one mass send a day
        pub.publish(SimpleNamespace(**{**vars(D), "id": 9}), CTX)
    assert e.value.code == 45028 and "群发次数已用完" in str(e.value)


def test_wechat_expired_token_is_refused_then_fetched_again(wechat):
    pub = wx(wechat)
    pub.token()
    wechat.expire_tokens()
    r = pub.publish(D, CTX)  # 42001 from draft/add, a new token, then through
    assert r.remote_id
    answers = [q["path"] for q in wechat.requests]
    assert answers.count("/cgi-bin/token") == 2 and answers.count("/cgi-bin/draft/add") == 2
    # the code and the Chinese message the platform's answer maps to
    e = WeChatPublisher.error_for({"errcode": 42001, "errmsg": "access_token expired"})
    assert e.code == 42001 and "凭证已过期" in str(e)
    # a token that cannot be fetched again (wrong secret): refused with the platform's code, in Chinese
    with pytest.raises(PublishError) as err:
        wx(wechat, secret="bad").publish(D, CTX)
    assert err.value.code == 40125 and "AppSecret 无效" in str(err.value) and "secret" in err.value.detail


def test_wechat_freepublish_when_chosen(wechat):
    pub = wx(wechat, publish_mode="freepublish")
    r = pub.publish(D, CTX)
    assert r.url.startswith(wechat.url + "/s/") and r.details["publish_mode"] == "freepublish"
    assert "/cgi-bin/message/mass/sendall" not in [q["path"] for q in wechat.requests]
    assert pub.check_live(r.remote_id, r.url, r.details).state == "live"
    assert pub.quota() is None and "不推送给粉丝" in pub.check_account(CTX).summary


def test_wechat_quota_and_not_configured(wechat):
    used = {"n": 0}
    pub = wx(wechat, mass_sends=lambda since: used["n"])
    assert pub.quota()["text"] == "订阅号今日群发剩余 1/1 次" and pub.check_account(CTX).ok
    used["n"] = 1
    check = pub.check_account(CTX)
    assert not check.ok and check.quota["left"] == 0 and "群发剩余 0/1" in check.problems[0]
    # one token for every check and publication while it lives (each cgi-bin/token call replaces the last)
    assert [q["path"] for q in wechat.requests].count("/cgi-bin/token") == 1
    svc = wx(wechat, account_type="service", mass_sends=lambda since: 1)
    assert svc.quota()["text"] == "服务号本月群发剩余 3/4 次"
    with pytest.raises(PublishError) as e:
        WeChatPublisher(wechat.url, "", "").publish(D, CTX)
    assert str(e.value) == "微信公众号未接入：请手工发布后登记链接" and "appid" in e.value.detail


def test_demo_only_when_chosen():
    cfg = {"desk": {"demo": False}, "incidents": {"publisher": ""}, "incidents.weibo": {
        "base_url": "http://127.0.0.1:9", "access_token": "", "safe_url": "", "account": ""}}
    assert build(cfg, "weibo").mode == "api"  # production: never the 演示 silently
    cfg["desk"]["demo"] = True
    p = build(cfg, "weibo")
    r = p.publish(D, CTX)
    assert p.mode == "demo" and r.mode == "demo" and r.to_dict()["label"] == "演示" and r.remote_id.startswith("DEMO-")
    cfg["desk"]["demo"], cfg["incidents"]["publisher"] = False, "demo"
    assert build(cfg, "wechat").mode == "demo"
    cfg["desk"]["demo"], cfg["incidents"]["publisher"] = True, "platform"
    assert build(cfg, "weibo").mode == "api"


def test_weibo_picture_is_optional_and_checked(weibo, tmp_path):
    png = tmp_path / "banner.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    r = wb(weibo, pic_file=str(png)).publish(D, CTX)
    st = weibo.statuses[0]
    assert st["idstr"] == r.remote_id and st["pic_bytes"] == 208 and st["original_pic"]
    assert weibo.requests[-1]["content_type"].startswith("multipart/form-data")
    # the platform refuses what is not JPEG/GIF/PNG (20005); the desk says so before sending
    bmp = tmp_path / "banner.bmp"
    bmp.write_bytes(b"BM" + b"\x00" * 50)
    with pytest.raises(PublishError) as e:
        wb(weibo).share(f"积水已排除 {LINK}", "203.0.113.7", ("banner.bmp", bmp.read_bytes(), "image/bmp"))
    assert e.value.code == 20005 and "JPEG、GIF 或 PNG" in str(e.value)
    check = wb(weibo, pic_file=str(bmp)).check_account(CTX)
    assert not check.ok and "配图只能是 JPEG、GIF 或 PNG" in check.problems
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(PublishError) as e:
        wb(weibo).share(f"积水已排除 {LINK} 2", "203.0.113.7", ("big.jpg", big.read_bytes(), "image/jpeg"))
    assert e.value.code == 20006 and "5 MB" in str(e.value)


def test_a_recorded_weibo_link_names_its_post():
    from opinion_desk.incidents.publish.manual import remote_id

    assert remote_id("weibo", "https://weibo.com/1642591402/z0JH2lOMb") == "3501756485200075"  # bid -> mid
    assert remote_id("weibo", "https://m.weibo.cn/status/4900000000000042") == "4900000000000042"
    assert remote_id("weibo", "https://m.weibo.cn/detail/4900000000000042?from=x") == "4900000000000042"
    assert remote_id("wechat", "https://mp.weixin.qq.com/s/abc") == "" and remote_id("weibo", "https://x.cn/") == ""


def test_cli_checks_the_accounts(weibo, wechat, tmp_path):
    from click.testing import CliRunner

    from opinion_desk.cli import main as cli

    cfg = tmp_path / "desk.toml"
    cfg.write_text(f"""
[desk]
data_dir = "{tmp_path / 'var'}"
[incidents]
public_base_url = "https://www.qingshan.gov.cn/desk"
[incidents.weibo]
base_url = "{weibo.url}"
access_token = "{weibo.token}"
safe_domain = "qingshan.gov.cn"
rip = "203.0.113.7"
[incidents.wechat]
base_url = "{wechat.url}"
appid = "{wechat.appid}"
secret = "{wechat.secret}"
thumb_media_id = "{wechat.thumb}"
account_type = "service"
""", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "accounts"])
    assert r.exit_code == 0, r.output
    assert "✔ 微博：授权有效" in r.output and "✔ 微信公众号：接口凭证有效；服务号本月群发剩余 4/4 次" in r.output
    weibo.expire_token()
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "accounts"])
    assert r.exit_code == 1 and "✘ 微博" in r.output and "微博授权已过期，请管理员重新授权" in r.output
    assert CliRunner().invoke(cli, ["incidents", "accounts", "--help"]).exit_code == 0


def test_every_registered_publisher_follows_the_contract():
    import inspect

    from opinion_desk.incidents.publish import PUBLISHERS, publisher_class

    for kind in PUBLISHERS:
        cls = publisher_class(kind)
        assert cls.mode in ("api", "demo")
        for name, params in (("from_config", ["cfg", "channel", "mass_sends"]), ("publish", ["self", "draft", "ctx"]),
                             ("check_account", ["self", "ctx"]),
                             ("check_live", ["self", "remote_id", "url", "details"])):
            assert list(inspect.signature(getattr(cls, name)).parameters)[:len(params)] == params, (kind, name)


def test_a_pasted_link_cannot_reach_into_the_office_network(wechat):
    from opinion_desk.incidents.publish import manual

    wechat.published.append({"url": f"{wechat.url}/s/p1", "title": "通报", "content": "<p>积水已排除</p>"})
    snap = manual.fetch(f"{wechat.url}/s/p1")
    assert snap["status"] is None and "内网地址" in snap["error"] and wechat.requests == []
    assert "内网地址" in manual.refused_host("http://localhost:9200/_cat/indices", False)
    assert "内网地址" in manual.refused_host("http://169.254.169.254/latest/meta-data", False)
    snap = manual.fetch(f"{wechat.url}/s/p1", allow_private=True)  # [incidents] snapshot_private_hosts
    assert snap["status"] == 200 and snap["title"] == "通报" and "积水已排除" in snap["text"]
    state, _ = manual.check_live("wechat", f"{wechat.url}/s/p1", "", allow_private=True)
    assert state.state == "live"
    wechat.deleted.add(f"{wechat.url}/s/p1")
    assert manual.check_live("wechat", f"{wechat.url}/s/p1", "", allow_private=True)[0].state == "gone"
