"""Every source kind x format the desk reads, on our own fixtures in the real formats (tests/collectors/fixtures/
formats/), with what each item must come out as: id, author, author type, time, text, pictures, and the parent
ids where the format has them. Used by tests/collectors/test_formats.py (each item must be right) and by
bench/formats_table.py (the table of items expected / items right / fields right).

Expected values: ``id`` exact, or ``~suffix``, or ``sha1:`` (an id made from the content: checked to be distinct);
``time`` an ISO instant, ``"unknown"`` (no date: marked ``time_unknown``), ``("ago", seconds)`` (relative dates,
within 3 minutes), ``("today", "HH:MM")`` or ``("md", month, day, hour, minute)`` (this year, or last year when
that would lie in the future); ``text`` a prefix of the post's text; ``images`` the exact URLs in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from opinion_desk.collectors.push import convert_items, items_from_payload
from opinion_desk.models import Post

from tests.collectors.standins import FIXTURES, Reply, StandIn, WeiboStandIn, fixture_reply, make

FMT = FIXTURES / "formats"
CST = timezone(timedelta(hours=8))


@dataclass
class Case:
    kind: str
    fmt: str
    run: Callable[[], tuple[list[Post], list[str]]]  # (posts, notes)
    expected: list[dict[str, Any]]
    notes_contain: list[str] = field(default_factory=list)


# -- running the collectors against stand-ins -------------------------------------------------------------
def _rss(name: str, ctype: str, kind: str = "rss", **opts: Any) -> tuple[list[Post], list[str]]:
    site = StandIn()
    try:
        site.routes["/" + name] = Reply(200, (FMT / name).read_bytes(), {"Content-Type": ctype})
        res = make(kind, name="feed", url=f"{site.url}/{name}", fetch_full="never", **opts).collect({})
        return res.posts, res.notes
    finally:
        site.close()


def _wechat_atom() -> tuple[list[Post], list[str]]:
    site = StandIn()
    try:
        site.routes["/feeds/MP_WXS_3000000001.atom"] = fixture_reply("wewe_rss_feed.atom",
                                                                     "application/atom+xml; charset=utf-8")
        site.routes["/s/Xk2vLq8mTnRw0aBcDeF1gH"] = fixture_reply("wechat_article.html", "text/html; charset=utf-8")
        site.routes["/s/Zq9wErTy0uIoPaSdFgHj2k"] = fixture_reply("wechat_expired.html", "text/html; charset=utf-8")
        res = make("wechat", name="wx", url=site.url + "/feeds/MP_WXS_3000000001.atom").collect({})
        return res.posts, res.notes
    finally:
        site.close()


def _weibo(**opts: Any) -> tuple[list[Post], list[str]]:
    wb = WeiboStandIn()
    try:
        wb.timelines["7000000003"] = {"": "formats/weibo_timeline_7000000003.json"}
        wb.hotflow_refused.add("4999000000000302")  # hotflow refuses: the older comments/show is used
        res = make("weibo", name="wb", credentials={"cookie": wb.cookie}, base_url=wb.url, **opts).collect({})
        return res.posts, res.notes
    finally:
        wb.close()


def weibo_timeline() -> tuple[list[Post], list[str]]:
    posts, notes = _weibo(mode="user", uids=["7000000003"])
    return posts, notes


def weibo_reactions() -> tuple[list[Post], list[str]]:
    posts, notes = _weibo(mode="user", uids=["7000000003"], reactions=True, watch_hours=24 * 365 * 20)
    return [p for p in posts if p.reply_to or (p.repost_of and p.source_id.startswith("49990000000020"))], notes


def _web(page: str, path: str, ctype: str, **opts: Any) -> tuple[list[Post], list[str]]:
    site = StandIn()
    try:
        site.routes[path] = Reply(200, (FMT / page).read_bytes(), {"Content-Type": ctype})
        res = make("web", name="web", url=site.url + path, fetch_full=False, **opts).collect({})
        return res.posts, res.notes
    finally:
        site.close()


def _files(pattern: str, **opts: Any) -> tuple[list[Post], list[str]]:
    res = make("files", name="files", path=str(FMT / pattern), **opts).collect({})
    return res.posts, res.notes


def _push(fmt: str, body: Any) -> tuple[list[Post], list[str]]:
    items, source = items_from_payload(body, fmt, "ingest")
    posts, errors = convert_items(items, fmt, source)
    return posts, [str(e) for e in errors]


def _json(name: str) -> Any:
    return json.loads((FMT / name).read_text(encoding="utf-8"))


# -- the cases ---------------------------------------------------------------------------------------------
GOV = "http://swj.example-city.gov.cn/tzgg/post_1001.html"
NEWS = "https://news.example.cn/local/2024-06/"

CASES: list[Case] = [
    Case("rss", "RSS 2.0 gov aggregate: GB2312, ISO-8859-1 header, blank line before <?xml, <source>",
         lambda: _rss("gov_aggregate.rss.xml", "text/xml; charset=ISO-8859-1"), [
             {"id": GOV, "author": "某某市商务局", "author_type": "gov", "time": "2024-06-17T16:00:00+00:00",
              "text": "来源: 某某市商务局\n各区商务主管部门", "images": []},
             {"id": "http://www.example-east.gov.cn/kcj/post_2002.html", "author": "东区科创局", "author_type": "gov",
              "time": "2024-06-16T16:00:00+00:00", "text": "各有关单位：根据年度工作安排", "images": []},
             {"id": "http://swuj.example-city.gov.cn/gg/post_3003.html", "author": "某某市水务局", "author_type": "gov",
              "time": "2024-06-16T01:30:00+00:00", "text": "（图片）",
              "images": ["http://swuj.example-city.gov.cn/uploads/2024/notice_3003_full.jpg",
                         "~/uploads/2024/notice_3003.png"]},
         ]),
    Case("rss", "RSS 2.0 news: dc:creator, <author>, media:content, dates inside text, items without id",
         lambda: _rss("news_creator.rss.xml", "application/rss+xml"), [
             {"id": NEWS + "18/c_1001.htm", "author": "本报记者 李某", "author_type": "", "text": "6月18日，县人民医院",
              "time": "2024-06-18T02:05:00+00:00", "images": ["https://img.news.example.cn/2024/0618/1001.jpg"]},
             {"id": NEWS + "17/c_1000.htm", "author": "王编辑", "author_type": "", "text": "6月17日下午",
              "time": "2024-06-17T07:30:00+00:00", "images": []},
             {"id": "sha1:", "author": "某某日报 本地新闻", "author_type": "media", "time": "unknown",
              "text": "读者来信：东大街路灯", "images": []},
             {"id": "sha1:", "author": "某某日报 本地新闻", "author_type": "media", "time": "unknown",
              "text": "读者来信：人民路菜市场", "images": []},
         ], notes_contain=["2 条没有发布时间"]),
    Case("rss", "RSS 2.0, no encoding declared anywhere, Big5 bytes",
         lambda: _rss("undeclared_big5.rss.xml", "text/xml"), [
             {"id": "https://www.example.gov.tw/news/1001", "author": "臺北市政府 新聞稿", "author_type": "",
              "time": "2024-06-18T01:00:00+00:00", "text": "臺北市政府工務局公告", "images": []},
             {"id": "https://www.example.gov.tw/news/1002", "author": "臺北市政府 新聞稿", "author_type": "",
              "time": "2024-06-17T12:00:00+00:00", "text": "中央氣象署發布颱風警報", "images": []},
         ]),
    Case("rss", "RSS 2.0, no encoding declared anywhere, Latin-1 bytes (low confidence noted)",
         lambda: _rss("undeclared_latin1.rss.xml", "application/xml"), [
             {"id": "https://journal.example.fr/a/1", "author": "Le Journal de la Vallée", "author_type": "",
              "time": "2024-06-18T07:00:00+00:00", "text": "Les élus ont annoncé que la fête", "images": []},
         ], notes_contain=["把握不大"]),
    Case("rss", "RSS 2.0 cut off mid-item, lenient: true",
         lambda: _rss("truncated.rss.xml", "text/xml", lenient=True), [
             {"id": "http://www.example-county.gov.cn/zwdt/202406/t20240618_501.html", "author": "某某县人民政府 · 政务动态",
              "author_type": "", "time": "2024-06-18T08:00:00+00:00", "text": "6月18日，县长主持召开", "images": []},
             {"id": "http://www.example-county.gov.cn/zwdt/202406/t20240617_500.html", "author": "某某县人民政府 · 政务动态",
              "author_type": "", "time": "2024-06-17T02:00:00+00:00", "text": "6月17日，县领导带队", "images": []},
         ], notes_contain=["已宽松解析", "未保存"]),
    Case("wechat", "wewe-rss Atom + article pages (one deleted)", _wechat_atom, [
        {"id": "~/Xk2vLq8mTnRw0aBcDeF1gH", "author": "某某县发布", "author_type": "gov",
         "time": "2024-06-18T09:20:00+00:00", "text": "各位居民：", "images": ["https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg"]},
        {"id": "~/Zq9wErTy0uIoPaSdFgHj2k", "author": "某某县发布", "author_type": "gov",
         "time": "2024-06-17T12:00:00+00:00", "text": "防汛知识 & 安全提示", "images": []},
    ], notes_contain=["该内容已被发布者删除"]),
    Case("wechat", "wewe-rss JSON Feed URL (npm feed json1) as a wechat source",
         lambda: _rss("wewe_rss_MP_WXS_3000000001.json", "application/json; charset=utf-8", kind="wechat"), [
             {"id": "Xk2vLq8mTnRw0aBcDeF1gH", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-18T09:20:00+00:00", "text": "关于县城区临时停水的通知",
              "images": ["https://mmbiz.qpic.cn/mmbiz_jpg/cover1001/0?wx_fmt=jpeg"]},
             {"id": "Pq7rSt8uVwXy9zAbCdEf0G", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-17T01:00:00+00:00", "text": "汛期安全提示：",
              "images": ["https://mmbiz.qpic.cn/mmbiz_png/tips1002/640?wx_fmt=png"]},
         ]),
    Case("weibo", "m.weibo.cn timeline: pictures only, long text whose extend fails, repost, relative date",
         weibo_timeline, [
             {"id": "4999000000000301", "author": "某某县应急管理局", "author_type": "gov",
              "time": "2024-06-18T12:15:00+00:00", "text": "（图片）", "mid": "4999000000000301",
              "images": ["https://wx1.sinaimg.cn/large/006abc301a.jpg", "https://wx1.sinaimg.cn/large/006abc301b.jpg"]},
             {"id": "4999000000000302", "author": "某某县应急管理局", "author_type": "gov", "truncated": True,
              "time": "2024-06-18T10:00:00+00:00", "text": "【防汛应急响应】县防汛抗旱指挥部", "images": []},
             {"id": "4999000000000303", "author": "某某县应急管理局", "author_type": "gov", "repost_of": "4999000000000250",
              "time": "2024-06-18T09:40:00+00:00", "text": "核实中，请以官方发布为准。", "images": []},
             {"id": "4999000000000304", "author": "某某县应急管理局", "author_type": "gov", "time": ("ago", 180),
              "text": "雨势减弱", "images": []},
         ], notes_contain=["全文未取到"]),
    Case("weibo", "comments (hotflow, comments/show fallback) and repostTimeline of our own posts", weibo_reactions, [
        {"id": "4999000000001001", "author": "东关居民", "author_type": "user", "reply_to": "4999000000000301",
         "time": "2024-06-18T12:20:11+00:00", "text": "安置点有没有饮用水？[疑问]", "images": []},
        {"id": "4999000000001002", "author": "某某县应急管理局", "author_type": "gov", "reply_to": "4999000000001001",
         "time": "2024-06-18T12:25:40+00:00", "text": "回复@东关居民:有的", "images": []},
        {"id": "4999000000001003", "author": "过路的小王", "author_type": "user", "reply_to": "4999000000000301",
         "time": "2024-06-18T12:31:05+00:00", "text": "辛苦了", "images": []},
        {"id": "4999000000001004", "author": "河边住户", "author_type": "user", "reply_to": "4999000000000301",
         "time": "2024-06-18T12:40:00+00:00", "text": "（图片）", "images": ["https://wx3.sinaimg.cn/large/006abc1004.jpg"]},
        {"id": "4999000000001101", "author": "沿河村民", "author_type": "user", "reply_to": "4999000000000302",
         "time": ("ago", 300), "text": "我们村什么时候转移？", "images": []},
        {"id": "4999000000002001", "author": "县城生活圈", "author_type": "verified", "repost_of": "4999000000000301",
         "time": "2024-06-18T12:30:00+00:00", "text": "扩散！", "images": []},
        {"id": "4999000000002002", "author": "小李", "author_type": "user", "repost_of": "4999000000000301",
         "reply_to": "4999000000002001", "time": "2024-06-18T12:45:00+00:00", "text": "转发微博//@县城生活圈", "images": []},
    ], notes_contain=["改用旧接口"]),
    Case("web", "weibo.cn profile page (dates followed by 来自…)",
         lambda: _web("weibo_cn_profile.html", "/u/6000000051", "text/html; charset=utf-8", item="div.c[id^=M_]",
                      title="span.ctt", link="a.cc", time="span.ct", summary="span.ctt", author="东大街老张",
                      platform="weibo"), [
             {"id": "https://weibo.cn/comment/NrE000701?uid=6000000051&rl=0#cmtfrm", "author": "东大街老张",
              "author_type": "", "time": ("md", 6, 17, 18, 12), "text": "东大街的路灯终于修好了，点赞！",
              "images": ["https://wx1.sinaimg.cn/wap180/006abc701a.jpg"]},
             {"id": "https://weibo.cn/comment/NrE000702?uid=6000000051&rl=0#cmtfrm", "author": "东大街老张",
              "author_type": "", "time": ("today", "09:10"), "text": "今天早上东大街桥下的积水退了", "images": []},
             {"id": "https://weibo.cn/comment/NrE000703?uid=6000000051&rl=0#cmtfrm", "author": "东大街老张",
              "author_type": "", "time": ("ago", 300), "text": "雨又下大了", "images": []},
         ]),
    Case("web", "gov list page (GBK in <meta>): per-item news source",
         lambda: _web("gov_list_sources.html", "/bmdt/", "text/html", item="ul.list li", time="span.date",
                      item_source="span.src", author="某某县人民政府网", platform="gov"), [
             {"id": "~/bmdt/202406/t20240618_801.html", "author": "县水务局", "author_type": "gov",
              "time": "2024-06-17T16:00:00+00:00", "text": "县水务局全力做好城区供水保障工作", "images": []},
             {"id": "~/bmdt/202406/t20240617_800.html", "author": "某某日报", "author_type": "media",
              "time": "2024-06-16T16:00:00+00:00", "text": "我县召开防汛工作调度会", "images": []},
             {"id": "~/bmdt/202406/t20240616_799.html", "author": "某某县人民政府网", "author_type": "gov",
              "time": "2024-06-15T16:00:00+00:00", "text": "县应急管理局发布汛期安全提示", "images": []},
         ]),
    Case("files", "weibo-crawler CSV (current): weibo/<昵称>/<uid>.csv, ragged rows, pictures only, repost",
         lambda: _files("weibo/*/*.csv", item_format="weibo-crawler"), [
             {"id": "4999000000000401", "author": "某某县发布", "author_type": "gov", "time": "2024-06-19T00:00:00+00:00",
              "text": "#防汛# 县城区积水点已全部排除", "images": []},
             {"id": "4999000000000402", "author": "某某县发布", "author_type": "gov", "time": "2024-06-19T01:30:00+00:00",
              "text": "（图片）", "images": ["https://wx1.sinaimg.cn/large/006abc402a.jpg",
                                          "https://wx1.sinaimg.cn/large/006abc402b.jpg"]},
             {"id": "4999000000000403", "author": "某某县发布", "author_type": "gov", "time": "2024-06-19T02:00:00+00:00",
              "text": "请大家相互转告\n//转发 @某某县应急管理局", "images": [], "repost_of": "4999000000000302"},
         ]),
    Case("files", "weibo-crawler CSV (older vintage): uid,用户昵称 columns, weibo.cn dates",
         lambda: _files("weibo_old_vintage_city.csv", item_format="weibo-crawler"), [
             {"id": "4999000000000501", "author": "东大街老张", "author_type": "", "time": ("md", 6, 17, 18, 12),
              "text": "东大街的路灯终于修好了", "images": []},
             {"id": "4999000000000502", "author": "某某日报", "author_type": "media", "time": "2024-06-17T11:40:00+00:00",
              "text": "【关注】县城区明日起分时段停水", "images": []},
         ]),
    Case("files", "MediaCrawler JSON array (contents, full + teaching edition) and CSV (comments)",
         lambda: _files("mediacrawler_search_*", item_format="mediacrawler"), [
             {"id": "4999000000000601", "author": "附近居民", "author_type": "", "time": "2024-06-18T10:00:00+00:00",
              "text": "化工厂附近今天又有刺鼻气味", "images": []},
             {"id": "4999000000000602", "author": "某***局", "author_type": "", "time": "2024-06-18T12:00:00+00:00",
              "text": "【回应】县生态环境局", "images": []},
             {"id": "4999000000003001", "author": "东关居民", "author_type": "", "time": "2024-06-18T13:00:00+00:00",
              "text": "检修要提前公告啊", "images": [], "reply_to": "4999000000000602"},
             {"id": "4999000000003002", "author": "某某县生态环境局", "author_type": "gov",
              "time": "2024-06-18T13:10:00+00:00", "text": "同意，下次会提前公告", "images": [],
              "reply_to": "4999000000003001"},
         ]),
    Case("files", "wewe-rss JSON Feed (npm feed json1) file",
         lambda: _files("wewe_rss_*.json", item_format="jsonfeed"), [
             {"id": "Xk2vLq8mTnRw0aBcDeF1gH", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-18T09:20:00+00:00", "text": "关于县城区临时停水的通知",
              "images": ["https://mmbiz.qpic.cn/mmbiz_jpg/cover1001/0?wx_fmt=jpeg"]},
             {"id": "Pq7rSt8uVwXy9zAbCdEf0G", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-17T01:00:00+00:00", "text": "汛期安全提示：",
              "images": ["https://mmbiz.qpic.cn/mmbiz_png/tips1002/640?wx_fmt=png"]},
         ]),
    Case("push", "?format=jsonfeed: a wewe-rss feed posted as is",
         lambda: _push("jsonfeed", _json("wewe_rss_MP_WXS_3000000001.json")), [
             {"id": "Xk2vLq8mTnRw0aBcDeF1gH", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-18T09:20:00+00:00", "text": "关于县城区临时停水的通知",
              "images": ["https://mmbiz.qpic.cn/mmbiz_jpg/cover1001/0?wx_fmt=jpeg"]},
             {"id": "Pq7rSt8uVwXy9zAbCdEf0G", "author": "某某县发布", "author_type": "gov",
              "time": "2024-06-17T01:00:00+00:00", "text": "汛期安全提示：",
              "images": ["https://mmbiz.qpic.cn/mmbiz_png/tips1002/640?wx_fmt=png"]},
         ]),
    Case("push", "?format=mediacrawler: its JSON array posted as is",
         lambda: _push("mediacrawler", _json("mediacrawler_search_contents_2024-06-18.json")), [
             {"id": "4999000000000601", "author": "附近居民", "author_type": "", "time": "2024-06-18T10:00:00+00:00",
              "text": "化工厂附近今天又有刺鼻气味", "images": []},
             {"id": "4999000000000602", "author": "某***局", "author_type": "", "time": "2024-06-18T12:00:00+00:00",
              "text": "【回应】县生态环境局", "images": []},
         ]),
]


# -- checking ----------------------------------------------------------------------------------------------
def _time_ok(post: Post, want: Any, now: datetime) -> bool:
    if want == "unknown":
        return getattr(post, "time_unknown", False) and abs((post.created_at - now).total_seconds()) < 600
    if getattr(post, "time_unknown", False):
        return False
    got = post.created_at
    if isinstance(want, str):
        return got == datetime.fromisoformat(want)
    kind = want[0]
    local = now.astimezone(CST)
    if kind == "ago":
        return abs((now - got).total_seconds() - want[1]) < 180
    if kind == "today":
        h, m = map(int, want[1].split(":"))
        return got == local.replace(hour=h, minute=m, second=0, microsecond=0).astimezone(timezone.utc)
    _, mo, d, h, m = want
    dt = datetime(local.year, mo, d, h, m, tzinfo=CST)
    if dt > local + timedelta(days=1):
        dt = dt.replace(year=local.year - 1)
    return got == dt.astimezone(timezone.utc)


def _id_ok(post: Post, want: str) -> bool:
    if want == "sha1:":
        return post.source_id.startswith("sha1:")
    if want.startswith("~"):
        return post.source_id.endswith(want[1:])
    return post.source_id == want


def _images_ok(post: Post, want: list[str]) -> bool:
    got = [im["url"] for im in getattr(post, "images", [])]  # a version without the field shows none
    return len(got) == len(want) and all(g.endswith(w[1:]) if w.startswith("~") else g == w
                                         for g, w in zip(got, want))


def field_checks(post: Post, want: dict[str, Any], now: datetime) -> dict[str, bool]:
    """field -> right? for one item (a field the post does not have is wrong)."""
    out: dict[str, bool] = {}
    for name, check in _CHECKS.items():
        try:
            out[name] = bool(check(post, want, now))
        except (AttributeError, TypeError):  # an older Post without the field
            out[name] = False
    return out


def _field(name: str, default: Any = "") -> Callable[[Post, dict[str, Any], datetime], bool]:
    """An optional field: right when it says what the case expects (its default when the case names none; a
    post of a version without the field counts as having the default)."""
    def check(post: Post, want: dict[str, Any], now: datetime) -> bool:
        if name not in want and name == "mid":
            return True  # mid is only asserted where the case names it
        return getattr(post, name, default) == want.get(name, default)
    return check


_CHECKS: dict[str, Callable[[Post, dict[str, Any], datetime], bool]] = {
    "id": lambda p, w, now: _id_ok(p, w["id"]),
    "author": lambda p, w, now: p.author == w["author"],
    "author_type": lambda p, w, now: p.author_type == w["author_type"],
    "time": lambda p, w, now: _time_ok(p, w["time"], now),
    "text": lambda p, w, now: p.text.startswith(w["text"]),
    "images": lambda p, w, now: _images_ok(p, w["images"]),
    "mid": _field("mid"), "repost_of": _field("repost_of"), "reply_to": _field("reply_to"),
    "truncated": _field("truncated", False),
}


def score(case: Case) -> dict[str, Any]:
    """Run one case: items expected, items found, items right, fields right / fields checked, and each failure."""
    now = datetime.now(timezone.utc)
    try:
        posts, notes = case.run()
    except Exception as e:  # a crash is a result too: nothing right
        return {"expected": len(case.expected), "found": 0, "right": 0, "fields": 0,
                "checked": len(case.expected) * 10, "problems": [f"run failed: {type(e).__name__}: {e}"]}
    problems: list[str] = []
    pool = list(posts)
    right = fields = checked = 0
    for want in case.expected:
        match = next((p for p in pool if _id_ok(p, want["id"]) and p.text.startswith(want["text"])), None)
        match = match or next((p for p in pool if _id_ok(p, want["id"])), None)
        if match is None:
            problems.append(f"missing item {want['id']} {want['text'][:12]}")
            checked += 10
            continue
        pool.remove(match)
        res = field_checks(match, want, now)
        fields += sum(res.values())
        checked += len(res)
        bad = [k for k, ok in res.items() if not ok]
        if bad:
            got = ", ".join(f"{k}={getattr(match, 'source_id' if k == 'id' else k, None)!r}" for k in bad)
            problems.append(f"{match.source_id}: wrong {', '.join(bad)} ({got})")
        else:
            right += 1
    hashed = [p.source_id for p in posts if p.source_id.startswith("sha1:")]
    if len(set(hashed)) != len(hashed) or len({p.source_id for p in posts}) != len(posts):
        problems.append("items without id collapsed into one content id")
    for p in pool:
        problems.append(f"unexpected item {p.source_id}")
    for n in case.notes_contain:
        if not any(n in x for x in notes):
            problems.append(f"no note saying {n!r} (notes: {notes})")
    return {"expected": len(case.expected), "found": len(posts), "right": right, "fields": fields,
            "checked": checked, "problems": problems}
