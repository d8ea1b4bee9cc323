"""Deadline clocks per incident level (国办发〔2016〕61号、80号) and escalation.

Defaults (all in ``[incidents]``): for major emergencies (``major_levels``: 特别重大, 重大) authoritative
information within ``major_info_hours`` (5) and a press conference within ``major_press_hours`` (24); for
other government-related opinion a response within ``response_hours`` (48). A deadline is met by the first
published answer (``info``) or by marking the press conference held (``press``).

Escalation: when ``escalate_at`` fractions (0.5, 0.8, 1.0 = overdue) of a running deadline have passed, a push
goes to the approvers and the routed department's contacts, once per fraction; a met or stopped clock (the
incident closed) never escalates. Pushes are written to the Escalation table and delivered by
:mod:`.escalation` (their own kind, 事件时限: every desk page, email, robot @mentions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..state.incidents import Incident, aware, iso
from ..timefmt import fmt, zone

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
    """One deadline. It stops when met (``met_at``: the first published answer, the press conference held) or
    when the incident is closed (``stopped_at``); a stopped clock neither counts down nor escalates."""

    name: str  # info | press
    label: str
    due: datetime
    met_at: datetime | None
    opened_at: datetime
    stopped_at: datetime | None = None  # the incident's closing time

    def end(self, now: datetime) -> datetime:
        """Where the clock stands: when it was met or stopped, else ``now``."""
        return self.met_at or (min(now, self.stopped_at) if self.stopped_at else now)

    def fraction(self, now: datetime) -> float:
        total = (self.due - self.opened_at).total_seconds() or 1.0
        return (self.end(now) - self.opened_at).total_seconds() / total

    def state(self, now: datetime) -> str:
        """met | missed (met late, or past due when it stopped or now) | closed (stopped before due) | running"""
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "missed"
        if self.end(now) > self.due:
            return "missed"
        return "closed" if self.stopped_at is not None else "running"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        state = self.state(now)
        return {"name": self.name, "label": self.label, "due": iso(self.due), "met_at": iso(self.met_at),
                "stopped_at": iso(self.stopped_at), "state": state, "met": state == "met",
                "missed": state == "missed", "remaining_seconds": int((self.due - self.end(now)).total_seconds()),
                "fraction": round(self.fraction(now), 3), "running": self.met_at is None and self.stopped_at is None}


def clocks(cfg: Any, inc: Incident) -> list[Clock]:
    opened = aware(inc.opened_at)
    major = is_major(cfg, inc.level)
    stopped = aware(inc.closed_at) if inc.status == "closed" else None
    out = [Clock("info", KIND_ZH["info"] if major else KIND_ZH["response"], aware(inc.info_due), aware(inc.first_info_at),
                 opened, stopped)]
    if inc.press_due is not None:
        out.append(Clock("press", KIND_ZH["press"], aware(inc.press_due), aware(inc.press_held_at), opened, stopped))
    return out


def clock_dicts(cfg: Any, inc: Incident, now: datetime | None = None) -> list[dict[str, Any]]:
    from .lifecycle import now as clock_now

    now = now or clock_now()
    return [c.to_dict(now) for c in clocks(cfg, inc)]


def due_escalations(cfg: Any, inc: Incident, now: datetime) -> list[tuple[str, float, Clock]]:
    """(key, fraction, clock) of each push now due and not yet sent (key like ``info:0.8``)."""
    if inc.status == "closed":
        return []
    sent = set(inc.escalated or [])
    out = []
    for c in clocks(cfg, inc):
        if c.met_at is not None or c.stopped_at is not None:
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


def next_crossing(cfg: Any, inc: Incident) -> datetime | None:
    """When the next escalation of ``inc`` falls due (the earliest fraction not yet pushed of a running clock), so
    the checker can wake exactly then instead of up to ``tick_seconds`` later; None when nothing is left."""
    if inc.status == "closed":
        return None
    sent = set(inc.escalated or [])
    times = [c.opened_at + (c.due - c.opened_at) * float(f) for c in clocks(cfg, inc)
             if c.met_at is None and c.stopped_at is None
             for f in cfg["incidents"]["escalate_at"] if f"{c.name}:{float(f):g}" not in sent]
    return min(times) if times else None


def escalation_message(inc: Incident, frac: float, c: Clock, now: datetime, tz: tzinfo | None = None) -> str:
    """The notice a deadline's escalation sends; the due time is shown in ``tz``, the desk's zone."""
    due_local = fmt(c.due, tz or zone(), "%m-%d %H:%M")
    if frac >= 1.0:
        late = int((now - c.due).total_seconds() // 60)
        return f"【已超时】事件#{inc.id}「{inc.title}」（{inc.level}）应于 {due_local} 前{c.label}，已超时 {late} 分钟"
    left = int((c.due - now).total_seconds() // 60)
    return (f"【时限提醒】事件#{inc.id}「{inc.title}」（{inc.level}）{c.label}时限已过 {int(frac * 100)}%，"
            f"剩余 {left // 60} 小时 {left % 60} 分钟（截止 {due_local}）")
