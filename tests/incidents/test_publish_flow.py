"""Publishing through the API: the 演示 publisher takes an incident to 核验 and 已办结 without any account; with no
account connected the officer records a hand-made publication (fetched, snapshotted, verified) and can close;
the pre-flight check; a later re-check raises 官方回应失效 when an answer disappears."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opinion_desk.state.alerts import Alert
from opinion_desk.state.incidents import Publication
from tests.incidents.conftest import PUBLIC_BASE
from tests.incidents.test_flow import API, open_incident


def approved(duty, boss, posts) -> dict:
    inc = open_incident(duty, posts)
    iid = inc["id"]
    duty.post(f"{API}/{iid}/acknowledge", json={})
    r = duty.post(f"{API}/{iid}/drafts", json={"title": "关于人民路积水情况的通报",
                                               "text": "11月24日，人民路因强降雨积水，无人员伤亡，积水已排除。",
                                               "topics": ["青山发布"]})
    assert r.status_code == 201, r.get_json()
    r = boss.post(f"{API}/{iid}/approve", json={"comment": "同意"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.fixture
def demo_config(app_config):
    app_config["desk"]["demo"] = True  # `make run` = `opinion-desk run --demo`: no account, no public address
    app_config["incidents"]["public_base_url"] = ""
    app_config["incidents.weibo"]["access_token"] = ""
    app_config["incidents.wechat"]["appid"] = ""
    return app_config


def test_demo_publisher_walks_to_verified_and_closed(demo_config, app, login_as, flood_posts, weibo, wechat):
    duty, boss = login_as("duty"), login_as("approver")
    pre = duty.get(f"{API}/publishing/preflight").get_json()
    assert pre["demo"] and pre["ok"] and all("演示" in a["summary"] for a in pre["accounts"])
    inc = approved(duty, boss, flood_posts)
    r = duty.post(f"{API}/{inc['id']}/publish", json={"version": inc["version"]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "published" and body["verified_at"]  # the 演示 counts as live at once
    assert all(res["mode"] == "demo" and res["label"] == "演示" for res in body["results"].values())
    assert {p["mode"] for p in body["publications"]} == {"demo"}
    assert weibo.requests == [] and wechat.requests == []  # nothing left the desk
    audit = [e for e in body["timeline"] if e["action"] in ("publication", "verify")]
    assert len(audit) == 4 and all(e["payload"].get("label") == "演示" and e["action_zh"].endswith("（演示）")
                                   for e in audit)
    url = body["publications"][0]["url"]
    assert url.startswith("/statements/")  # on the desk itself: a newcomer can open it
    page = app.test_client().get(url)
    assert page.status_code == 200 and "【演示】" in page.get_data(as_text=True)
    assert "积水已排除" in page.get_data(as_text=True)
    r = duty.post(f"{API}/{inc['id']}/close", json={"version": body["version"]})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"


@pytest.fixture
def no_accounts(app_config):
    app_config["incidents.weibo"]["access_token"] = ""
    app_config["incidents.wechat"]["appid"] = ""
    return app_config


def test_manual_publication_is_snapshotted_verified_and_closable(no_accounts, app, login_as, flood_posts, weibo,
                                                                 wechat):
    duty, boss = login_as("duty"), login_as("approver")
    pre = duty.get(f"{API}/publishing/preflight").get_json()
    assert not pre["ok"] and [a["summary"] for a in pre["accounts"]] == [
        "微博账号未接入：请手工发布后登记链接", "微信公众号未接入：请手工发布后登记链接"]
    assert "[incidents.weibo] access_token" in pre["accounts"][0]["detail"]
    inc = approved(duty, boss, flood_posts)
    iid = inc["id"]
    r = duty.post(f"{API}/{iid}/publish", json={})
    assert r.status_code == 400
    err = r.get_json()
    assert "微博账号未接入：请手工发布后登记链接" in err["error"] and "[incidents" not in err["error"]
    assert err["results"]["weibo"]["detail"] == "[incidents.weibo] access_token 未设置"

    # the office published by hand: a Weibo post and a WeChat article the public can read
    weibo.statuses.append({"idstr": "4900000000000099", "text": "【关于人民路积水情况的通报】积水已排除"})
    wb_url = f"{weibo.url}/{weibo.uid}/4900000000000099"
    wechat.published.append({"url": f"{wechat.url}/s/hand1", "title": "关于人民路积水情况的通报",
                             "content": "<p>积水已排除</p>"})
    r = duty.post(f"{API}/{iid}/publications/manual", json={"channel": "weibo", "url": wb_url,
                                                             "published_by": "宣传科张三",
                                                             "published_at": "2026-11-24T10:30"})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert d["status"] == "approved" and not d["manual"]["published"]  # one channel of two
    assert d["manual"]["snapshot"]["status"] == 200 and len(d["manual"]["snapshot"]["sha256"]) == 64
    # a link that cannot be fetched is recorded, not fatal
    r = duty.post(f"{API}/{iid}/publications/manual", json={"channel": "wechat", "url": "http://127.0.0.1:9/s/x"})
    assert r.status_code == 201 and "抓取失败" in r.get_json()["manual"]["snapshot"]["error"]
    assert r.get_json()["status"] == "published"  # both channels out: 已发布
    r = duty.post(f"{API}/{iid}/publications/manual", json={"channel": "wechat", "url": f"{wechat.url}/s/hand1",
                                                             "published_by": "宣传科张三"})
    d = r.get_json()
    assert d["verified_at"]  # both live: the fetched pages
    pubs = [p for p in d["publications"] if p["mode"] == "manual"]
    assert {p["published_by"] for p in pubs} == {"宣传科张三", "值班员小王"}
    assert d["published_at"].startswith("2026-11-24T02:30")  # 10:30 Beijing time, typed without a zone
    r = duty.post(f"{API}/{iid}/close", json={"version": d["version"]})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    # later the article is deleted: WeChat's 已删除 page, fetched back, raises 官方回应失效 (closed incidents too)
    from opinion_desk.incidents.verification import recheck

    app.config["DESK"]["incidents"]["recheck_minutes"] = 0
    wechat.deleted.add(f"{wechat.url}/s/hand1")
    assert recheck(app.desk.incidents) == [f"{iid}:wechat"]
    gone = [p for p in duty.get(f"{API}/{iid}").get_json()["publications"] if p["gone_at"]]
    assert [(p["channel"], p["mode"]) for p in gone] == [("wechat", "manual")]
    assert "已删除" in gone[0]["last_check"]["how"]
    # refused: a bad link, an unknown channel
    assert duty.post(f"{API}/{iid}/publications/manual", json={"channel": "weibo", "url": "weibo"}).status_code == 400


def test_preflight_shows_quota_and_recheck_raises_when_an_answer_disappears(app, login_as, flood_posts, weibo,
                                                                            wechat):
    from opinion_desk.incidents.verification import RULE_NAME, recheck

    duty, boss = login_as("duty"), login_as("approver")
    pre = duty.get(f"{API}/publishing/preflight").get_json()
    assert pre["ok"] and pre["accounts"][1]["quota"]["text"] == "订阅号今日群发剩余 1/1 次"
    inc = approved(duty, boss, flood_posts)
    pre = duty.get(f"{API}/publishing/preflight?incident={inc['id']}").get_json()
    text = pre["preview"]["weibo"]  # what statuses/share will carry
    assert pre["preview"]["weibo_length"] <= 140 and "#" not in text and f"{PUBLIC_BASE}/statements/" in text
    r = duty.post(f"{API}/{inc['id']}/publish", json={})
    assert r.status_code == 200, r.get_json()
    assert weibo.statuses[0]["text"] == text
    duty.post(f"{API}/{inc['id']}/verify")
    pre = duty.get(f"{API}/publishing/preflight").get_json()
    assert pre["accounts"][1]["quota"]["left"] == 0 and not pre["ok"]
    desk = app.desk.incidents
    assert recheck(desk) == []  # checked moments ago
    app.config["DESK"]["incidents"]["recheck_minutes"] = 0
    assert recheck(desk) == []  # still there
    weibo.delete(weibo.statuses[0]["idstr"])
    assert recheck(desk) == [f"{inc['id']}:weibo"]
    with app.desk.state.session_scope() as s:
        alert = s.scalar(select(Alert).where(Alert.rule == RULE_NAME))
        assert alert is not None and "微博官方回应已失效" in alert.reason and alert.severity == "high"
        assert s.scalar(select(Publication).where(Publication.channel == "weibo")).gone_at is not None
    d = duty.get(f"{API}/{inc['id']}").get_json()
    assert "answer_gone" in [e["action"] for e in d["timeline"]]


def test_statement_page_shows_only_approved_drafts_to_anyone(app, login_as, flood_posts):
    from opinion_desk.incidents.publishing import statement_url

    duty, boss = login_as("duty"), login_as("approver")
    iid = open_incident(duty, flood_posts)["id"]
    duty.post(f"{API}/{iid}/acknowledge", json={})
    d = duty.post(f"{API}/{iid}/drafts", json={"title": "通报", "text": "积水已排除。<b>不是标记</b>"}).get_json()
    draft_id = d["drafts"][-1]["id"]
    path = statement_url(app.desk.incidents, draft_id).removeprefix(PUBLIC_BASE)
    anon = app.test_client()
    assert anon.get(path).status_code == 404  # not approved yet
    assert boss.post(f"{API}/{iid}/approve", json={}).status_code == 200
    page = anon.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "积水已排除" in html and "&lt;b&gt;不是标记" in html and "【演示】" not in html
    assert anon.get(path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 404  # a forged token
    assert anon.get("/statements/abc").status_code == 404


def test_one_channel_by_api_the_other_by_hand(app_config, app, login_as, flood_posts, weibo, wechat):
    app.config["DESK"]["incidents.wechat"]["appid"] = ""  # the Official Account is not connected
    duty, boss = login_as("duty"), login_as("approver")
    inc = approved(duty, boss, flood_posts)
    r = duty.post(f"{API}/{inc['id']}/publish", json={})
    assert r.status_code == 400
    body = r.get_json()
    assert body["results"]["weibo"]["ok"] and "微信公众号未接入：请手工发布后登记链接" in body["error"]
    pre = duty.get(f"{API}/publishing/preflight").get_json()
    assert "内网地址" in pre["accounts"][0]["summary"]  # rip 127.0.0.1 is accepted but not a real address
    wechat.published.append({"url": f"{wechat.url}/s/hand7", "title": "通报", "content": "<p>积水已排除</p>"})
    r = duty.post(f"{API}/{inc['id']}/publications/manual", json={"channel": "wechat", "url": f"{wechat.url}/s/hand7"})
    d = r.get_json()
    assert r.status_code == 201 and d["status"] == "published" and d["verified_at"]
    assert sorted((p["channel"], p["mode"]) for p in d["publications"] if p["status"] == "published") == [
        ("wechat", "manual"), ("weibo", "api")]
    # publishing again skips both channels: nothing is posted twice
    assert duty.post(f"{API}/{inc['id']}/publish", json={}).status_code == 400
    assert len(weibo.statuses) == 1


def test_our_collectors_verify_when_the_platform_cannot_tell(app, login_as, flood_posts, weibo, wechat):
    from tests.incidents.conftest import index, make_post

    duty, boss = login_as("duty"), login_as("approver")
    inc = approved(duty, boss, flood_posts)
    body = duty.post(f"{API}/{inc['id']}/publish", json={}).get_json()
    assert body["status"] == "published" and not body["verified_at"]  # the mass send is still SENDING
    wechat.secret = "rotated"  # the platform cannot be asked any more
    wechat.expire_tokens()
    r = duty.post(f"{API}/{inc['id']}/verify").get_json()
    assert not r["verify"]["all"] and "AppSecret 无效" in str(r["verify"]["checks"])
    index(app, [make_post(11, "11月24日，人民路因强降雨积水", minutes_ago=0, source="wechat-feeds", platform="wechat",
                          author="青山发布", title="关于人民路积水情况的通报", url=wechat.published[0]["url"])])
    r = duty.post(f"{API}/{inc['id']}/verify").get_json()
    assert r["verify"]["all"] and r["verified_at"]
    how = {p["channel"]: p["verified_how"] for p in r["publications"]}
    assert how == {"weibo": "statuses/show 查到该微博", "wechat": "本台采集到该发布"}


def test_a_second_round_is_verified_on_its_own(app, login_as, flood_posts, weibo, wechat):
    duty, boss = login_as("duty"), login_as("approver")
    inc = approved(duty, boss, flood_posts)
    iid = inc["id"]
    duty.post(f"{API}/{iid}/publish", json={})
    assert duty.post(f"{API}/{iid}/verify").get_json()["verified_at"]
    # 持续发布: a new draft, approved and published; 订阅号 has no mass send left today
    d = duty.post(f"{API}/{iid}/drafts", json={"title": "关于人民路积水处置进展的通报", "text": "受损车辆已全部拖离。"}).get_json()
    assert d["status"] == "drafted"
    assert boss.post(f"{API}/{iid}/approve", json={}).status_code == 200
    r = duty.post(f"{API}/{iid}/publish", json={})
    assert r.status_code == 400 and "群发次数已用完" in r.get_json()["error"] and r.get_json()["results"]["weibo"]["ok"]
    wechat.published.append({"url": f"{wechat.url}/s/round2", "title": "进展", "content": "<p>已拖离</p>"})
    d = duty.post(f"{API}/{iid}/publications/manual", json={"channel": "wechat", "url": f"{wechat.url}/s/round2"})
    body = d.get_json()
    assert d.status_code == 201 and body["status"] == "published" and body["verified_at"]  # this round, both live
    round2 = [p for p in body["publications"] if p["status"] == "published" and p["draft_id"] == body["drafts"][-1]["id"]]
    assert sorted((p["channel"], p["mode"]) for p in round2) == [("wechat", "manual"), ("weibo", "api")]
    assert body["first_info_at"] < body["published_at"]  # the first answer's time is kept for the deadline
