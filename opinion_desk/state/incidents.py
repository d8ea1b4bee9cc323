"""Incident state: incidents (with a ``version`` for optimistic concurrency), their linked alerts, evidence
snapshots of posts, notes, drafts, approvals, publications, escalations and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from . import Base


def _now() -> datetime:
    return datetime.now(timezone.utc)


def aware(t: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive (UTC): make them aware again."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=timezone.utc)
    return t


def iso(t: datetime | None) -> str | None:
    t = aware(t)
    return t.isoformat() if t else None


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    region: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    source_alert_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    assignee: Mapped[str | None] = mapped_column(String(80), nullable=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    contacts: Mapped[list] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    drafted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_info_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    press_held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    info_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    press_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated: Mapped[list] = mapped_column(JSON, default=list)  # "info:0.5", "press:1.0" ... already pushed
    last_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    close_approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class IncidentAlert(Base):
    __tablename__ = "incident_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[str] = mapped_column(String(40))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IncidentPost(Base):
    """Evidence: a snapshot of a post behind an incident (with its raw payload), taken when linked."""

    __tablename__ = "incident_posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[str] = mapped_column(String(40))
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    __table_args__ = (Index("incident_posts_unique", "incident_id", "post_id", unique=True),)


class IncidentNote(Base):
    __tablename__ = "incident_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Draft(Base):
    """One version of the 双微 answer: a Weibo post and a WeChat article from one text."""

    __tablename__ = "incident_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(80))
    weibo_text: Mapped[str] = mapped_column(Text)
    wechat_title: Mapped[str] = mapped_column(String(200))
    wechat_digest: Mapped[str] = mapped_column(String(200), default="")
    wechat_body: Mapped[str] = mapped_column(Text)
    check: Mapped[dict] = mapped_column(JSON, default=dict)  # the own-draft check's findings
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | approved | rejected | superseded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Approval(Base):
    __tablename__ = "incident_approvals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="draft")  # draft | close
    approver: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(20))  # approved | rejected
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Publication(Base):
    __tablename__ = "incident_publications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    draft_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))  # weibo | wechat
    status: Mapped[str] = mapped_column(String(20))  # published | failed
    remote_id: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_post_id: Mapped[str] = mapped_column(String(40), default="")
    # how it went out: "api" (the desk called the platform), "demo" (演示, nothing left the desk), "manual"
    # (an officer published by hand and recorded the link); who published (manual), and what the desk learnt:
    # the fetched snapshot (sha256, text), platform ids (media_id, msg_id), live checks and when it disappeared
    mode: Mapped[str] = mapped_column(String(20), default="api")
    published_by: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    gone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Escalation(Base):
    """A deadline push (to approvers and leaders) or a 持续发布 reminder; also handed to the alerting outbox
    when it offers a way in (see :mod:`opinion_desk.incidents.deadlines`)."""

    __tablename__ = "incident_escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # info:0.5 | press:1.0 | remind
    message: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    delivered: Mapped[str] = mapped_column(String(200), default="")  # how: "outbox", "dashboard"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEntry(Base):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical JSON of the entry)``."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO-8601 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "incident_id": self.incident_id, "payload": self.payload, "hash": self.hash}
