"""Every source kind x format on our own fixtures in the real formats: each item's id, author, author type, time,
text, pictures and parent ids (tests/collectors/format_cases.py; bench/formats_table.py prints the same as a
table). Plus the failure shapes: the error that suggests lenient, a Big5 feed not read as GB18030, the comments
endpoint that refuses."""

from __future__ import annotations

import pytest

from opinion_desk.errors import CollectorError
from tests.collectors.format_cases import CASES, FMT, score
from tests.collectors.standins import Reply, StandIn, make


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}:{c.fmt[:40]}" for c in CASES])
def test_every_item_comes_out_right(case):
    result = score(case)
    assert result["problems"] == [], result["problems"]
    assert result["right"] == result["expected"] == result["found"]


def test_malformed_feed_error_names_the_line_and_suggests_lenient(site):
    site.routes["/cut.xml"] = Reply(200, (FMT / "truncated.rss.xml").read_bytes(), {"Content-Type": "text/xml"})
    with pytest.raises(CollectorError) as e:
        make("rss", name="cut", url=site.url + "/cut.xml").collect({})
    msg = str(e.value)
    assert "line 23" in msg and "试试 lenient: true" in msg and "宽松解析可读出 4 条" in msg
    from opinion_desk.collectors.reasons import failure_reason

    assert failure_reason(msg, "error") == "订阅内容格式有误；宽松解析可读出 4 条，可在信息源中设置 lenient: true"


def test_undeclared_big5_is_not_read_as_gb18030(site):
    site.routes["/b5.xml"] = Reply(200, (FMT / "undeclared_big5.rss.xml").read_bytes(), {"Content-Type": "text/xml"})
    res = make("rss", url=site.url + "/b5.xml", fetch_full="never").collect({})
    assert res.posts[0].title == "本週六進行道路施工 請民眾改道行駛"


def test_a_wrong_charset_header_loses_to_the_documents_declaration():
    from opinion_desk.collectors.http import decode_report

    body = '<?xml version="1.0" encoding="gb2312"?><rss><title>某某县人民政府</title></rss>'.encode("gb2312")
    d = decode_report(body, "text/xml; charset=ISO-8859-1")
    assert "某某县人民政府" in d.text and d.encoding == "gb18030" and d.note == ""
    # a header naming a charset the bytes are not in: detected, and said so
    d = decode_report("关于县城区临时停水的通知，东大街、人民路沿线区域暂停供水".encode("gb18030"), "text/html; charset=utf-8")
    assert d.text.startswith("关于县城区临时停水") and "与内容不符" in d.note


def test_lenient_never_stores_an_empty_item(site):
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title></title>'
            b'<description></description></item><item><title>ok</title><link>http://x/1</link></item><item><title>')
    site.routes["/e.xml"] = Reply(200, body, {"Content-Type": "text/xml"})
    res = make("rss", url=site.url + "/e.xml", fetch_full="never", lenient=True).collect({})
    assert [p.title for p in res.posts] == ["ok"] and all(p.text.strip() for p in res.posts)


def test_reactions_are_collected_once_and_watching_ends(weibo):
    weibo.timelines["7000000003"] = {"": "formats/weibo_timeline_7000000003.json"}
    c = make("weibo", name="wb", credentials={"cookie": weibo.cookie}, base_url=weibo.url, mode="watch",
             watch=["https://m.weibo.cn/detail/4999000000000301"])
    first = c.collect({})
    assert {p.source_id for p in first.posts} == {"4999000000001001", "4999000000001002", "4999000000001003",
                                                  "4999000000001004", "4999000000002001", "4999000000002002"}
    assert "/api/container/getIndex" not in {p.split("?")[0] for p in weibo.paths()}  # watch mode reads no timeline
    assert c.collect(first.cursor).posts == []  # the same comments and reposts are not taken twice


def test_watch_option_is_checked():
    from opinion_desk.collectors.weibo import WeiboCollector

    probs = WeiboCollector.check_options({"mode": "watch", "watch": ["not-a-post"]}, {"cookie": "x"})
    assert probs and probs[0][0] == "watch" and "not-a-post" in probs[0][1]


