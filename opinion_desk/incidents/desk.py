"""The incident desk: every action a person takes on an incident, each one checked, versioned and audited.

:class:`IncidentDesk` is built once by the desk (:mod:`opinion_desk.root`); the web views and the
jobs call it. Actions raise :class:`~opinion_desk.errors.IncidentError` (refused: wrong state or role, bad
input) or :class:`~opinion_desk.errors.ConflictError` (someone else changed the incident first).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import broadcast
from ..errors import IncidentError
from ..state.incidents import (Approval, Draft, Incident, IncidentAlert, IncidentNote, IncidentPost,
                               aware, iso)
from ..detection.rule import SEVERITIES
from ..timefmt import zone
from . import deadlines, lifecycle, routing
from .check import check_draft
from .drafts import compose
from .lifecycle import SYSTEM, Actor, get, now, record, transition, writing
from .records import incident_dict

log = logging.getLogger(__name__)


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class IncidentDesk:
    """The incidents of one desk: ``db`` (state database), ``store`` (the posts an incident holds), ``outbox``
    (escalation notices), ``engine`` (its alert book raises 官方回应失效), ``secret`` (signs statement links)."""

    def __init__(self, cfg: Any, db: Any, store: Any, *, outbox: Any = None, engine: Any = None,
                 secret: str = "opinion-desk") -> None:
        self.cfg = cfg
        self.db = db
        self.store = store
        self.outbox = outbox
        self.engine = engine
        self.secret = secret
        self._routes: tuple[tuple[str, float], list[routing.Jurisdiction]] | None = None

    # -- helpers -------------------------------------------------------------------------------------

    def routing_table(self) -> list[routing.Jurisdiction]:
        """The jurisdiction table (re-read when the file changes; the shipped example in the demo)."""
        p = routing.table_path(self.cfg)
        if p is None:
            return []
        key = (str(p), p.stat().st_mtime)
        if self._routes is None or self._routes[0] != key:
            self._routes = (key, routing.load(p))
        return self._routes[1]

    def posts(self, ids: list[str]) -> list[Any]:
        out = []
        for pid in ids:
            try:
                p = self.store.get(pid) if self.store is not None else None
            except Exception:  # the store may be down: the incident opens anyway
                log.exception("store get %s", pid)
                p = None
            if p is not None:
                out.append(p)
        return out

    def emit(self, inc: Incident, event: str, **extra: Any) -> None:
        data = {"event": event, "incident": incident_dict(self.cfg, inc)}
        data.update(extra)
        broadcast.incident(data)

    def _level(self, level: str | None) -> str:
        level = (level or self.cfg["incidents"]["default_level"]).strip()
        if level not in self.cfg["incidents"]["levels"]:
            raise IncidentError(f"未知的事件级别「{level}」（可选：{'、'.join(self.cfg['incidents']['levels'])}）")
        return level

    # -- opening ------------------------------------------------------------------------------------
    def open(self, actor: Actor, title: str = "", level: str | None = None, summary: str = "",
             post_ids: list[str] | None = None, alert_id: str | None = None,
             opened_at: datetime | None = None) -> Incident:
        """Open an incident by hand or from an alert; snapshot its posts, route it, start its clocks.

        ``opened_at`` records an incident that began earlier (taken by phone before it reached the desk): its
        clocks run from then. It may not lie in the future (that would lengthen the deadlines)."""
        if not actor.has_role("duty", "approver"):
            raise IncidentError("权限不足：立案需要值班员或审核领导角色")
        if opened_at is not None:
            if opened_at.tzinfo is None:
                raise IncidentError("立案时间须带时区")
            if opened_at > now():
                raise IncidentError("立案时间不能晚于当前时间")
        post_ids = list(post_ids or [])
        named = bool(post_ids) and not alert_id  # posts the officer named: each must be found (see .postref)
        alert = None
        if alert_id:
            from ..state.alerts import Alert

            with self.db.session_scope() as s:
                alert = s.get(Alert, alert_id)
                if alert is None:
                    raise IncidentError(f"预警 {alert_id} 不存在")
                alert = alert.to_dict()
            title = title or f"{alert['rule']}：{alert['key'] or alert['reason']}"[:300]
            level = level or SEVERITIES.get(alert["severity"])
            summary = summary or alert["reason"]
            post_ids = post_ids or alert["post_ids"]
        title = title.strip()
        if not title:
            raise IncidentError("事件标题不能为空")
        level = self._level(level)
        alert_level = SEVERITIES.get(alert["severity"]) if alert is not None else None
        if deadlines.is_major(self.cfg, level) and level != alert_level and not actor.has_role("approver"):
            # a major level starts the 5 h / 24 h clocks of a major emergency (press conference included): only an
            # approver decides that; an incident from an alert may start at the alert's own level
            raise IncidentError(f"权限不足：以「{level}」级立案会启动重大突发事件时限（含新闻发布会），需要审核领导角色；"
                                "值班员请按较低级别立案，由审核领导升级")
        if named:
            from .postref import resolve

            posts, problems = resolve(self.store, post_ids[:200])
            if problems:
                raise IncidentError("未立案。" + "；".join(problems))
        else:
            posts = self.posts(post_ids[:200])
        kw = Counter(k for p in posts for k in (p.keywords or [])[:5])
        keywords = [k for k, _ in kw.most_common(6)]
        region = Counter(p.region for p in posts if p.region).most_common(1)
        route = routing.route(self.routing_table(), posts, extra_text=f"{title}\n{summary}")
        opened = opened_at or now()
        info_due, press_due = deadlines.compute(self.cfg, level, opened)
        with writing(self.db) as s:
            if alert_id:
                taken = s.scalar(select(IncidentAlert).join(Incident, Incident.id == IncidentAlert.incident_id)
                                 .where(IncidentAlert.alert_id == alert_id, Incident.status != "closed"))
                if taken is not None:
                    raise IncidentError(f"预警 {alert_id} 已立案为事件 #{taken.incident_id}")
            inc = Incident(title=title, summary=summary, level=level, status="open", version=1,
                           region=region[0][0] if region else "", keywords=keywords, source_alert_id=alert_id,
                           created_by=actor.username, assignee=(route.assignee or None) if route else None,
                           department=route.department if route else "", contacts=route.contacts if route else [],
                           opened_at=opened, info_due=info_due, press_due=press_due, escalated=[])
            s.add(inc)
            s.flush()
            if alert is not None:
                s.add(IncidentAlert(incident_id=inc.id, alert_id=alert_id, summary={
                    k: alert[k] for k in ("rule", "severity", "reason", "first_match", "count", "key")}))
            snaps = []
            for p in posts:
                snap = p.to_dict()
                h = _sha(snap)
                s.add(IncidentPost(incident_id=inc.id, post_id=p.id, snapshot=snap, snapshot_sha256=h,
                                   snapshot_at=opened))
                snaps.append({"post_id": p.id, "sha256": h})
            record(s, inc, "open", actor, {"title": title, "level": level, "alert_id": alert_id,
                                           "opened_at": opened.isoformat(), "info_due": inc.info_due.isoformat(),
                                           "route": route.to_dict() if route else None})
            if snaps:
                record(s, inc, "snapshot", actor, {"posts": snaps})
        if route is not None:
            self.notify(inc, "route", f"【新事件】#{inc.id}「{title}」（{level}）按属地管理交由{route.department}负责，"
                                      f"请{inc.assignee or '值班员'}接警处置", route.contacts)
        self.emit(inc, "opened")
        return inc

    def link_alert(self, alert: Any) -> int | None:
        """An alert listener: a new alert of the same rule and key as an active incident is linked to it."""
        d = alert.to_dict() if hasattr(alert, "to_dict") else dict(alert)
        with writing(self.db) as s:
            rows = s.execute(select(Incident, IncidentAlert).join(IncidentAlert, Incident.id == IncidentAlert.incident_id)
                             .where(Incident.status != "closed")).all()
            for inc, ia in rows:
                if ia.summary.get("rule") == d.get("rule") and ia.alert_id != d.get("id") and \
                        ia.summary.get("key", d.get("key")) == d.get("key"):
                    s.add(IncidentAlert(incident_id=inc.id, alert_id=d["id"], summary={
                        k: d.get(k) for k in ("rule", "severity", "reason", "first_match", "count", "key")}))
                    record(s, inc, "link_alert", SYSTEM, {"alert_id": d["id"]})
                    break
            else:
                return None
        self.emit(inc, "alert_linked")
        return inc.id

    # -- simple transitions --------------------------------------------------------------------------
    def acknowledge(self, inc_id: int, actor: Actor, version: int | None) -> Incident:
        with writing(self.db) as s:
            inc = get(s, inc_id)
            transition(s, inc, "acknowledge", actor, version, acknowledged_at=now(),
                       assignee=inc.assignee or actor.username)
        self.emit(inc, "acknowledged")
        return inc

    def departments(self) -> list[str]:
        """The departments of the jurisdiction table (for the assign form)."""
        return list(dict.fromkeys(j.department for j in self.routing_table()))

    def assign(self, inc_id: int, actor: Actor, version: int | None, username: str = "",
               department: str | None = None) -> Incident:
        """Give the incident to a desk user (承办人) and/or a responsible department (责任单位). A department of the
        jurisdiction table brings its contacts; another name is kept as typed, without contacts."""
        from ..state.users import get_user

        username = (username or "").strip()
        department = department.strip() if department is not None else None
        if not username and not department:
            raise IncidentError("请选择承办人或责任单位")
        values: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        with writing(self.db) as s:
            inc = get(s, inc_id)
            if username:
                user = get_user(s, username)
                if user is None or not user.active:
                    raise IncidentError(f"用户 {username} 不存在或已停用")
                if not user.has_role("duty", "approver"):
                    raise IncidentError(f"用户 {username} 不是值班员或审核领导，不能承办事件")
                values["assignee"] = username
                payload.update(assignee=username, old_assignee=inc.assignee)
            if department:
                entry = next((j for j in self.routing_table() if j.department == department), None)
                values["department"] = department[:200]
                values["contacts"] = entry.contacts if entry else []
                payload.update(department=department[:200], old_department=inc.department,
                               from_table=entry is not None)
            transition(s, inc, "assign", actor, version, payload, **values)
        self.emit(inc, "assigned")
        return inc

    def set_level(self, inc_id: int, actor: Actor, version: int | None, level: str) -> Incident:
        """Change the level (分级负责); the deadlines are recomputed from the opening time. Lowering the level
        lengthens the deadlines, so only an approver may do it. Escalations already pushed for the old clocks
        are forgotten: the new clocks push afresh (only the latest due fraction, as after a restart)."""
        level = self._level(level)
        levels = list(self.cfg["incidents"]["levels"])
        with writing(self.db) as s:
            inc = get(s, inc_id)
            lifecycle.expect(s, inc, version)
            if level == inc.level:
                raise IncidentError(f"事件 #{inc.id} 已是「{level}」级")
            lowering = inc.level in levels and levels.index(level) > levels.index(inc.level)
            if lowering and not actor.has_role("approver"):
                raise IncidentError(f"权限不足：降低事件级别（{inc.level}→{level}）会延长处置时限，需要审核领导角色")
            if not lowering and deadlines.is_major(self.cfg, level) and not actor.has_role("approver"):
                raise IncidentError(f"权限不足：升为「{level}」级会启动重大突发事件时限（含新闻发布会），需要审核领导角色")
            info_due, press_due = deadlines.compute(self.cfg, level, aware(inc.opened_at))
            old_info, old_press = aware(inc.info_due), aware(inc.press_due)
            changed = info_due != old_info or press_due != old_press
            transition(s, inc, "level", actor, version,
                       {"level": level, "old": inc.level, "info_due": info_due.isoformat(),
                        "old_info_due": old_info.isoformat() if old_info else None,
                        "press_due": press_due.isoformat() if press_due else None,
                        "old_press_due": old_press.isoformat() if old_press else None},
                       level=level, info_due=info_due, press_due=press_due,
                       **({"escalated": []} if changed else {}))
        self.emit(inc, "level")
        return inc

    def press_held(self, inc_id: int, actor: Actor, version: int | None) -> Incident:
        with writing(self.db) as s:
            inc = get(s, inc_id)
            transition(s, inc, "press_held", actor, version, press_held_at=now())
        self.emit(inc, "press_held")
        return inc

    def follow_up(self, inc_id: int, actor: Actor, version: int | None) -> Incident:
        with writing(self.db) as s:
            inc = get(s, inc_id)
            transition(s, inc, "follow_up", actor, version)
        self.emit(inc, "following")
        return inc

    def note(self, inc_id: int, actor: Actor, text: str) -> IncidentNote:
        text = (text or "").strip()
        if not text:
            raise IncidentError("备注不能为空")
        with writing(self.db) as s:
            inc = get(s, inc_id)
            n = IncidentNote(incident_id=inc.id, author=actor.username, text=text[:5000], at=now())
            s.add(n)
            record(s, inc, "note", actor, {"text": text[:5000]})
        self.emit(inc, "note")
        return n

    def close(self, inc_id: int, actor: Actor, version: int | None, reason: str = "") -> Incident:
        """Close. Without a published answer it needs a written reason and an approver: a duty officer's close
        becomes a close request in the approvers' 待我审核 queue (:mod:`.review`) and the incident stays open."""
        reason = (reason or "").strip()
        if reason and not actor.has_role("approver"):
            with self.db.session_scope() as s:
                unanswered = get(s, inc_id).published_at is None
            if unanswered:
                from .review import request_close

                request_close(self, inc_id, actor, version, reason)
                with self.db.session_scope() as s:
                    return get(s, inc_id)
        with writing(self.db) as s:
            inc = get(s, inc_id)
            lifecycle.expect(s, inc, version)
            approved_by = None
            if inc.published_at is None:
                if not reason:
                    raise IncidentError("未发布回应即关闭事件，须填写书面理由")
                if not actor.has_role("approver"):
                    raise IncidentError("未发布回应即关闭事件，须由审核领导批准")
                approved_by = actor.username
                s.add(Approval(incident_id=inc.id, kind="close", approver=actor.username, decision="approved",
                               comment=reason, at=now()))
            transition(s, inc, "close", actor, version, {"reason": reason, "approved_by": approved_by},
                       closed_at=now(), close_reason=reason, close_approved_by=approved_by)
        self.emit(inc, "closed")
        return inc

    # -- drafts and approval -------------------------------------------------------------------------
    def check(self, inc_id: int, text: str) -> dict[str, Any]:
        from .evidence import official_and_rumours

        official, rumours = official_and_rumours(self, inc_id)
        return check_draft(text, official, rumours, zone(self.cfg)).to_dict()

    def save_draft(self, inc_id: int, actor: Actor, version: int | None, title: str, text: str,
                   topics: list[str] | None = None, digest: str = "") -> Draft:
        wb = self.cfg["incidents.weibo"]
        c = compose(title, text, topics, wb["safe_url"], digest)
        if not title.strip() or not text.strip():
            raise IncidentError("；".join(c.problems))
        result = self.check(inc_id, f"{title}\n{text}")
        fields = dict(weibo_text=c.weibo_text, wechat_title=c.wechat_title, wechat_digest=c.wechat_digest,
                      wechat_body=c.wechat_body, check=dict(result, problems=c.problems), author=actor.username)
        try:
            with writing(self.db) as s:
                inc = get(s, inc_id)
                number = len(list(s.scalars(select(Draft.id).where(Draft.incident_id == inc_id)))) + 1
                transition(s, inc, "draft", actor, version, {"draft": number, "sha256": _sha(fields),
                                                             "conflicts": result["conflicts"]},
                           drafted_at=inc.drafted_at or now(), approved_at=None)
                for d in s.scalars(select(Draft).where(Draft.incident_id == inc_id, Draft.status.in_(("draft", "approved")))):
                    d.status = "superseded"
                draft = Draft(incident_id=inc_id, number=number, status="draft", created_at=now(), **fields)
                s.add(draft)
        except lifecycle.ConflictError:
            # nothing is lost: the losing text is kept as a draft of its own, marked as not current
            with writing(self.db) as s:
                number = len(list(s.scalars(select(Draft.id).where(Draft.incident_id == inc_id)))) + 1
                s.add(Draft(incident_id=inc_id, number=number, status="conflict", created_at=now(), **fields))
                record(s, s.get(Incident, inc_id), "draft_kept", actor, {"draft": number, "sha256": _sha(fields)})
            raise
        self.emit(inc, "drafted")
        return draft

    def current_draft(self, s: Any, inc_id: int, status: str = "draft") -> Draft:
        d = s.scalar(select(Draft).where(Draft.incident_id == inc_id, Draft.status == status)
                     .order_by(Draft.number.desc()).limit(1))
        if d is None:
            raise IncidentError("没有待审核的稿件" if status == "draft" else "没有已审核的稿件")
        return d

    def decide(self, inc_id: int, actor: Actor, version: int | None, approve: bool, comment: str = "") -> Incident:
        action = "approve" if approve else "reject"
        if not approve and not comment.strip():
            raise IncidentError("退回修改须写明意见")
        with writing(self.db) as s:
            inc = get(s, inc_id)
            lifecycle.expect(s, inc, version)
            lifecycle.check(inc, action, actor)
            d = self.current_draft(s, inc_id)
            own = approve and lifecycle.self_approval(inc, d.author, actor,
                                                      bool(self.cfg["incidents"].get("allow_self_approval")))
            extra = {"approved_at": now()} if approve else {}
            transition(s, inc, action, actor, version, {"draft": d.number, "comment": comment,
                                                        "conflicts": (d.check or {}).get("conflicts", 0),
                                                        **({"self_approval": True} if own else {})}, **extra)
            d.status = "approved" if approve else "rejected"
            s.add(Approval(incident_id=inc_id, draft_id=d.id, kind="draft", approver=actor.username,
                           decision="approved" if approve else "rejected", comment=comment, at=now()))
        self.emit(inc, "approved" if approve else "rejected")
        return inc

    # -- escalation seam -----------------------------------------------------------------------------
    def notify(self, inc: Incident, kind: str, message: str, recipients: list[dict[str, Any]]) -> None:
        from ..state.incidents import Escalation

        from . import escalation

        people = escalation.people([], recipients)
        how = escalation.deliver(self.cfg, self.outbox, inc, kind, message, people)
        at = now()
        with writing(self.db) as s:
            s.add(Escalation(incident_id=inc.id, kind=kind, message=message, recipients=people, delivered=how, at=at))
            record(s, inc, "notify", SYSTEM, {"kind": kind, "message": message, "delivered": how,
                                              "recipients": [r.get("name") or r.get("username") for r in people]})
        broadcast.escalation(escalation.record(self.cfg, inc, kind, message, people, how, iso(at)))
        broadcast.incident({"event": "escalation", "kind": kind, "message": message,
                            "incident": incident_dict(self.cfg, inc)})

    def when(self) -> datetime:
        return now()
