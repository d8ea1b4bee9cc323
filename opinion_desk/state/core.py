"""Core state tables: key/value settings and per-source collector state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from . import Base


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)


class SourceState(Base):
    """Per-source cursor and health: last success, last error, items per run, failures in a row."""

    __tablename__ = "source_state"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    cursor: Mapped[dict] = mapped_column(JSON, default=dict)
    last_run: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_success: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_items: Mapped[int] = mapped_column(Integer, default=0)
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    # "error" | "auth" (login expired) | "timeout"; None after a success
    last_error_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    # notes of the last run that did not fail it (an expired WeChat link, a skipped bad line)
    last_notes: Mapped[list] = mapped_column(JSON, default=list)
    # the last runs, newest last: [{"at", "items", "error", "seconds"}], for the health page's sparkline
    recent: Mapped[list] = mapped_column(JSON, default=list)
