"""What a briefing says, gathered from the post store and the state database for one :class:`Period`: volume and
sentiment per hour (a day) or per day, the top events (topics) with their first posts and status, the alerts
raised, the incidents worked with their deadlines met or missed (:mod:`opinion_desk.incidents.timeliness`), and
the answers published. Every time is shown in the desk's zone; the renderers only lay these facts out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..detection.rule import SEVERITIES as SEVERITY_ZH
from ..incidents import timeliness
from ..incidents.publish import CHANNEL_ZH, MODE_ZH
from ..incidents.lifecycle import STATES
from ..state.alerts import STATUS_ZH as ALERT_STATUS_ZH
from ..state.alerts import Alert
from ..state.incidents import Incident, IncidentPost, Publication, aware
from ..store.base import PostQuery, PostStore
from .period import WEEKDAY_ZH, Period

SENTIMENTS = (("neg", "负面"), ("neutral", "中性"), ("pos", "正面"))
TOP_EVENTS = 10
LIST_CAP = 50  # rows per table in the document; the counts above each table are always the full counts


@dataclass
class Bucket:
    start: datetime  # local
    label: str
    counts: dict[str, int] = field(default_factory=dict)  # neg / neutral / pos / other

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Facts:
    period: Period
    generated_at: datetime  # local
    total: int
    sentiment: dict[str, int]  # neg / neutral / pos / other (not analysed)
    buckets: list[Bucket]
    bucket_unit: str  # 小时 | 日
    events: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    alerts_total: int
    incidents: list[dict[str, Any]]
    timeliness: dict[str, Any]
    publications: list[dict[str, Any]]

    def figures(self) -> dict[str, Any]:
        """The headline counts, as printed (kept on the state row; the figures test compares them)."""
        return {"posts": self.total, **{f"posts_{k}": v for k, v in self.sentiment.items()},
                "events": len(self.events), "alerts": self.alerts_total,
                "alerts_by_severity": _count(self.alerts, "severity"), "incidents": len(self.incidents),
                "incidents_opened": sum(1 for i in self.incidents if i["opened_in_period"]),
                "deadlines_met": self.timeliness["deadlines_met"], "deadlines_missed": self.timeliness["deadlines_missed"],
                "deadlines_running": sum(self.timeliness["deadlines"][n]["running"] for n in ("info", "press")),
                "publications": len(self.publications)}

    def neg_share(self) -> float:
        return self.sentiment["neg"] / self.total if self.total else 0.0


def _count(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + 1
    return out


def local(t: datetime | None, tz: Any, fmt: str = "%m-%d %H:%M") -> str:
    t = aware(t)
    return t.astimezone(tz).strftime(fmt) if t else ""


def _query(period: Period, **kw: Any) -> PostQuery:
    return PostQuery(since=period.start, until=period.end, **kw)


def volume(store: PostStore, period: Period) -> tuple[list[Bucket], str]:
    """Posts per local hour (spans up to two days) or per local day, split by sentiment. The store's buckets
    are UTC hours; whole hours fold into local days in any zone with whole-hour offsets."""
    hourly = period.days <= 2
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    buckets: dict[datetime, Bucket] = {}

    def floor(ts: datetime) -> datetime:
        lt = ts.astimezone(period.tz).replace(minute=0, second=0, microsecond=0)
        return lt if hourly else lt.replace(hour=0)

    t = floor(period.start)  # a range from 08:30 has its first bar at 08:00
    while t < period.local_end:
        if hourly:
            label = t.strftime("%H时")
        else:  # a day; with its weekday while they fit
            label = f"{t.month}/{t.day}" + (f"\n周{WEEKDAY_ZH[t.weekday()]}" if period.days <= 14 else "")
        buckets[t] = Bucket(t, label, {k: 0 for k, _ in SENTIMENTS} | {"other": 0})
        t = (t + step).astimezone(period.tz)  # wall-clock steps
    keys = sorted(buckets)

    first, last = keys[0], keys[-1]

    def slot(ts: datetime) -> Bucket | None:
        # a zone off UTC by half an hour puts the first UTC hour before the first local one: it counts there
        return buckets.get(min(max(floor(ts), first), last))

    total_by_slot: dict[datetime, int] = {}
    for ts, n in store.date_histogram(_query(period), "1h"):
        b = slot(ts)
        if b is not None and n:
            total_by_slot[b.start] = total_by_slot.get(b.start, 0) + n
    for key, _ in SENTIMENTS:
        for ts, n in store.date_histogram(_query(period, sentiment_labels=[key]), "1h"):
            b = slot(ts)
            if b is not None and n:
                b.counts[key] += n
    for k in keys:
        b = buckets[k]
        b.counts["other"] = total_by_slot.get(k, 0) - sum(b.counts[s] for s, _ in SENTIMENTS)
    return [buckets[k] for k in keys], ("小时" if hourly else "日")


def events(store: PostStore, s: Session, period: Period) -> list[dict[str, Any]]:
    """The most talked-about topics of the period: size, negative share, first post, and what the desk did."""
    linked: dict[str, list[Incident]] = {}  # topic -> incidents active in the period that hold one of its posts
    for snap, inc in s.execute(select(IncidentPost, Incident).join(Incident, Incident.id == IncidentPost.incident_id)
                               .where(*_active(period))):
        tid = (snap.snapshot or {}).get("topic_id")
        if tid and inc not in linked.setdefault(tid, []):
            linked[tid].append(inc)
    out = []
    for tid, n in store.top_terms(_query(period), "topic_id", TOP_EVENTS):
        first = store.search(_query(period, topic_ids=[tid], size=1, sort="oldest")).posts
        last = store.search(_query(period, topic_ids=[tid], size=1, sort="newest")).posts
        neg = store.count(_query(period, topic_ids=[tid], sentiment_labels=["neg"]))
        p = first[0] if first else None
        label = (p.topic_label if p and p.topic_label else "、".join((p.keywords if p else [])[:3])) or tid
        incs = linked.get(tid, [])
        status = "；".join(f"已立案 #{i.id}（{STATES.get(i.status, i.status)}）" for i in incs) or "未立案"
        out.append({"topic_id": tid, "label": label, "posts": n, "neg": neg,
                    "first": _post(p, period) if p else None,
                    "last_at": local(last[0].created_at, period.tz) if last else "",
                    "status": status, "incident_ids": [i.id for i in incs]})
    out.sort(key=lambda e: (-e["posts"], -e["neg"]))  # biggest first; of equal size, the more negative first
    return out


def _post(p: Any, period: Period) -> dict[str, Any]:
    text = (p.title + "：" if p.title else "") + (p.text or "")
    return {"id": p.id, "author": p.author or "（未署名）", "at": local(p.created_at, period.tz),
            "platform": p.platform, "text": text[:140] + ("…" if len(text) > 140 else ""), "url": p.url,
            "reach": (p.reposts or 0) + (p.comments or 0) + (p.likes or 0)}


def alerts(s: Session, period: Period) -> tuple[list[dict[str, Any]], int]:
    where = (Alert.created_at >= period.start, Alert.created_at < period.end)
    rows = list(s.scalars(select(Alert).where(*where).order_by(Alert.created_at)))
    out = [{"id": a.id, "at": local(a.created_at, period.tz), "rule": a.rule, "severity": a.severity,
            "severity_zh": SEVERITY_ZH.get(a.severity, a.severity), "key": a.key or "",
            "status_zh": ALERT_STATUS_ZH.get(a.status, a.status), "count": a.count or 1,
            "reason": (a.reason or "")[:120]} for a in rows]
    return out, len(out)


def _active(period: Period) -> tuple[Any, ...]:
    """Incidents open at some time in the period."""
    return Incident.opened_at < period.end, or_(Incident.closed_at.is_(None), Incident.closed_at >= period.start)


def incidents(s: Session, cfg: Any, period: Period, now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Incidents open at some time in the period, with each deadline's result as of ``now``."""
    rows = list(s.scalars(select(Incident).where(*_active(period)).order_by(Incident.opened_at, Incident.id)))
    metrics = [timeliness.incident_metrics(cfg, inc, now) for inc in rows]
    out = []
    for inc, m in zip(rows, metrics):
        out.append({"id": inc.id, "title": inc.title, "level": inc.level, "status_zh": STATES.get(inc.status, inc.status),
                    "department": inc.department or "", "opened_at": local(inc.opened_at, period.tz),
                    "opened_in_period": period.start <= aware(inc.opened_at) < period.end,
                    "info": _deadline(m, "info", inc.info_due, period),
                    "press": _deadline(m, "press", inc.press_due, period) if inc.press_due else None,
                    "first_info_minutes": m["first_info_minutes"], "closed_at": local(inc.closed_at, period.tz)})
    return out, timeliness.summary(metrics)


