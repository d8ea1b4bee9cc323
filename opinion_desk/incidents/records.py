"""What the pages and the API see of an incident: the list record (with its clocks) and the whole workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..display import user_name
from ..state.incidents import (Approval, Draft, Escalation, Incident, IncidentAlert, IncidentNote, IncidentPost,
                               Publication, iso)
from . import audit, deadlines
from .drafts import weibo_summary
from .lifecycle import STATES, TRANSITIONS

TIMES = ("opened_at", "acknowledged_at", "drafted_at", "approved_at", "first_info_at", "published_at",
         "verified_at", "press_held_at", "closed_at", "info_due", "press_due")


def incident_dict(cfg: Any, inc: Incident) -> dict[str, Any]:
    d = {k: getattr(inc, k) for k in ("id", "version", "title", "summary", "level", "status", "region",
                                         "source_alert_id", "created_by", "assignee", "department", "close_reason",
                                         "close_approved_by")}
    d["keywords"] = list(inc.keywords or [])
    d["contacts"] = list(inc.contacts or [])
    d["status_zh"] = STATES.get(inc.status, inc.status)
    d["major"] = deadlines.is_major(cfg, inc.level)
    for k in TIMES:
        d[k] = iso(getattr(inc, k))
    d["clocks"] = deadlines.clock_dicts(cfg, inc)
    return d


def _post(snap: IncidentPost) -> dict[str, Any]:
    p = dict(snap.snapshot or {})
    keep = ("id", "source", "platform", "author", "author_type", "title", "text", "url", "created_at", "sentiment_label",
            "rumour_score", "reposts", "comments", "likes", "region", "keywords")
    out = {k: p.get(k) for k in keep}
    out["snapshot_at"] = iso(snap.snapshot_at)
    out["snapshot_sha256"] = snap.snapshot_sha256
    out["has_raw"] = p.get("raw") is not None
    return out


def _draft(d: Draft) -> dict[str, Any]:
    return {"id": d.id, "number": d.number, "author": d.author, "status": d.status, "weibo_text": d.weibo_text,
            "weibo_summary": weibo_summary(d.weibo_text), "weibo_length": len(d.weibo_text),
            "wechat_title": d.wechat_title, "wechat_digest": d.wechat_digest, "wechat_body": d.wechat_body,
            "check": d.check or {}, "created_at": iso(d.created_at)}


def publication_dict(p: Publication) -> dict[str, Any]:
    """One publication: how it went out (api / demo 演示 / manual), its snapshot and live checks."""
    det = dict(p.details or {})
    snap = det.get("snapshot") or {}
    checks = det.get("checks") or []
    return {"channel": p.channel, "status": p.status, "remote_id": p.remote_id, "url": p.url, "error": p.error,
            "published_at": iso(p.published_at), "verified_at": iso(p.verified_at), "draft_id": p.draft_id,
            "at": iso(p.at), "mode": p.mode or "api", "label": "演示" if p.mode == "demo" else "",
            "published_by": p.published_by, "gone_at": iso(p.gone_at), "detail": det.get("detail", ""),
            "verified_how": det.get("verified_how", ""), "last_check": checks[-1] if checks else None,
            "publish_mode": det.get("publish_mode", ""),
            "snapshot": {k: snap.get(k) for k in ("status", "sha256", "title", "error", "fetched_at")} if snap else None}


def detail(cfg: Any, s: Session, inc: Incident) -> dict[str, Any]:
    """The workspace: posts, alerts, drafts, approvals, publications, notes, escalations and the timeline."""
    from ..state.users import User

    q = lambda model, order: s.scalars(select(model).where(model.incident_id == inc.id).order_by(order))  # noqa: E731
    d = incident_dict(cfg, inc)
    d["posts"] = [_post(p) for p in q(IncidentPost, IncidentPost.id)]
    d["alerts"] = [{"alert_id": a.alert_id, **(a.summary or {}), "linked_at": iso(a.linked_at)}
                   for a in q(IncidentAlert, IncidentAlert.id)]
    d["drafts"] = [_draft(x) for x in q(Draft, Draft.number)]
    d["approvals"] = [{"draft_id": a.draft_id, "kind": a.kind, "approver": a.approver, "decision": a.decision,
                       "comment": a.comment, "at": iso(a.at)} for a in q(Approval, Approval.id)]
    d["publications"] = [publication_dict(p) for p in q(Publication, Publication.id)]
    d["notes"] = [{"author": n.author, "text": n.text, "at": iso(n.at)} for n in q(IncidentNote, IncidentNote.id)]
    d["escalations"] = [{"kind": e.kind, "message": e.message, "delivered": e.delivered, "at": iso(e.at)}
                        for e in q(Escalation, Escalation.id)]
    pending = [a for a in d["approvals"] if a["kind"] == "close_request" and a["decision"] == "pending"]
    d["close_request"] = pending[-1] if pending and inc.status != "closed" else None
    names = {u.username: u.name for u in s.scalars(select(User))}
    names["system"] = "系统"
    for a in d["approvals"]:
        a["approver_name"] = user_name(a["approver"], names)
    for x in d["drafts"]:
        x["author_name"] = user_name(x["author"], names)
    for n in d["notes"]:
        n["author_name"] = user_name(n["author"], names)
    d["created_by_name"] = user_name(inc.created_by, names)
    d["timeline"] = [{"seq": e.seq, "at": e.at, "actor": e.actor, "actor_name": user_name(e.actor, names),
                      "action": e.action, "action_zh": ACTION_ZH.get(e.action, e.action) + _mark(e.payload), "payload": e.payload,
                      "hash": e.hash[:12]} for e in audit.entries(s, inc.id)]
    d["assignee_name"] = user_name(inc.assignee, names) if inc.assignee else inc.assignee
    return d


ACTION_ZH = {k: v[3] for k, v in TRANSITIONS.items()}
ACTION_ZH["answer_gone"] = "官方回应失效"


def _mark(payload: dict[str, Any] | None) -> str:
    """（演示） on what the 演示 publisher did, （手工） on a recorded hand-made publication."""
    p = payload or {}
    return "（演示）" if p.get("label") == "演示" else "（手工）" if p.get("mode") == "manual" else ""
ACTION_ZH.update({"open": "立案", "snapshot": "证据快照", "note": "备注", "notify": "推送通知", "escalate": "时限升级",
                  "verify": "核验上线", "verified": "双微均已上线", "link_alert": "关联预警", "draft_kept": "冲突稿件留存",
                  "publication": "渠道发布", "remind": "持续发布提醒", "close_request": "申请关闭",
                  "close_declined": "驳回关闭申请"})
