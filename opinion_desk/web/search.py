"""检索: the search page (/search), its JSON API (/api/v1/search) and its CSV export (/search/export.csv).

Filters: words (found as words or as strings, :mod:`opinion_desk.store.grams`), time range (近7天 unless asked
otherwise, see :data:`RANGES`; the form's local times are in the desk's zone, ``[desk] timezone``), source, platform, sentiment, event (topic id), region, author
type, and the tags 谣言线索 (rumour score at or above the shipped rumour rule's 0.7) and 投诉诉求 (any of
:data:`COMPLAINT_WORDS` in the title or text). Paged; sorted by relevance
(word matches first), time or reach (reposts + comments + likes). The export is CSV with a BOM, Chinese headers and
formula-like cells neutralised (:mod:`opinion_desk.incidents.csvsafe`), times in the desk's zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from .. import display
from ..briefings.period import desk_zone
from ..broadcast import feed_record
from ..errors import InputError
from ..incidents import csvsafe
from ..models import Post, utcnow
from ..root import current_desk
from ..store.base import RUMOUR_TAG_SCORE, PostQuery
from ..timefmt import zone_label as display_zone_label
from .params import choice_arg, int_arg, time_arg

bp = Blueprint("search", __name__)

SORTS = {"relevance": "相关度（词语命中优先）", "newest": "时间（最新在前）", "oldest": "时间（最早在前）",
         "reach": "传播量（转发+评论+点赞）"}
SENTIMENTS = {"neg": "负面", "neutral": "中性", "pos": "正面"}
AUTHOR_TYPES = {"gov": "政务", "media": "媒体", "verified": "认证用户", "user": "普通用户"}
#: the platforms the filter offers, named as everywhere else (opinion_desk/display.py, the one table)
PLATFORMS = {k: display.PLATFORMS[k] for k in ("weibo", "wechat", "news", "web", "gov", "forum", "video")}
TAGS = {"rumour": "谣言线索", "complaint": "投诉诉求"}
#: the time ranges the form offers. A search without times of its own asks for the last 7 days (as a 舆情系统's
#: search does; 全部时间 is one choice away), or for all time when it asks for one event's posts: the embedded store
#: then reads a week of matches, not the whole history, however long the desk has run (store/sqlite_blocks.py)
RANGES = {"1d": "近24小时", "7d": "近7天", "30d": "近30天", "all": "全部时间", "custom": "自定义（开始/结束时间）"}
RANGE_DAYS = {"1d": 1, "7d": 7, "30d": 30}
DEFAULT_RANGE = "7d"
#: the 投诉诉求 tag: posts holding any of these as a string (found as strings, so 欠薪 finds 被欠薪 too)
COMPLAINT_WORDS = ("投诉", "举报", "维权", "拖欠", "欠薪", "没人管", "不作为", "乱收费", "求助", "讨说法", "索赔", "不给退")
RUMOUR_SCORE = RUMOUR_TAG_SCORE  # as the shipped rumour rule (rules/30-rumour.yaml threshold) and the dashboard's tag
EXPORT_MAX = 5000
CSV_COLUMNS = {"time": "发布时间", "platform": "平台", "source": "来源", "author": "作者", "author_type": "作者类型",
               "region": "地域", "sentiment": "情感", "sentiment_score": "情感分值", "rumour": "谣言可能性",
               "topic": "所属事件", "reach": "传播量", "reposts": "转发", "comments": "评论", "likes": "点赞",
               "title": "标题", "text": "正文", "url": "原文链接", "id": "帖子编号"}


def tz() -> ZoneInfo:
    return desk_zone(current_app.config["DESK"])


def tz_label() -> str:
    """How pages name the desk's zone: 北京时间 for China's zone, else the IANA name."""
    return display_zone_label(tz())


def local_time_arg(name: str) -> datetime | None:
    """A time from the form: ``YYYY-MM-DDTHH:MM`` without a zone is in the desk's zone; else as :func:`time_arg`."""
    v = (request.args.get(name) or "").strip()
    if v and len(v) in (10, 16, 19) and v[:4].isdigit() and "+" not in v and not v.endswith("Z"):
        try:
            t = datetime.fromisoformat(v)
        except ValueError:
            raise InputError("query", name, f"参数 {name} 不是有效时间，收到 {v[:40]!r}") from None
        return t.replace(tzinfo=tz())
    return time_arg(name)


def _list(name: str, allowed: dict[str, str] | None = None) -> list[str]:
    vals = [v.strip() for v in request.args.getlist(name) if v.strip()]
    if allowed is not None:
        for v in vals:
            if v not in allowed:
                raise InputError("query", name, f"参数 {name} 应为 {'、'.join(allowed)} 之一，收到 {v[:40]!r}")
    return vals[:50]


def time_range(q: PostQuery) -> str:
    """Apply ``range`` (see :data:`RANGES`) to ``q``; returns the range used. Times of its own (开始/结束时间) make a
    search ``custom``."""
    rng = choice_arg("range", "", RANGES)
    if q.since is not None or q.until is not None:
        return "custom"
    rng = rng or ("all" if q.topic_ids else DEFAULT_RANGE)
    if rng in RANGE_DAYS:
        q.since = utcnow() - timedelta(days=RANGE_DAYS[rng])
    return rng


