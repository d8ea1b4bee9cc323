"""Alerting state: alerts, silences, rule state (windows that survive a restart) and the delivery outbox."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone, tzinfo
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from . import Base
from .lengths import FittedKey

STATUSES = ("open", "resolved", "silenced")
STATUS_ZH = {"open": "未平息", "resolved": "已平息", "silenced": "已静默"}


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.isoformat()


def aware(t: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive (UTC): make them aware again."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=timezone.utc)
    return t


def new_alert_id(t: datetime, tz: tzinfo = timezone.utc) -> str:
    """A stable, sortable string id: ``A20240501-163012-3f9a1c``, the date and time in the desk's zone ``tz``
    (the one a person reads everywhere else; the desk's zone has no daylight saving, so ids stay in order)."""
    return "A" + t.astimezone(tz).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Alert(Base):
    """One alert: a rule fired for one query_key value; later matches within ``realert`` fold into it."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    rule_type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(FittedKey(300), default="")  # a query_key value: any post field, any length
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    first_match: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_match: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer, default=1)
    value: Mapped[float | None] = mapped_column(nullable=True)
    post_ids: Mapped[list] = mapped_column(JSON, default=list)
    duty: Mapped[dict] = mapped_column(JSON, default=dict)  # what to check, who owns it
    description: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[list] = mapped_column(JSON, default=list)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # what identifies the match that opened it (see detection.noise.match_key): unique, so the same match recorded
    # twice (two processes, a replay after a crash) is one alert; NULL on alerts older than the key
    match_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("alerts_rule_key_status", "rule", "key", "status"),
                      Index("alerts_match_key", "match_key", unique=True))

    def to_dict(self) -> dict[str, Any]:
        from ..detection.rule import SEVERITIES

        return {
            "id": self.id, "rule": self.rule, "rule_type": self.rule_type, "severity": self.severity,
            "severity_zh": SEVERITIES.get(self.severity, self.severity), "key": self.key, "status": self.status,
            "status_zh": STATUS_ZH.get(self.status, self.status), "reason": self.reason,
            "first_match": _iso(self.first_match), "last_match": _iso(self.last_match),
            "notified_at": _iso(self.notified_at), "resolved_at": _iso(self.resolved_at),
            "created_at": _iso(self.created_at), "count": self.count, "value": self.value,
            "post_ids": list(self.post_ids or []), "duty": dict(self.duty or {}), "description": self.description,
            "channels": list(self.channels or []), "details": dict(self.details or {}),
        }


class Silence(Base):
    """Matches of ``rule`` ("*" = every rule) for ``key`` ("" = every value) are recorded but not sent until
    ``until``."""

    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(200), default="*")
    key: Mapped[str] = mapped_column(FittedKey(300), default="")
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def covers(self, rule: str, key: str, now: datetime) -> bool:
        return (self.rule in ("*", rule)) and (not self.key or self.key == key) and aware(self.until) > now

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "key": self.key, "until": _iso(self.until), "reason": self.reason,
                "created_by": self.created_by, "created_at": _iso(self.created_at)}


class RuleState(Base):
    """A rule's window state (counts per bucket, known terms ...) and which keys are firing."""

    __tablename__ = "rule_state"
    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    rule_type: Mapped[str] = mapped_column(String(40))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleStateRow(Base):
    """One row of a rule's big per-key state (new_term: a known term and when it was last seen), written as
    changes instead of rewriting the whole state each tick."""

    __tablename__ = "rule_state_rows"
    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(FittedKey(400), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class OutboxRow(Base):
    """One delivery of one alert (or resolved notice) to one channel, retried with backoff until sent."""

    __tablename__ = "alert_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="alert")  # alert | resolved
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | sent | failed
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the process sending it now (committed before the send, so no other process sends it too) and until when;
    # a claim that expires (its sender died) is taken again
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "alert_id": self.alert_id, "channel": self.channel, "kind": self.kind,
                "attempts": self.attempts, "next_try": _iso(self.next_try), "status": self.status,
                "last_error": self.last_error, "sent_at": _iso(self.sent_at)}
