"""Timeliness (时效): per incident and per month -- time to acknowledge, to first authoritative information, to
publication; deadlines met or missed. Months are calendar months in Asia/Shanghai. Export as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..state.incidents import Incident, aware, iso
from . import csvsafe, deadlines

CST = timezone(timedelta(hours=8))
COLUMNS = ("id", "title", "level", "status", "department", "opened_at", "ack_minutes", "first_info_minutes",
           "publish_minutes", "info_due", "info_met", "press_due", "press_met", "closed_at", "close_reason")


def parse_month(month: str) -> tuple[datetime, datetime]:
    """'2026-11' -> [start, end) in UTC of that month in Asia/Shanghai."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", month or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"month {month!r}: want YYYY-MM, e.g. 2026-11")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=CST)
    end = datetime(y + (mo == 12), 1 if mo == 12 else mo + 1, 1, tzinfo=CST)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    a, b = aware(a), aware(b)
    return round((b - a).total_seconds() / 60, 1) if a and b else None


def _met(due: datetime | None, at: datetime | None, now: datetime) -> bool | None:
    """True met, False missed (late, or still open past due), None still running."""
    due, at = aware(due), aware(at)
    if due is None:
        return None
    if at is not None:
        return at <= due
    return False if now > due else None


def incident_metrics(cfg: Any, inc: Incident, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    return {
        "id": inc.id, "title": inc.title, "level": inc.level, "status": inc.status, "department": inc.department,
        "major": deadlines.is_major(cfg, inc.level), "opened_at": iso(inc.opened_at),
        "ack_minutes": _minutes(inc.opened_at, inc.acknowledged_at),
        "first_info_minutes": _minutes(inc.opened_at, inc.first_info_at),
        "publish_minutes": _minutes(inc.opened_at, inc.published_at),
        "info_due": iso(inc.info_due), "info_met": _met(inc.info_due, inc.first_info_at, now),
        "press_due": iso(inc.press_due), "press_met": _met(inc.press_due, inc.press_held_at, now),
        "closed_at": iso(inc.closed_at), "close_reason": inc.close_reason or "",
    }


def month_rows(s: Session, cfg: Any, month: str) -> list[dict[str, Any]]:
    start, end = parse_month(month)
    incs = s.scalars(select(Incident).where(Incident.opened_at >= start, Incident.opened_at < end)
                     .order_by(Incident.id))
    return [incident_metrics(cfg, i) for i in incs]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(vals), 1) if vals else None

    met = [r for r in rows if r["info_met"] is True]
    missed = [r for r in rows if r["info_met"] is False] + [r for r in rows if r["press_met"] is False]
    return {"incidents": len(rows), "median_ack_minutes": med("ack_minutes"),
            "median_first_info_minutes": med("first_info_minutes"), "median_publish_minutes": med("publish_minutes"),
            "deadlines_met": len(met) + len([r for r in rows if r["press_met"] is True]),
            "deadlines_missed": len(missed), "running": len([r for r in rows if r["info_met"] is None]),
            "closed_without_answer": len([r for r in rows if r["closed_at"] and r["publish_minutes"] is None])}


def export(s: Session, cfg: Any, month: str, fmt: str = "csv") -> str:
    rows = month_rows(s, cfg, month)
    if fmt == "json":
        return json.dumps({"month": month, "summary": summary(rows), "incidents": rows}, ensure_ascii=False,
                          indent=2) + "\n"
    buf = io.StringIO(csvsafe.BOM)  # for spreadsheets: UTF-8 with a BOM, formula-like cells neutralised
    buf.seek(0, io.SEEK_END)
    w = csvsafe.SafeDictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r[k] is None else ("是" if r[k] is True else "否" if r[k] is False else r[k]))
                    for k in COLUMNS})
    return buf.getvalue()
