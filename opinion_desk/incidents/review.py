"""The approvers' side of four eyes (双人审核): close requests and the 待我审核 queue.

A duty officer may not close an unanswered incident alone: their close request (with its written reason) is kept
as an :class:`~opinion_desk.state.incidents.Approval` row (``kind="close_request"``, ``approver`` = who asked,
``decision="pending"``), audited, and announced to the approvers (``broadcast.review``: a banner on every page
of an approver). An approver accepts it (the incident closes with the officer's reason, approved by them) or
declines it (with a comment; the incident stays open). :func:`queue` lists what waits for an approver: drafts to
approve (not their own unless self-approval is allowed) and close requests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import broadcast
from ..errors import IncidentError
from ..state.incidents import Approval, Draft, Incident, iso
from .lifecycle import ACTIVE, Actor, check, expect, get, now, record, status_zh, writing


def pending_request(s: Session, inc_id: int) -> Approval | None:
    return s.scalar(select(Approval).where(Approval.incident_id == inc_id, Approval.kind == "close_request",
                                           Approval.decision == "pending").order_by(Approval.id.desc()).limit(1))


def request_close(desk: Any, inc_id: int, actor: Actor, version: int | None, reason: str) -> Approval:
    """A duty officer asks to close an incident that has no published answer; nothing closes yet."""
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        expect(s, inc, version)
        check(inc, "close", actor)
        if pending_request(s, inc_id) is not None:
            raise IncidentError(f"事件 #{inc_id} 已有待审核的关闭申请，请等待审核领导处理")
        req = Approval(incident_id=inc_id, kind="close_request", approver=actor.username, decision="pending",
                       comment=reason, at=now())
        s.add(req)
        record(s, inc, "close_request", actor, {"reason": reason})
        s.flush()
        item = {"id": req.id, "incident_id": inc_id, "kind": "close_request", "title": inc.title, "level": inc.level,
                "requested_by": actor.username, "requested_by_name": actor.name, "reason": reason, "at": iso(req.at)}
    broadcast.review({"event": "close_request", "item": item,
                      "message": f"【待我审核】事件#{inc_id}「{item['title']}」{actor.name}申请关闭：{reason}"})
    desk.emit(inc, "close_requested")
    return req


def decide_close(desk: Any, inc_id: int, actor: Actor, version: int | None, accept: bool, comment: str = "") -> Incident:
    """An approver accepts (the incident closes) or declines (with a comment) the pending close request."""
    if not actor.has_role("approver"):
        raise IncidentError("权限不足：批准关闭申请需要审核领导角色")
    comment = (comment or "").strip()
    if not accept and not comment:
        raise IncidentError("驳回关闭申请须写明意见")
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        expect(s, inc, version)
        req = pending_request(s, inc_id)
        if req is None:
            raise IncidentError(f"事件 #{inc_id} 没有待审核的关闭申请")
        req.decision = "approved" if accept else "rejected"
        s.add(Approval(incident_id=inc_id, kind="close", approver=actor.username,
                       decision=req.decision, comment=comment or req.comment, at=now()))
        if accept:
            from .lifecycle import transition

            transition(s, inc, "close", actor, version,
                       {"reason": req.comment, "requested_by": req.approver, "approved_by": actor.username,
                        "comment": comment}, closed_at=now(), close_reason=req.comment,
                       close_approved_by=actor.username)
        else:
            record(s, inc, "close_declined", actor, {"requested_by": req.approver, "comment": comment})
    desk.emit(inc, "closed" if accept else "close_declined")
    broadcast.review({"event": "close_decided", "item": {"incident_id": inc_id, "accepted": accept}})
    return inc


def queue(s: Session, cfg: Any, actor: Actor) -> list[dict[str, Any]]:
    """待我审核: drafts waiting for approval and close requests, oldest first; empty for a non-approver."""
    if not actor.has_role("approver"):
        return []
    allow_self = bool(cfg["incidents"].get("allow_self_approval"))
    out: list[dict[str, Any]] = []
    incs = {i.id: i for i in s.scalars(select(Incident).where(Incident.status.in_(ACTIVE)))}
    for d in s.scalars(select(Draft).where(Draft.status == "draft").order_by(Draft.created_at)):
        inc = incs.get(d.incident_id)
        if inc is None or inc.status != "drafted":
            continue
        own = d.author == actor.username
        if own and not allow_self:
            continue
        out.append({"kind": "draft", "incident_id": inc.id, "title": inc.title, "level": inc.level,
                    "status_zh": status_zh(inc.status), "draft": d.number, "requested_by": d.author,
                    "own": own, "at": iso(d.created_at)})
    for r in s.scalars(select(Approval).where(Approval.kind == "close_request", Approval.decision == "pending")
                       .order_by(Approval.at)):
        inc = incs.get(r.incident_id)
        if inc is None:
            continue
        out.append({"kind": "close_request", "id": r.id, "incident_id": inc.id, "title": inc.title,
                    "level": inc.level, "status_zh": status_zh(inc.status), "requested_by": r.approver,
                    "reason": r.comment, "at": iso(r.at)})
    out.sort(key=lambda x: x["at"] or "")
    from ..display import user_name
    from ..state.users import User

    names = {u.username: u.name for u in s.scalars(select(User))}
    for x in out:  # a person reads the display name (王值班), not the login name
        x["requested_by_name"] = user_name(x["requested_by"], names)
    return out