def test_account_list_sets_the_author_type(tmp_path):
    from opinion_desk.collectors import SourceSpec, build_collector

    spec = SourceSpec(name="f", type="files", options={"path": str(FMT / "weibo_old_vintage_city.csv"),
                                                        "item_format": "weibo-crawler"},
                      accounts={"6000000051": "person", "某某日报": "media"})
    posts = build_collector(spec).collect({}).posts
    assert [(p.author, p.author_type) for p in posts] == [("东大街老张", "user"), ("某某日报", "media")]


def test_files_constants_and_an_unknown_field(tmp_path):
    (tmp_path / "h.csv").write_text("工单编号,诉求内容,受理时间\n1,路灯不亮,2024-06-18 10:00:00\n", encoding="utf-8")
    c = make("files", path=str(tmp_path / "h.csv"), mapping={"source_id": "工单编号", "text": "诉求内容",
                                                             "created_at": "受理时间"},
             constants={"author": "县12345热线", "region": "某某县"}, author_type="gov")
    (p,) = c.collect({}).posts
    assert (p.author, p.author_type, p.region) == ("县12345热线", "gov", "某某县")
    from opinion_desk.collectors.files import FileCollector

    assert FileCollector.check_options({"path": "x", "constants": {"writer": "x"}}, None)[0][0] == "constants"


def test_picture_only_desk_items_are_kept():
    from opinion_desk.collectors.push import convert_items

    posts, errors = convert_items([{"id": "p1", "text": "", "created_at": "2024-06-18T10:00:00+08:00",
                                    "images": [{"url": "https://x/1.jpg", "alt": "通告"}]}], "desk", "ingest")
    assert errors == [] and posts[0].text == "（图片）" and posts[0].images == [{"url": "https://x/1.jpg", "alt": "通告"}]


def test_stand_in_hotflow_refuses_missing_parameters(weibo):
    import requests

    from tests.collectors.conftest import WEIBO_COOKIE

    r = requests.get(weibo.url + "/comments/hotflow", params={"id": "4999000000000301"},
                     headers={"Cookie": WEIBO_COOKIE, "X-Requested-With": "XMLHttpRequest", "Referer": weibo.url + "/"})
    assert r.json() == {"ok": 0, "msg": "参数错误"}


def test_wewe_rss_json_feed_url_as_a_wechat_source(site):
    site.routes["/feeds/MP_WXS_3000000001.json"] = Reply(200, (FMT / "wewe_rss_MP_WXS_3000000001.json").read_bytes(),
                                                         {"Content-Type": "application/json; charset=utf-8"})
    res = make("wechat", name="wx-json", url=site.url + "/feeds/MP_WXS_3000000001.json", fetch_full="never").collect({})
    a, b = res.posts
    assert (a.source_id, a.author, a.author_type, a.title) == ("Xk2vLq8mTnRw0aBcDeF1gH", "某某县发布", "gov",
                                                               "关于县城区临时停水的通知")
    assert a.created_at.isoformat() == "2024-06-18T09:20:00+00:00" and a.platform == "wechat"
    assert a.images == [{"url": "https://mmbiz.qpic.cn/mmbiz_jpg/cover1001/0?wx_fmt=jpeg", "alt": ""}]
    assert b.text.startswith("汛期安全提示：") and b.images[0]["alt"] == "防汛知识图解"


def test_watched_posts_are_read_a_few_per_run_in_turn(weibo):
    c = make("weibo", name="wb", credentials={"cookie": weibo.cookie}, base_url=weibo.url, mode="watch",
             watch=["4999000000000301", "4999000000000302", "4999000000000303"], reaction_posts=2)
    cursor: dict = {}
    asked: list[list[str]] = []
    for _ in range(3):
        weibo.log.clear()
        cursor = c.collect(cursor).cursor
        asked.append(sorted({p.split("id=")[1].split("&")[0] for p in weibo.paths()}))
    assert asked == [["4999000000000301", "4999000000000302"], ["4999000000000301", "4999000000000303"],
                     ["4999000000000302", "4999000000000303"]]
