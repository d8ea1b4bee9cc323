"""Fixtures of the briefing tests: a day of posts (the demo's 青山县 posts spread over 2026-11-24, Beijing time,
analysed by the real analyzer, plus posts just outside the day), alerts, incidents with their deadlines and
published answers in the state database, a leader with an email address, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opinion_desk.models import Post
from tests.alerting.conftest import smtp_server  # noqa: F401  (fixture)

BJ = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-24"
DEMO = Path(__file__).resolve().parents[2] / "opinion_desk" / "demo" / "posts.jsonl"
# the schedule's clock in these tests: the morning after the day
NOW = datetime(2026, 11, 25, 8, 5, tzinfo=BJ).astimezone(timezone.utc)


def bj(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=BJ).astimezone(timezone.utc)


@pytest.fixture
def app_config(app_config, smtp_server):
    host, port, _box = smtp_server
    app_config["alerting"] = {"smtp_host": host, "smtp_port": port, "mail_to": ["duty@qingshan.gov.cn"],
                              "mail_from": "yuqing@qingshan.gov.cn"}
    app_config["briefings"] = {"recipients": ["lizr", "leader@qingshan.gov.cn"], "issuer": "青山县委宣传部网络舆情中心"}
    return app_config


def _demo_posts() -> list[dict]:
    """The demo's 32 posts of their own (its reposts, which the replay spreads a rumour with, are left out)."""
    posts = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [d for d in posts if not d.get("repost_of")]


def day_posts() -> list[Post]:
    """Four copies of each demo post at different hours of 2026-11-24 (busier in the afternoon), and four
    posts just outside the day (23:59 the day before, 00:00 and 00:30 the day after, in Beijing time)."""
    hours = [7, 9, 10, 13, 14, 14, 15, 15, 16, 16, 17, 18, 20, 21, 22, 23]
    out = []
    for copy in range(4):
        for i, d in enumerate(_demo_posts()):
            h = hours[(i + copy * 5) % len(hours)]
            out.append(Post(source="weibo-search", source_id=f"{d['source_id']}-{copy}", text=d["text"],
                            created_at=bj(24, h, (i * 7 + copy * 13) % 60), author=d["author"],
                            author_type=d.get("author_type", ""), region=d.get("region", ""),
                            platform=d.get("platform", "weibo"), reposts=int(d.get("reposts", 0)) + copy,
                            url=f"https://weibo.com/1234567890/{d['source_id']}{copy}"))
    for k, t in enumerate([bj(23, 23, 59), bj(25, 0, 0), bj(25, 0, 30), bj(22, 12)]):
        out.append(Post(source="weibo-search", source_id=f"edge-{k}", text="青山县人民路积水，车辆无法通行",
                        created_at=t, author="边界网友", platform="weibo"))
    return out


@pytest.fixture
def seeded(app, analyzer):
    """The day's posts in the store and its alerts, incidents and answers in the state DB; returns what was put."""
    from opinion_desk.pipeline import annotate
    from opinion_desk.state.alerts import Alert
    from opinion_desk.state.incidents import Incident, IncidentPost, Publication
    from opinion_desk.state.users import create_user

    posts = day_posts()
    annotate(posts, analyzer)
    store = app.desk.store
    assert store.index(posts).indexed == len(posts)
    store.refresh()
    blast = next(p for p in posts if "化工园区" in p.text)

    def alert(aid: str, t: datetime, rule: str, sev: str, key: str, status: str = "open") -> Alert:
        return Alert(id=aid, rule=rule, rule_type="frequency", severity=sev, key=key, status=status, reason="短时间内集中出现",
                     first_match=t, last_match=t, created_at=t, count=3, post_ids=[], duty={}, channels=[], details={})

    def incident(title: str, level: str, opened: datetime, hours: float, press: float | None = None, **kw) -> Incident:
        return Incident(title=title, level=level, opened_at=opened, info_due=opened + timedelta(hours=hours),
                        press_due=opened + timedelta(hours=press) if press else None, keywords=[], contacts=[],
                        escalated=[], **kw)

    db = app.desk.state
    with db.session_scope() as s:
        create_user(s, "lizr", "li-password-123", ["approver"], display_name="李主任", email="li@qingshan.gov.cn")
        s.add_all([alert("A20261124-061000-aaaaaa", bj(24, 14, 10), "化工园区爆炸", "critical", "化工园区"),
                   alert("A20261124-011500-bbbbbb", bj(24, 9, 15), "水库泄洪谣言", "medium", "水库", "resolved"),
                   alert("A20261124-140000-cccccc", bj(24, 22, 0), "人民路积水", "low", ""),
                   alert("A20261123-100000-dddddd", bj(23, 18, 0), "前一天的预警", "high", "")])  # outside the day
        blast_inc = incident("城东化工园区爆炸", "重大", bj(24, 14, 20), 5, 24, status="published",
                             first_info_at=bj(24, 16, 0), published_at=bj(24, 16, 0), department="青山县应急管理局")
        rumour = incident("网传青山水库泄洪", "一般", bj(24, 9, 30), 48, status="published", first_info_at=bj(24, 9, 40),
                          published_at=bj(24, 9, 40))
        flood = incident("人民路积水", "一般", bj(22, 12), 48, status="closed", closed_at=bj(24, 10),
                         close_reason="积水已排除，无需回应")
        late = incident("城南小学食堂投诉", "一般", bj(22, 6), 48, status="published", first_info_at=bj(24, 7),
                        published_at=bj(24, 7))
        old = incident("上周的事件", "一般", bj(20, 6), 48, status="closed", closed_at=bj(21, 6))
        s.add_all([blast_inc, rumour, flood, late, old])
        s.flush()
        snap = blast.to_dict()
        s.add(IncidentPost(incident_id=blast_inc.id, post_id=blast.id, snapshot=snap, snapshot_sha256="0" * 64))
        for inc, ch, t, status in ((rumour, "weibo", bj(24, 9, 40), "published"), (rumour, "wechat", bj(24, 9, 45), "published"),
                                   (blast_inc, "weibo", bj(24, 16), "published"), (blast_inc, "wechat", bj(24, 16, 2), "failed"),
                                   (late, "weibo", bj(24, 7), "published"), (old, "weibo", bj(20, 9), "published")):
            s.add(Publication(incident_id=inc.id, draft_id=1, channel=ch, status=status, published_at=t,
                              url=f"https://weibo.com/qingshanfabu/{inc.id}{ch}" if status == "published" else "",
                              verified_at=t + timedelta(minutes=3) if ch == "weibo" else None,
                              mode="manual" if inc is late else "api"))  # 食堂: published by hand, link recorded
        ids = {"blast": blast_inc.id, "rumour": rumour.id, "flood": flood.id, "late": late.id, "old": old.id}
    return {"posts": posts, "blast_post": blast, "incidents": ids}


@pytest.fixture
def briefings(app):
    """The app's briefing desk, on a clock fixed at 08:05 the morning after the day."""
    from opinion_desk.briefings import BriefingDesk

    return BriefingDesk(app.config["DESK"], app.desk.store, app.desk.state,
                        app.desk.outbox, clock=lambda: NOW)
