"""Times written to the state database are UTC on every database. PostgreSQL keeps an aware time's instant; SQLite
drops its zone and keeps the wall-clock digits, so a Beijing time (+08:00) would come back 8 hours late. Before
each flush, :func:`utc_times` turns the aware times of new and changed rows to UTC (the desk reads a naive time
from the database as UTC: :func:`opinion_desk.state.alerts.aware`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

ZERO = timedelta(0)


def utc_times(session: Session, _flush_context: Any = None, _instances: Any = None) -> None:
    """``before_flush``: every aware ``datetime`` attribute of a new or changed row, in UTC."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)
            if isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() != ZERO:
                setattr(obj, attr.key, value.astimezone(timezone.utc))
