"""Briefing state: one row per generated 舆情简报 (its period, files under ``data_dir/briefings/``, figures and
how its mailing went)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from . import Base


def _now() -> datetime:
    return datetime.now(timezone.utc)


class BriefingRow(Base):
    __tablename__ = "briefings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # daily | weekly | range
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(80), default="system")  # "system" = the schedule
    docx_file: Mapped[str] = mapped_column(String(300))  # file names inside data_dir/briefings/
    html_file: Mapped[str] = mapped_column(String(300))
    figures: Mapped[dict] = mapped_column(JSON, default=dict)  # the headline counts, as printed
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # the addresses it was mailed to
    mail_status: Mapped[str] = mapped_column(String(20), default="")  # "" (not mailed) | queued | error
    mail_note: Mapped[str] = mapped_column(Text, default="")  # why not, in Chinese
    outbox_ids: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (Index("briefings_kind_start", "kind", "period_start"),)

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            if t is None:
                return None
            return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).isoformat()

        return {"id": self.id, "kind": self.kind, "title": self.title, "period_start": iso(self.period_start),
                "period_end": iso(self.period_end), "generated_at": iso(self.generated_at),
                "created_by": self.created_by, "docx_file": self.docx_file, "html_file": self.html_file,
                "figures": dict(self.figures or {}), "recipients": list(self.recipients or []),
                "mail_status": self.mail_status, "mail_note": self.mail_note, "outbox_ids": list(self.outbox_ids or [])}
