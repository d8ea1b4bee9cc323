"""Fixtures of the incident tests: stand-in Weibo/WeChat servers, an app pointed at them, posts in the store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opinion_desk.models import Post
from tests.incidents.standins import wechat, weibo  # noqa: F401  (fixtures)

SAFE_URL = "https://www.qingshan.gov.cn/xxgk/"
PUBLIC_BASE = "https://www.qingshan.gov.cn/desk"  # the statement pages, under the Weibo app's bound domain


@pytest.fixture
def routing_file(tmp_path):
    p = tmp_path / "jurisdictions.yaml"
    p.write_text("""
- department: 青山县应急管理局
  match: [青山县, 人民路]
  assignee: test-duty
  contacts:
    - {name: 张科长, phone: "0571-12345678", email: zhang@qingshan.gov.cn}
- department: 青山县教育局
  match: [城南小学, 学校]
  contacts: [{name: 李老师, email: li@qingshan.gov.cn}]
""", encoding="utf-8")
    return p


@pytest.fixture
def app_config(app_config, weibo, wechat, routing_file):
    app_config["incidents"] = {"routing_file": str(routing_file), "public_base_url": PUBLIC_BASE,
                               "snapshot_private_hosts": True}  # the stand-ins serve the "published" pages locally
    app_config["incidents.weibo"] = {"base_url": weibo.url, "access_token": weibo.token, "safe_url": SAFE_URL,
                                     "account": "青山发布"}
    app_config["incidents.wechat"] = {"base_url": wechat.url, "appid": wechat.appid, "secret": wechat.secret,
                                      "thumb_media_id": wechat.thumb, "author": "青山县融媒体中心",
                                      "account": "青山发布"}
    return app_config


def make_post(i: int, text: str, minutes_ago: float = 5, **kw) -> Post:
    return Post(source=kw.pop("source", "weibo-search"), source_id=kw.pop("source_id", f"p{i}"), text=text,
                created_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago), author=kw.pop("author", f"网友{i}"),
                platform=kw.pop("platform", "weibo"), **kw)


def index(app, posts):
    """Analyse (keeping a rumour_score the test set) and store the posts."""
    from opinion_desk.pipeline import annotate

    pipeline = app.desk.pipeline
    given = [p.rumour_score for p in posts]
    annotate(posts, pipeline.analyzer)
    for p, score in zip(posts, given):
        if score is not None:
            p.rumour_score = score
    res = app.desk.store.index(posts)
    app.desk.store.refresh()
    assert res.indexed == len(posts), res
    return [p.id for p in posts]


@pytest.fixture
def flood_posts(app):
    """Posts about a flood in 青山县 (one with a raw payload, one a rumour, one an official statement)."""
    posts = [
        make_post(1, "青山县人民路积水严重，车辆熄火 <script>alert('x')</script>", raw={"mid": "p1", "note": "原始数据"}),
        make_post(2, "网传青山县人民路暴雨致5人死亡，已有12辆车被冲走", rumour_score=0.9),
        make_post(3, "青山县应急管理局通报：人民路积水已排除，无人员伤亡，3辆车受损", author="青山县应急管理局",
                  author_type="gov", minutes_ago=30),
    ]
    return index(app, posts)