def _deadline(m: dict[str, Any], name: str, due: datetime | None, period: Period) -> dict[str, Any]:
    result = m.get(f"{name}_result", "")
    return {"due": local(due, period.tz), "result": result, "result_zh": timeliness.RESULT_ZH.get(result, result) or "—"}


def publications(s: Session, period: Period) -> list[dict[str, Any]]:
    rows = s.execute(select(Publication, Incident).join(Incident, Incident.id == Publication.incident_id)
                     .where(Publication.status == "published", Publication.published_at >= period.start,
                            Publication.published_at < period.end).order_by(Publication.published_at))
    return [{"at": local(p.published_at, period.tz), "channel_zh": CHANNEL_ZH.get(p.channel, p.channel),
             "incident_id": inc.id, "incident": inc.title, "url": p.url or "",
             "mode_zh": MODE_ZH.get(p.mode or "api", p.mode),
             "verified": "已核验" if p.verified_at else "未核验"} for p, inc in rows]


def gather(store: PostStore, s: Session, cfg: Any, period: Period, now: datetime | None = None) -> Facts:
    now = now or datetime.now(timezone.utc)
    total = store.count(_query(period))
    buckets, unit = volume(store, period)
    senti = {k: sum(b.counts[k] for b in buckets) for k, _ in SENTIMENTS}  # the charts' bars add up to these
    senti["other"] = total - sum(senti.values())
    alert_rows, n_alerts = alerts(s, period)
    inc_rows, summary = incidents(s, cfg, period, now)
    return Facts(period=period, generated_at=now.astimezone(period.tz), total=total, sentiment=senti,
                 buckets=buckets, bucket_unit=unit, events=events(store, s, period), alerts=alert_rows,
                 alerts_total=n_alerts, incidents=inc_rows, timeliness=summary,
                 publications=publications(s, period))