def search_query() -> tuple[PostQuery, str]:
    """The :class:`PostQuery` a search asks for (page/size as offset/size) and its time range (a key of
    :data:`RANGES`); bad values raise InputError."""
    q = PostQuery(text=(request.args.get("q") or "")[:200])
    q.since = local_time_arg("since")
    q.until = local_time_arg("until")
    if q.since and q.until and q.until <= q.since:
        raise InputError("query", "until", "结束时间应晚于开始时间")
    q.sources = _list("source")
    q.platforms = _list("platform")
    q.sentiment_labels = _list("sentiment", SENTIMENTS)
    q.topic_ids = _list("topic")
    rng = time_range(q)
    q.regions = _list("region")
    q.author_types = _list("author_type", AUTHOR_TYPES)
    tags = _list("tag", TAGS)
    if "rumour" in tags:
        q.min_rumour_score = RUMOUR_SCORE
    if "complaint" in tags:
        q.any_strings = list(COMPLAINT_WORDS)
    q.sort = choice_arg("sort", "relevance" if q.text.strip() else "newest", SORTS)
    q.size = int_arg("size", 20, 1, 100)
    page = int_arg("page", 1, 1, 500)
    q.offset = (page - 1) * q.size
    if q.offset + q.size > 10_000:
        raise InputError("query", "page", "页码过大：最多查看前 10000 条，请加筛选条件缩小范围")
    return q, rng


def reach(p: Post) -> int:
    return int(p.reposts or 0) + int(p.comments or 0) + int(p.likes or 0)


def result_record(p: Post) -> dict[str, Any]:
    d = feed_record(p)
    d.update(reach=reach(p), reposts=p.reposts, comments=p.comments, likes=p.likes, region=p.region,
             local_time=p.created_at.astimezone(tz()).strftime("%Y-%m-%d %H:%M"))
    return d


@bp.get("/search")
def page():  # noqa: ANN201
    store = current_desk().store
    recent = PostQuery(since=utcnow() - timedelta(days=30))  # the choices: what the last 30 days hold (bounded)
    sources = sorted({s for s, _n in store.top_terms(recent, "source", 100)} | set(_list("source")))
    regions = sorted({r for r, _n in store.top_terms(recent, "region", 100)} | set(_list("region")))
    return render_template("search.html", ranges=RANGES, default_range=DEFAULT_RANGE, sorts=SORTS,
                           sentiments=SENTIMENTS, author_types=AUTHOR_TYPES,
                           platforms=PLATFORMS, tags=TAGS, sources=sources, regions=regions, tz_label=tz_label())


@bp.get("/api/v1/search")
def api_search():  # noqa: ANN201
    q, rng = search_query()
    res = current_desk().store.search(q)
    pages = max(1, -(-min(res.total, 10_000) // q.size))
    # total: exact up to the store's cap (10,000); past it, exact is false and the page says "约 1万+ 条"
    return jsonify(total=res.total, exact=res.exact, page=q.offset // q.size + 1, size=q.size, pages=pages,
                   range=rng, range_label=RANGES.get(rng, ""),
                   sort=q.sort, posts=[result_record(p) for p in res.posts])


@bp.get("/search/export.csv")
def export_csv():  # noqa: ANN201
    q, _rng = search_query()
    q.offset, q.size = 0, 500
    store, zone = current_desk().store, tz()
    titles = display.source_titles(current_desk().sources.specs)
    rows: list[dict[str, Any]] = []
    while len(rows) < EXPORT_MAX:
        res = store.search(q)
        for p in res.posts:
            rows.append({
                "time": p.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "platform": display.platform_name(p.platform), "source": display.source_name(p.source, titles), "author": p.author,
                "author_type": AUTHOR_TYPES.get(p.author_type, p.author_type), "region": p.region,
                "sentiment": SENTIMENTS.get(p.sentiment_label, p.sentiment_label),
                "sentiment_score": "" if p.sentiment is None else round(p.sentiment, 3),
                "rumour": "" if p.rumour_score is None else f"{p.rumour_score:.0%}",
                "topic": p.topic_label or p.topic_id, "reach": reach(p), "reposts": p.reposts,
                "comments": p.comments, "likes": p.likes, "title": p.title, "text": p.text, "url": p.url, "id": p.id})
        if len(res.posts) < q.size or q.offset + q.size >= 10_000:
            break
        q.offset += q.size
    rows = rows[:EXPORT_MAX]
    body = csvsafe.to_csv(list(CSV_COLUMNS.values()), ({CSV_COLUMNS[k]: v for k, v in r.items()} for r in rows))
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="text/csv", headers={
        "Content-Type": csvsafe.CONTENT_TYPE,
        "Content-Disposition": f"attachment; filename=\"search-{stamp}.csv\"; filename*=UTF-8''%E6%A3%80%E7%B4%A2%E7%BB%93%E6%9E%9C-{stamp}.csv"})
