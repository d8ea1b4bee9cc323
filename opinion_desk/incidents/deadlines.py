"""Deadline clocks per incident level (国办发〔2016〕61号、80号) and escalation.

Defaults (all in ``[incidents]``): for major emergencies (``major_levels``: 特别重大, 重大) authoritative
information within ``major_info_hours`` (5) and a press conference within ``major_press_hours`` (24); for
other government-related opinion a response within ``response_hours`` (48). A deadline is met by the first
published answer (``info``) or by marking the press conference held (``press``).

Escalation: when ``escalate_at`` fractions (0.5, 0.8, 1.0 = overdue) of a running deadline have passed, a push
goes to approvers and leaders, once per fraction. Pushes are written to the Escalation table, emitted on the
dashboard (``broadcast.incident``) and handed to the alerting outbox (email, robots) when the app has one --
:func:`deliver` is the one seam.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..state.incidents import Incident, aware, iso

KIND_ZH = {"info": "发布权威信息", "press": "举行新闻发布会", "response": "回应"}


def is_major(cfg: Any, level: str) -> bool:
    return level in cfg["incidents"]["major_levels"]


def compute(cfg: Any, level: str, opened_at: datetime) -> tuple[datetime, datetime | None]:
    """(info_due, press_due) of an incident of ``level`` opened at ``opened_at``."""
    c = cfg["incidents"]
    if is_major(cfg, level):
        return (opened_at + timedelta(hours=float(c["major_info_hours"])),
                opened_at + timedelta(hours=float(c["major_press_hours"])))
    return opened_at + timedelta(hours=float(c["response_hours"])), None


@dataclass
class Clock:
    name: str  # info | press
    label: str
    due: datetime
    met_at: datetime | None
    opened_at: datetime

    def fraction(self, now: datetime) -> float:
        total = (self.due - self.opened_at).total_seconds() or 1.0
        return (now - self.opened_at).total_seconds() / total

    def to_dict(self, now: datetime) -> dict[str, Any]:
        remaining = (self.due - now).total_seconds()
        return {"name": self.name, "label": self.label, "due": iso(self.due), "met_at": iso(self.met_at),
                "met": self.met_at is not None and self.met_at <= self.due,
                "missed": (self.met_at or now) > self.due, "remaining_seconds": int(remaining),
                "fraction": round(self.fraction(now), 3), "running": self.met_at is None}


def clocks(cfg: Any, inc: Incident) -> list[Clock]:
    opened = aware(inc.opened_at)
    major = is_major(cfg, inc.level)
    out = [Clock("info", KIND_ZH["info"] if major else KIND_ZH["response"], aware(inc.info_due), aware(inc.first_info_at),
                 opened)]
    if inc.press_due is not None:
        out.append(Clock("press", KIND_ZH["press"], aware(inc.press_due), aware(inc.press_held_at), opened))
    return out


def clock_dicts(cfg: Any, inc: Incident, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(timezone.utc)
    return [c.to_dict(now) for c in clocks(cfg, inc)]


def due_escalations(cfg: Any, inc: Incident, now: datetime) -> list[tuple[str, float, Clock]]:
    """(key, fraction, clock) of each push now due and not yet sent (key like ``info:0.8``)."""
    if inc.status == "closed":
        return []
    sent = set(inc.escalated or [])
    out = []
    for c in clocks(cfg, inc):
        if c.met_at is not None:
            continue
        f = c.fraction(now)
        for frac in sorted(float(x) for x in cfg["incidents"]["escalate_at"]):
            key = f"{c.name}:{frac:g}"
            if f >= frac and key not in sent:
                out.append((key, frac, c))
    # only the latest fraction of each clock is pushed (a desk restarted after hours sends one push, not three);
    # the earlier ones are marked sent with it
    latest: dict[str, tuple[str, float, Clock]] = {}
    for item in out:
        latest[item[2].name] = item
    return list(latest.values()) if out else []


def escalation_message(inc: Incident, frac: float, c: Clock, now: datetime) -> str:
    due_local = c.due.astimezone(timezone(timedelta(hours=8))).strftime("%m-%d %H:%M")
    if frac >= 1.0:
        late = int((now - c.due).total_seconds() // 60)
        return f"【已超时】事件#{inc.id}「{inc.title}」（{inc.level}）应于 {due_local} 前{c.label}，已超时 {late} 分钟"
    left = int((c.due - now).total_seconds() // 60)
    return (f"【时限提醒】事件#{inc.id}「{inc.title}」（{inc.level}）{c.label}时限已过 {int(frac * 100)}%，"
            f"剩余 {left // 60} 小时 {left % 60} 分钟（截止 {due_local}）")


def deliver(app: Any, inc: Incident, kind: str, message: str, recipients: list[dict[str, Any]]) -> str:
    """Hand a push to the alerting outbox (the email/robot channels) when the app has one; returns how it went.

    The outbox renders alert payloads, so the push is shaped like one (``alert`` with ``reason``/``description``);
    the channels named by ``[incidents] escalation_channels`` (empty = every defined channel) receive it.
    """
    outbox = app.extensions.get("opinion_desk.outbox") if app is not None else None
    if outbox is None or not hasattr(outbox, "enqueue"):
        return "dashboard"
    wanted = app.config["DESK"]["incidents"]["escalation_channels"] or list(getattr(outbox, "channels", {}))
    names = [n for n in wanted if n in getattr(outbox, "channels", {})]
    if not names:
        return "dashboard"
    now = iso(datetime.now(timezone.utc))
    severity = {"特别重大": "critical", "重大": "high", "较大": "medium"}.get(inc.level, "low")
    rule = {"route": "事件分派", "remind": "持续发布提醒"}.get(kind, "事件时限")
    alert = {"id": f"I{inc.id}", "rule": rule, "rule_type": "incident", "severity": severity,
             "severity_zh": inc.level, "key": f"#{inc.id}", "status": "open", "status_zh": "未平息", "reason": message,
             "first_match": now, "last_match": now, "notified_at": None, "resolved_at": None, "created_at": now,
             "count": 1, "value": None, "post_ids": [], "duty": {"recipients": recipients}, "description": message,
             "channels": names, "details": {"incident_id": inc.id, "kind": kind}}
    desk_url = (app.config["DESK"].get("alerting") or {}).get("desk_url", "") or ""
    payload = {"alert": alert, "kind": "alert", "posts": [],
               "desk_url": f"{desk_url.rstrip('/')}/incidents/{inc.id}" if desk_url else ""}
    try:
        outbox.enqueue(f"I{inc.id}", names, "alert", payload)
    except Exception as e:  # the push is still on the dashboard and in the table
        return f"dashboard (outbox failed: {e})"
    return "outbox:" + ",".join(names)
