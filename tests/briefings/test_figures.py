"""A daily briefing's figures checked against the data: the same counts computed straight from the SQLite files
(posts.db, state.db, with plain SQL and the day's bounds in Beijing time) and from what the fixture put there; then
the same figures found in the Word document and the HTML page."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

from docx import Document

from opinion_desk.briefings import period as P
from tests.briefings.conftest import BJ


def _us(t: datetime) -> int:
    return int((t - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1_000_000)


def _sql_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def straight_counts(app, start: datetime, end: datetime) -> dict:
    """The briefing's headline counts, by plain SQL on the desk's two database files."""
    cfg = app.config["DESK"]
    out: dict = {}
    with sqlite3.connect(cfg.data_path(cfg["store"]["sqlite_path"])) as db:
        where = "created_at >= ? AND created_at < ?"
        b = (_us(start), _us(end))
        out["posts"] = db.execute(f"SELECT count(*) FROM posts WHERE {where}", b).fetchone()[0]
        for label in ("neg", "neutral", "pos"):
            out[f"posts_{label}"] = db.execute(f"SELECT count(*) FROM posts WHERE {where} AND sentiment_label = ?",
                                               (*b, label)).fetchone()[0]
        out["hourly"] = dict(db.execute(
            f"SELECT strftime('%H', created_at / 1000000, 'unixepoch', '+8 hours'), count(*) FROM posts "
            f"WHERE {where} GROUP BY 1", b).fetchall())
    with sqlite3.connect(cfg.data_path("state.db")) as db:
        s, e = _sql_time(start), _sql_time(end)
        out["alerts"] = db.execute("SELECT count(*) FROM alerts WHERE created_at >= ? AND created_at < ?", (s, e)).fetchone()[0]
        out["incidents"] = db.execute("SELECT count(*) FROM incidents WHERE opened_at < ? AND (closed_at IS NULL OR closed_at >= ?)",
                                      (e, s)).fetchone()[0]
        out["incidents_opened"] = db.execute("SELECT count(*) FROM incidents WHERE opened_at >= ? AND opened_at < ?",
                                             (s, e)).fetchone()[0]
        out["publications"] = db.execute(
            "SELECT count(*) FROM incident_publications WHERE status = 'published' AND published_at >= ? AND published_at < ?",
            (s, e)).fetchone()[0]
    return out


def test_daily_figures_match_the_databases(app, seeded, briefings):
    p = P.day(date(2026, 11, 24), BJ)
    row = briefings.make(p, "test")
    f = row["figures"]
    want = straight_counts(app, p.start, p.end)
    for k in ("posts", "posts_neg", "posts_neutral", "posts_pos", "alerts", "incidents", "incidents_opened", "publications"):
        assert f[k] == want[k], k
    assert f["posts_neg"] + f["posts_neutral"] + f["posts_pos"] + f["posts_other"] == f["posts"]
    # and against what the fixture put there: 32 demo posts x 4 inside the day, the 4 edge posts outside
    assert f["posts"] == 128
    assert f["alerts"] == 3 and f["alerts_by_severity"] == {"critical": 1, "medium": 1, "low": 1}
    assert (f["incidents"], f["incidents_opened"], f["publications"]) == (4, 2, 4)
    # deadlines as of 08:05 the next morning: 水库 (met), 爆炸 info (met) and press (running: due 14:20),
    # 食堂 (met late: missed), 积水 (closed before its due time)
    assert (f["deadlines_met"], f["deadlines_missed"], f["deadlines_running"]) == (2, 1, 1)


def test_hourly_volume_matches_the_database(app, seeded, briefings):
    from opinion_desk.briefings import facts

    p = P.day(date(2026, 11, 24), BJ)
    buckets, unit = facts.volume(app.desk.store, p)
    assert unit == "小时" and len(buckets) == 24
    want = straight_counts(app, p.start, p.end)["hourly"]
    assert {b.start.strftime("%H"): b.total for b in buckets if b.total} == want
    assert all(b.counts["other"] == 0 for b in buckets)  # every post was analysed


def test_the_week_holds_the_day_and_the_posts_around_it(app, seeded, briefings):
    p = P.week(date(2026, 11, 24), BJ)
    f = briefings.make(p, "test")["figures"]
    want = straight_counts(app, p.start, p.end)
    assert f["posts"] == want["posts"] == 128 + 3  # 23:59 on the 23rd, 00:00 and 00:30 on the 25th; not the 22nd
    assert f["alerts"] == want["alerts"] == 4
    assert f["publications"] == want["publications"] == 4


def test_the_documents_say_the_same(app, seeded, briefings):
    p = P.day(date(2026, 11, 24), BJ)
    row = briefings.make(p, "test")
    doc = Document(str(briefings.dir / row["docx_file"]))
    body = "\n".join(par.text for par in doc.paragraphs)
    cells = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    assert "舆情日报" in body and "2026年11月24日（星期二）" in body
    assert "共监测到相关信息 128 条" in body and f"其中负面 {row['figures']['posts_neg']} 条" in body
    assert "触发预警 3 条" in body and "处置时限按时 2 项、超时 1 项" in body and "发布回应 4 条" in body
    assert "统计时段：2026-11-24 00:00 至 2026-11-25 00:00（北京时间）" in body
    assert cells[0][:4] == ["信息总量", "负面信息", "热点事件", "预警"]
    assert cells[1][0] == "128"
    # the event the 爆炸 post belongs to shows its incident; its first post is the earliest of the topic that day
    topic = seeded["blast_post"].topic_id
    first = min((x for x in seeded["posts"] if x.topic_id == topic and p.start <= x.created_at < p.end),
                key=lambda x: x.created_at)
    blast = next(r for r in cells if f"已立案 #{seeded['incidents']['blast']}（已发布）" in r[4])
    assert first.text[:20] in blast[3] and first.author in blast[3]
    assert first.created_at.astimezone(BJ).strftime("%m-%d %H:%M") in blast[3]
    alerts = [r for r in cells if r[1] in ("化工园区爆炸", "水库泄洪谣言", "人民路积水")]
    assert [r[0] for r in alerts] == ["11-24 09:15", "11-24 14:10", "11-24 22:00"]  # Beijing time, in order
    assert "前一天的预警" not in str(cells)
    incidents = {r[0].split("\n")[0]: r for r in cells if r[0].startswith("#")}
    blast_inc = next(v for k, v in incidents.items() if "城东化工园区爆炸" in k)
    assert blast_inc[4].startswith("按时") and blast_inc[5].startswith("进行中") and "截止 11-25 14:20" in blast_inc[5]
    assert next(v for k, v in incidents.items() if "食堂" in k)[4].startswith("超时")
    assert next(v for k, v in incidents.items() if "人民路积水" in k)[4].startswith("已关闭（未到期）")
    assert not any("上周的事件" in k for k in incidents)
    pubs = [r for r in cells if r[1] in ("微博", "微信公众号")]
    assert [(r[0], r[1], r[3]) for r in pubs] == [("11-24 07:00", "微博", "手工发布"), ("11-24 09:40", "微博", "接口发布"),
                                                 ("11-24 09:45", "微信公众号", "接口发布"), ("11-24 16:00", "微博", "接口发布")]
    html = (briefings.dir / row["html_file"]).read_text(encoding="utf-8")
    assert "共监测到相关信息 128 条" in html and html.count("data:image/png;base64,") == 2
    assert "<script" not in html


def test_a_quiet_day_still_makes_a_briefing(app, briefings):
    p = P.day(date(2026, 10, 1), BJ)
    row = briefings.make(p, "test")
    assert row["figures"]["posts"] == 0 and row["figures"]["alerts"] == 0
    body = "\n".join(par.text for par in Document(str(briefings.dir / row["docx_file"])).paragraphs)
    for words in ("共监测到相关信息 0 条", "未形成热点事件", "本时段无监测数据。", "本时段未触发预警。", "本时段无处置中的事件。",
                  "本时段未发布回应。"):
        assert words in body, words


def test_a_period_not_over_yet_says_so(app, seeded, briefings):
    row = briefings.make(P.week(date(2026, 11, 24), BJ), "test")  # made on the 25th, the week ends on the 29th
    html = (briefings.dir / row["html_file"]).read_text(encoding="utf-8")
    assert "统计时段：2026-11-23 00:00 至 2026-11-30 00:00（北京时间）（本时段尚未结束，数据截至生成时）" in html
    day = briefings.make(P.day(date(2026, 11, 24), BJ), "test")
    assert "尚未结束" not in (briefings.dir / day["html_file"]).read_text(encoding="utf-8")


def test_bars_add_up_in_a_zone_off_by_half_an_hour(app, seeded):
    from zoneinfo import ZoneInfo

    from opinion_desk.briefings import facts
    from opinion_desk.store.base import PostQuery

    store = app.desk.store
    for p in (P.day(date(2026, 11, 24), ZoneInfo("Asia/Kolkata")), P.week(date(2026, 11, 24), ZoneInfo("Asia/Kolkata"))):
        buckets, _unit = facts.volume(store, p)
        assert sum(b.total for b in buckets) == store.count(PostQuery(since=p.start, until=p.end)) > 0
