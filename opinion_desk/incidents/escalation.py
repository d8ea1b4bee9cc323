"""Incident notices (事件时限, 事件分派, 持续发布提醒) are their own kind, not opinion alerts.

Each notice goes to named people -- the approvers (desk users with the approver role: name, phone, email) and the
routed department's contacts (the routing table's name, phone, email and optional ``feishu_id``) -- by

- the desk pages: a ``broadcast.escalation`` event; every logged-in page shows one banner per incident, updated
  in place, linking to ``/incidents/<id>``; the list stays on the incident page and the 告警 page (事件时限);
- the alerting outbox (``[incidents] escalation_channels``; empty = every channel but the dashboard): email goes
  to the people's addresses (as well as the channel's own list), and robots @mention them in each platform's
  documented way: WeCom ``text.mentioned_mobile_list``, DingTalk ``at.atMobiles`` with ``@<mobile>`` in the text,
  Feishu ``<at user_id="ou_...">name</at>`` in a text message (Feishu needs the person's open_id/user_id:
  contact field ``feishu_id``; a person without one is named in plain text).

The payload the channels render has ``kind = "escalation"`` and an ``escalation`` record; ``alert`` is kept with
the fields the shared templates read so a generic webhook still receives a complete message.
"""

from __future__ import annotations

from typing import Any

from ..state.incidents import Incident, iso
from .lifecycle import now

KIND_ZH = {"route": "事件分派", "remind": "持续发布提醒"}
PERSON_FIELDS = ("username", "name", "phone", "email", "feishu_id", "wecom_userid")


def kind_zh(kind: str) -> str:
    """``info:0.8``/``press:1`` -> 事件时限; ``route`` -> 事件分派; ``remind`` -> 持续发布提醒."""
    return KIND_ZH.get(kind, "事件时限")


def people(approvers: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The named recipients, each once (by phone, else email, else name), approvers first."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for p in list(approvers) + list(contacts or []):
        person = {k: str(p.get(k) or "").strip() for k in PERSON_FIELDS if str(p.get(k) or "").strip()}
        if "mobile" in p and "phone" not in person:
            person["phone"] = str(p["mobile"]).strip()
        key = person.get("phone") or person.get("email") or person.get("name") or person.get("username", "")
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(person)
    return out


def record(cfg: Any, inc: Incident, kind: str, message: str, recipients: list[dict[str, Any]],
           delivered: str = "", at: str | None = None) -> dict[str, Any]:
    """What the pages receive (Socket.IO ``escalation``) and list: one notice of one incident."""
    return {"incident_id": inc.id, "title": inc.title, "level": inc.level, "kind": kind, "kind_zh": kind_zh(kind),
            "message": message, "at": at or iso(now()), "url": f"/incidents/{inc.id}",
            "overdue": kind.endswith(":1"), "delivered": delivered,
            "recipients": [p.get("name") or p.get("username") or p.get("phone", "") for p in recipients]}


def payload(cfg: Any, inc: Incident, kind: str, message: str, recipients: list[dict[str, str]]) -> dict[str, Any]:
    t = iso(now())
    desk_url = ((cfg.get("alerting") or {}).get("desk_url", "") or "").rstrip("/")
    link = f"{desk_url}/incidents/{inc.id}" if desk_url else ""
    severity = {"特别重大": "critical", "重大": "high", "较大": "medium"}.get(inc.level, "low")
    esc = {"incident_id": inc.id, "title": inc.title, "level": inc.level, "kind": kind, "kind_zh": kind_zh(kind),
           "message": message, "department": inc.department or "", "at": t, "url": link}
    alert = {"id": f"I{inc.id}", "rule": kind_zh(kind), "rule_type": "incident", "severity": severity,
             "severity_zh": inc.level, "key": f"#{inc.id}", "status": "open", "status_zh": "处置中", "reason": message,
             "first_match": t, "last_match": t, "notified_at": None, "resolved_at": None, "created_at": t, "count": 1,
             "value": None, "post_ids": [], "duty": {}, "description": message, "channels": [],
             "details": {"incident_id": inc.id, "kind": kind}}
    return {"kind": "escalation", "escalation": esc, "alert": alert, "posts": [], "desk_url": link,
            "mentions": recipients, "tz": cfg["desk"]["timezone"]}


def channel_names(cfg: Any, outbox: Any) -> list[str]:
    wanted = cfg["incidents"]["escalation_channels"] or list(getattr(outbox, "channels", {}))
    return [n for n in wanted if n in getattr(outbox, "channels", {}) and n != "dashboard"]


def deliver(cfg: Any, outbox: Any, inc: Incident, kind: str, message: str, recipients: list[dict[str, str]]) -> str:
    """Hand the notice to the outbox (email, robots); returns how it went (kept on the Escalation row)."""
    if outbox is None or not hasattr(outbox, "enqueue"):
        return "dashboard"
    names = channel_names(cfg, outbox)
    if not names:
        return "dashboard"
    try:
        outbox.enqueue(f"I{inc.id}", names, "escalation", payload(cfg, inc, kind, message, recipients))
    except Exception as e:  # the notice is still on the pages and in the table
        return f"dashboard (outbox failed: {e})"
    return "dashboard,outbox:" + ",".join(names)
