"""Incidents: pages (/incidents, /incidents/<id>) and the JSON API (/api/v1/incidents...).

Every change names the version the officer saw (``version`` in the JSON body); a stale one answers 409 with a
Chinese message and the officer's own input (``yours``), so nothing typed is lost.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from ..errors import ConflictError, IncidentError
from ..incidents import csvsafe, publishing, review, timeliness
from ..incidents.lifecycle import STATES, Actor
from ..incidents.records import detail, incident_dict
from ..root import current_desk
from ..state import get_db
from ..state.incidents import Incident, iso
from ..state.users import ROLES
from .auth import current_user, require_role
from .params import choice_arg, int_arg, optional_int_arg

bp = Blueprint("incidents", __name__)
API = "/api/v1/incidents"


@bp.errorhandler(ConflictError)
def _conflict(e: ConflictError):  # noqa: ANN202
    return jsonify(error=str(e), conflict=True, current_version=getattr(e, "current_version", None),
                   yours=request.get_json(silent=True) or {}), 409


@bp.errorhandler(IncidentError)
def _refused(e: IncidentError):  # noqa: ANN202
    body: dict[str, Any] = {"error": str(e)}
    if hasattr(e, "results"):
        body["results"] = e.results
    return jsonify(body), (403 if str(e).startswith("权限不足") else 400)


def _actor() -> Actor:
    user = current_user()
    if user is None:
        abort(401)
    return Actor.of(user)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = request.form.to_dict()
    return data if isinstance(data, dict) else {}


def _version(data: dict[str, Any]) -> int | None:
    v = data.get("version")
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        raise IncidentError(f"version 应为整数，收到 {v!r}") from None


def _one(inc_id: int) -> dict[str, Any]:
    s = get_db()
    s.expire_all()
    inc = s.get(Incident, inc_id)
    if inc is None:
        abort(404)
    return detail(current_app.config["DESK"], s, inc)


# -- pages ---------------------------------------------------------------------------------------------------
@bp.get("/incidents")
def list_page():  # noqa: ANN201
    return render_template("incidents.html", states=STATES, levels=current_app.config["DESK"]["incidents"]["levels"])


def _assignees() -> list[dict[str, str]]:
    """Active users who may carry an incident (值班员, 审核领导, 管理员)."""
    from ..state.users import User

    rows = get_db().scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    return [{"username": u.username, "name": u.name, "roles": "、".join(ROLES.get(r, r) for r in u.roles or [])}
            for u in rows if u.has_role("duty", "approver")]


@bp.get("/incidents/<int:inc_id>")
def incident_page(inc_id: int):  # noqa: ANN201
    d = _one(inc_id)
    return render_template("incident.html", inc=d, levels=current_app.config["DESK"]["incidents"]["levels"],
                           allow_self_approval=bool(current_app.config["DESK"]["incidents"]["allow_self_approval"]),
                           assignees=_assignees(), departments=current_desk().incidents.departments())


# -- API -----------------------------------------------------------------------------------------------------
@bp.get(API)
def api_list():  # noqa: ANN201
    cfg = current_app.config["DESK"]
    q = select(Incident).order_by(Incident.id.desc()).limit(int_arg("size", 100, 1, 500))
    status = request.args.getlist("status")
    if status:
        q = q.where(Incident.status.in_(status))
    elif choice_arg("active", "1", ("0", "1")) == "1":
        q = q.where(Incident.status != "closed")
    return jsonify(incidents=[incident_dict(cfg, i) for i in get_db().scalars(q)])


@bp.get(f"{API}/alerts")
def api_open_alerts():  # noqa: ANN201
    """Open alerts no active incident has taken yet (the duty officer's inbox)."""
    from ..state.alerts import Alert
    from ..state.incidents import IncidentAlert

    s = get_db()
    taken = set(s.scalars(select(IncidentAlert.alert_id).join(Incident, Incident.id == IncidentAlert.incident_id)
                          .where(Incident.status != "closed")))
    rows = s.scalars(select(Alert).where(Alert.status == "open").order_by(Alert.created_at.desc()).limit(100))
    return jsonify(alerts=[a.to_dict() for a in rows if a.id not in taken])


@bp.post(API)
@require_role("duty", "approver")
def api_open():  # noqa: ANN201
    d = _body()
    post_ids = d.get("post_ids") or []
    if isinstance(post_ids, str):
        post_ids = [p for p in post_ids.replace(",", " ").split() if p]
    inc = current_desk().incidents.open(_actor(), title=d.get("title") or "", level=d.get("level") or None,
                          summary=d.get("summary") or "", post_ids=post_ids, alert_id=d.get("alert_id") or None)
    return jsonify(_one(inc.id)), 201


@bp.get(f"{API}/<int:inc_id>")
def api_get(inc_id: int):  # noqa: ANN201
    return jsonify(_one(inc_id))


def _action(inc_id: int, fn: Any, *args: Any) -> Any:
    d = _body()
    fn(inc_id, _actor(), _version(d), *args)
    return jsonify(_one(inc_id))


@bp.post(f"{API}/<int:inc_id>/acknowledge")
@require_role("duty", "approver")
def api_ack(inc_id: int):  # noqa: ANN201
    return _action(inc_id, current_desk().incidents.acknowledge)


@bp.post(f"{API}/<int:inc_id>/assign")
@require_role("duty", "approver")
def api_assign(inc_id: int):  # noqa: ANN201
    d = _body()
    dept = d.get("department")
    return _action(inc_id, current_desk().incidents.assign, str(d.get("assignee") or ""), str(dept) if dept else None)


@bp.get(f"{API}/assignees")
def api_assignees():  # noqa: ANN201
    """Who and which department an incident may be assigned to (the workspace's assign form)."""
    return jsonify(users=_assignees(), departments=current_desk().incidents.departments())


@bp.post(f"{API}/<int:inc_id>/level")
@require_role("duty", "approver")
def api_level(inc_id: int):  # noqa: ANN201
    return _action(inc_id, current_desk().incidents.set_level, str(_body().get("level") or ""))


@bp.post(f"{API}/<int:inc_id>/notes")
@require_role("duty", "approver")
def api_note(inc_id: int):  # noqa: ANN201
    current_desk().incidents.note(inc_id, _actor(), str(_body().get("text") or ""))
    return jsonify(_one(inc_id)), 201


@bp.post(f"{API}/<int:inc_id>/check")
def api_check(inc_id: int):  # noqa: ANN201
    d = _body()
    return jsonify(current_desk().incidents.check(inc_id, f"{d.get('title', '')}\n{d.get('text', '')}"))


@bp.post(f"{API}/<int:inc_id>/drafts")
@require_role("duty", "approver")
def api_draft(inc_id: int):  # noqa: ANN201
    d = _body()
    topics = d.get("topics") or []
    if isinstance(topics, str):
        topics = [t for t in topics.replace("#", " ").replace("，", " ").replace(",", " ").split() if t]
    current_desk().incidents.save_draft(inc_id, _actor(), _version(d), str(d.get("title") or ""), str(d.get("text") or ""),
                          topics, str(d.get("digest") or ""))
    return jsonify(_one(inc_id)), 201


@bp.post(f"{API}/<int:inc_id>/approve")
@require_role("approver")
def api_approve(inc_id: int):  # noqa: ANN201
    d = _body()
    current_desk().incidents.decide(inc_id, _actor(), _version(d), True, str(d.get("comment") or ""))
    return jsonify(_one(inc_id))


@bp.post(f"{API}/<int:inc_id>/reject")
@require_role("approver")
def api_reject(inc_id: int):  # noqa: ANN201
    d = _body()
    current_desk().incidents.decide(inc_id, _actor(), _version(d), False, str(d.get("comment") or ""))
    return jsonify(_one(inc_id))


@bp.post(f"{API}/<int:inc_id>/publish")
@require_role("duty", "approver")
def api_publish(inc_id: int):  # noqa: ANN201
    results = publishing.publish(current_desk().incidents, inc_id, _actor(), _version(_body()), request.remote_addr or "")
    return jsonify(dict(_one(inc_id), results=results))


@bp.get(f"{API}/publishing/preflight")
def api_preflight():  # noqa: ANN201
    """Each account's pre-flight check (token valid, quota left, link, rip); ``?incident=`` for its link."""
    inc = optional_int_arg("incident", 1, 2**31 - 1)
    return jsonify(publishing.preflight(current_desk().incidents, inc, request.remote_addr or ""))


@bp.post(f"{API}/<int:inc_id>/publications/manual")
@require_role("duty", "approver")
def api_manual(inc_id: int):  # noqa: ANN201
    """Record a publication made by hand: ``channel``, ``url``, ``published_by``, ``published_at``."""
    d = _body()
    res = publishing.record_manual(current_desk().incidents, inc_id, _actor(), str(d.get("channel") or ""), str(d.get("url") or ""),
                                   str(d.get("published_by") or ""), d.get("published_at") or None)
    return jsonify(dict(_one(inc_id), manual=res)), 201


@bp.post(f"{API}/<int:inc_id>/verify")
@require_role("duty", "approver")
def api_verify(inc_id: int):  # noqa: ANN201
    res = publishing.verify(current_desk().incidents, inc_id)
    return jsonify(dict(_one(inc_id), verify=res))


@bp.post(f"{API}/<int:inc_id>/press-held")
@require_role("duty", "approver")
def api_press(inc_id: int):  # noqa: ANN201
    return _action(inc_id, current_desk().incidents.press_held)


@bp.post(f"{API}/<int:inc_id>/follow-up")
@require_role("duty", "approver")
def api_follow(inc_id: int):  # noqa: ANN201
    return _action(inc_id, current_desk().incidents.follow_up)


@bp.post(f"{API}/<int:inc_id>/close")
@require_role("duty", "approver")
def api_close(inc_id: int):  # noqa: ANN201
    """Close; a duty officer's close of an unanswered incident becomes a close request (202, still open)."""
    d = _body()
    current_desk().incidents.close(inc_id, _actor(), _version(d), str(d.get("reason") or ""))
    out = _one(inc_id)
    if out["status"] != "closed" and out.get("close_request"):
        return jsonify(dict(out, close_requested=True)), 202
    return jsonify(out)


@bp.post(f"{API}/<int:inc_id>/close-request/accept")
@require_role("approver")
def api_close_accept(inc_id: int):  # noqa: ANN201
    d = _body()
    review.decide_close(current_desk().incidents, inc_id, _actor(), _version(d), True, str(d.get("comment") or ""))
    return jsonify(_one(inc_id))


@bp.post(f"{API}/<int:inc_id>/close-request/decline")
@require_role("approver")
def api_close_decline(inc_id: int):  # noqa: ANN201
    d = _body()
    review.decide_close(current_desk().incidents, inc_id, _actor(), _version(d), False, str(d.get("comment") or ""))
    return jsonify(_one(inc_id))


@bp.get(f"{API}/escalations")
def api_escalations():  # noqa: ANN201
    """The latest incident notices of every incident (事件时限, 事件分派, 持续发布提醒), newest first."""
    from ..incidents.escalation import record
    from ..state.incidents import Escalation

    s = get_db()
    limit = int_arg("limit", 50, 1, 200)
    rows = s.execute(select(Escalation, Incident).join(Incident, Incident.id == Escalation.incident_id)
                     .order_by(Escalation.id.desc()).limit(limit)).all()
    cfg = current_app.config["DESK"]
    return jsonify(escalations=[record(cfg, inc, e.kind, e.message, e.recipients or [], e.delivered, iso(e.at))
                                for e, inc in rows])


@bp.get(f"{API}/review-queue")
def api_review_queue():  # noqa: ANN201
    """待我审核: drafts to approve and close requests waiting for the logged-in approver."""
    return jsonify(items=review.queue(get_db(), current_app.config["DESK"], _actor()))


@bp.get(f"{API}/timeliness")
def api_timeliness():  # noqa: ANN201
    from datetime import datetime

    from .. import timefmt

    cfg = current_app.config["DESK"]
    month = request.args.get("month") or datetime.now(timefmt.zone(cfg)).strftime("%Y-%m")
    try:
        timeliness.parse_month(month, timefmt.zone(cfg))
    except ValueError as e:
        return jsonify(error=str(e), field="month"), 400
    fmt = choice_arg("format", "json", ("json", "csv"))
    if fmt == "csv":
        return Response(timeliness.export(get_db(), cfg, month, "csv"), content_type=csvsafe.CONTENT_TYPE,
                        headers={"Content-Disposition": f"attachment; filename=timeliness-{month}.csv"})
    rows = timeliness.month_rows(get_db(), cfg, month)
    return jsonify(month=month, summary=timeliness.summary(rows), incidents=rows)
