"""Alerts on the desk: the 告警 page, ``GET /api/v1/alerts``, rule status, and silences (create, list, remove)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import select

from ..detection.durations import parse_duration
from ..incidents import audit
from ..incidents.audit import WRITE_LOCK
from ..root import current_desk
from ..state import get_db
from ..state.alerts import STATUSES, Alert, Silence
from .auth import current_user, require_role
from .params import choice_arg, int_arg

bp = Blueprint("alerts", __name__)


def _engine():  # noqa: ANN202
    return current_desk().engine


@bp.get("/alerts")
def page():  # noqa: ANN201
    return render_template("alerts.html")


@bp.get("/api/v1/alerts")
def list_alerts():  # noqa: ANN201
    """Newest first; ``status`` (open|resolved|silenced), ``rule``, ``limit`` (≤ 500)."""
    q = select(Alert).order_by(Alert.created_at.desc())
    status = choice_arg("status", "", STATUSES)
    if status:
        q = q.where(Alert.status == status)
    if request.args.get("rule"):
        q = q.where(Alert.rule == request.args["rule"])
    limit = int_arg("limit", 100, 1, 500)
    rows = get_db().scalars(q.limit(limit)).all()
    return jsonify(alerts=[a.to_dict() for a in rows])


@bp.get("/api/v1/alerts/<alert_id>")
def get_alert(alert_id: str):  # noqa: ANN201
    a = get_db().get(Alert, alert_id)
    if a is None:
        return jsonify(error=f"no alert {alert_id}"), 404
    return jsonify(alert=a.to_dict(), deliveries=current_desk().outbox.rows(alert_id))


@bp.get("/api/v1/rules")
def rules_status():  # noqa: ANN201
    desk = current_desk()
    if desk.role == "web":  # the workers run the rules: show what the rules lease holder last saved
        desk.engine.refresh_from_saved()
    return jsonify(desk.engine.status())


@bp.get("/api/v1/silences")
def list_silences():  # noqa: ANN201
    now = datetime.now(timezone.utc)
    rows = get_db().scalars(select(Silence).order_by(Silence.until.desc())).all()
    return jsonify(silences=[dict(s.to_dict(), active=s.covers(s.rule, s.key, now)) for s in rows])


@bp.post("/api/v1/silences")
@require_role("duty", "analyst")
def add_silence():  # noqa: ANN201
    """``{"rule": NAME or "*", "key": "", "duration": "2h", "reason": "..."}``; recorded under the user's name."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="请求体应为 JSON 对象"), 400
    rule = str(data.get("rule") or "*")
    for field in ("rule", "key", "reason"):  # a lone surrogate cannot be stored (nor audited)
        try:
            str(data.get(field) or "").encode("utf-8")
        except UnicodeEncodeError:
            return jsonify(error=f"field '{field}': 含有无效的字符（孤立代理项）", field=field), 400
    try:
        dur = parse_duration(data.get("duration", "1h"))
    except ValueError as e:
        return jsonify(error=f"field 'duration': {e}", field="duration"), 400
    if dur > timedelta(days=30):
        return jsonify(error="field 'duration': 最长 30 天", field="duration"), 400
    now = datetime.now(timezone.utc)
    user = current_user()
    s = Silence(rule=rule, key=str(data.get("key") or ""), until=now + dur, reason=str(data.get("reason") or ""),
                created_by=user.name if user is not None else str(data.get("created_by") or "desk"), created_at=now)
    db = get_db()
    with WRITE_LOCK:  # the silence and its audit entry in one transaction
        db.add(s)
        db.flush()
        audit.append(db, user.username if user is not None else "desk", "silence_add", None,
                     {"silence": s.to_dict(), "address": request.remote_addr or ""})
        db.commit()
    _silences_changed()
    return jsonify(silence=s.to_dict()), 201


@bp.delete("/api/v1/silences/<int:silence_id>")
@require_role("duty", "analyst")
def remove_silence(silence_id: int):  # noqa: ANN201
    db = get_db()
    s = db.get(Silence, silence_id)
    if s is None:
        return jsonify(error=f"no silence {silence_id}"), 404
    user = current_user()
    with WRITE_LOCK:
        audit.append(db, user.username if user is not None else "desk", "silence_remove", None,
                     {"silence": s.to_dict(), "address": request.remote_addr or ""})
        db.delete(s)
        db.commit()
    _silences_changed()
    return jsonify(ok=True)


def _silences_changed() -> None:
    eng = _engine()
    if eng is not None and eng.book is not None:
        eng.book.silences_changed()
