"""Timeliness (时效): per incident and per month -- time to acknowledge, to first authoritative information, to
publication; deadlines met or missed. Months are calendar months in the desk's zone (``[desk] timezone``, Beijing
time by default). Export as CSV (Chinese headers, times in the desk's zone, UTF-8 with a BOM) or JSON."""

from __future__ import annotations

import io
import json
import re
import statistics
from datetime import datetime, timezone, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import timefmt
from ..state.incidents import Incident, aware, iso
from . import csvsafe, deadlines
from .lifecycle import now as clock_now

COLUMNS = ("id", "title", "level", "status", "department", "opened_at", "ack_minutes", "first_info_minutes",
           "publish_minutes", "info_due", "info_met", "info_result", "press_due", "press_met", "press_result",
           "closed_at", "close_reason")
# a deadline's result (deadlines.Clock.state): met, missed, closed (the incident closed before it fell due,
# without it being met: the clock stopped), running; "" when the incident has no such deadline
RESULT_ZH = {"met": "按时", "missed": "超时", "closed": "已关闭（未到期）", "running": "进行中", "": ""}
#: the CSV's header row, in the words a person reads (times are in the desk's zone: the header names it)
HEADERS = {"id": "事件编号", "title": "标题", "level": "级别", "status": "状态", "department": "责任单位",
           "opened_at": "立案时间", "ack_minutes": "接警用时（分钟）", "first_info_minutes": "首次发布权威信息用时（分钟）",
           "publish_minutes": "发布回应用时（分钟）", "info_due": "权威信息时限", "info_met": "权威信息是否按时",
           "info_result": "权威信息时限结果", "press_due": "新闻发布时限", "press_met": "新闻发布是否按时",
           "press_result": "新闻发布时限结果", "closed_at": "结案时间", "close_reason": "结案说明"}
TIMES = ("opened_at", "info_due", "press_due", "closed_at")


def parse_month(month: str, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """'2026-11' -> [start, end) in UTC of that month in ``tz`` (the desk's zone; default Beijing time)."""
    tz = tz or timefmt.zone()
    m = re.fullmatch(r"(\d{4})-(\d{2})", month or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"月份 {month!r} 格式不对：应为 YYYY-MM，如 2026-11")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=tz)
    end = datetime(y + (mo == 12), 1 if mo == 12 else mo + 1, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    a, b = aware(a), aware(b)
    return round((b - a).total_seconds() / 60, 1) if a and b else None


def incident_metrics(cfg: Any, inc: Incident, now: datetime | None = None) -> dict[str, Any]:
    """One incident's figures. A closed incident's clocks are stopped at its closing time: it is never "running",
    and a deadline it had not met counts as missed when it closed after the due time."""
    now = now or clock_now()
    result = {c.name: c.state(now) for c in deadlines.clocks(cfg, inc)}

    def met(name: str) -> bool | None:
        r = result.get(name, "")
        return True if r == "met" else False if r == "missed" else None

    return {
        "id": inc.id, "title": inc.title, "level": inc.level, "status": inc.status, "department": inc.department,
        "major": deadlines.is_major(cfg, inc.level), "opened_at": iso(inc.opened_at),
        "closed": inc.status == "closed",
        "ack_minutes": _minutes(inc.opened_at, inc.acknowledged_at),
        "first_info_minutes": _minutes(inc.opened_at, inc.first_info_at),
        "publish_minutes": _minutes(inc.opened_at, inc.published_at),
        "info_due": iso(inc.info_due), "info_met": met("info"), "info_result": result.get("info", ""),
        "press_due": iso(inc.press_due), "press_met": met("press"), "press_result": result.get("press", ""),
        "closed_at": iso(inc.closed_at), "close_reason": inc.close_reason or "",
    }


def month_rows(s: Session, cfg: Any, month: str) -> list[dict[str, Any]]:
    start, end = parse_month(month, timefmt.zone(cfg))
    incs = s.scalars(select(Incident).where(Incident.opened_at >= start, Incident.opened_at < end)
                     .order_by(Incident.id))
    return [incident_metrics(cfg, i) for i in incs]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of incidents (closed / still running) and, per deadline (info, press), met / missed / running /
    closed-before-due; ``deadlines_met`` and ``deadlines_missed`` add the two deadlines up."""
    def med(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(vals), 1) if vals else None

    per = {name: {k: sum(1 for r in rows if r[f"{name}_result"] == k) for k in ("met", "missed", "running", "closed")}
           for name in ("info", "press")}
    return {"incidents": len(rows), "closed": sum(1 for r in rows if r["closed"]),
            "running": sum(1 for r in rows if not r["closed"]),
            "median_ack_minutes": med("ack_minutes"),
            "median_first_info_minutes": med("first_info_minutes"), "median_publish_minutes": med("publish_minutes"),
            "deadlines_met": per["info"]["met"] + per["press"]["met"],
            "deadlines_missed": per["info"]["missed"] + per["press"]["missed"], "deadlines": per,
            "closed_without_answer": len([r for r in rows if r["closed_at"] and r["publish_minutes"] is None])}


def export(s: Session, cfg: Any, month: str, fmt: str = "csv") -> str:
    """The month's incidents as CSV (for people: Chinese headers and words, times in the desk's zone) or JSON (for
    machines: the field names, ISO times with the desk's UTC offset, plus ``*_zh`` words)."""
    from .lifecycle import status_zh

    tz = timefmt.zone(cfg)
    rows = month_rows(s, cfg, month)
    if fmt == "json":
        out = [{**r, **{k: timefmt.iso(r[k], tz) or None for k in TIMES}, "status_zh": status_zh(r["status"]),
                "info_result_zh": RESULT_ZH.get(r["info_result"], r["info_result"]),
                "press_result_zh": RESULT_ZH.get(r["press_result"], r["press_result"])} for r in rows]
        return json.dumps({"month": month, "timezone": tz.key, "summary": summary(rows), "incidents": out},
                          ensure_ascii=False, indent=2) + "\n"
    buf = io.StringIO(csvsafe.BOM)  # for spreadsheets: UTF-8 with a BOM, formula-like cells neutralised
    buf.seek(0, io.SEEK_END)
    w = csvsafe.SafeDictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    label = timefmt.zone_label(tz)
    w.writerow({k: f"{HEADERS[k]}（{label}）" if k in TIMES else HEADERS[k] for k in COLUMNS})
    for r in rows:
        w.writerow({k: _cell(k, r[k], tz, status_zh) for k in COLUMNS})
    return buf.getvalue()


def _cell(k: str, v: Any, tz: tzinfo, status_zh: Any) -> Any:
    if k.endswith("_result"):
        return RESULT_ZH.get(v, v)
    if k in TIMES:
        return timefmt.fmt(v, tz, timefmt.MINUTES, empty="")
    if k == "status":
        return status_zh(v)
    return "" if v is None else ("是" if v is True else "否" if v is False else v)
