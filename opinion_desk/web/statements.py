"""The public, read-only page of an approved statement (``/statements/<token>``): the whole answer that the
140-字 Weibo summary links to, readable without logging in. The token is unguessable
(:func:`~opinion_desk.incidents.publishing.statement_token`); only a draft that an approver passed is shown."""

from __future__ import annotations


from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from ..incidents import publishing
from ..incidents.publish import mode
from ..root import current_desk
from ..state import get_db
from ..state.incidents import Approval, Draft, Incident, aware
from ..timefmt import MINUTES, fmt, zone, zone_label

bp = Blueprint("statements", __name__)


@bp.get("/statements/<token>")
def page(token: str):  # noqa: ANN201
    desk = current_desk().incidents
    draft_id = publishing.draft_of_token(desk, token)
    if draft_id is None:
        abort(404)
    s = get_db()
    d = s.get(Draft, draft_id)
    approved = d is not None and s.scalar(select(Approval.id).where(
        Approval.draft_id == draft_id, Approval.kind == "draft", Approval.decision == "approved").limit(1))
    if not approved:
        abort(404)
    inc = s.get(Incident, d.incident_id)
    at = aware(inc.published_at or inc.approved_at or d.created_at) if inc else aware(d.created_at)
    demo = mode(desk.cfg) == "demo"
    at_text = f"{fmt(at, zone(desk.cfg), MINUTES)}（{zone_label(zone(desk.cfg))}）" if at else ""
    resp = render_template("statement.html", draft=d, at_text=at_text, demo=demo, channel=request.args.get("channel", ""),
                           office=desk.cfg["incidents.weibo"].get("account") or desk.cfg["incidents.wechat"].get("account"))
    return resp, 200, {"Cache-Control": "public, max-age=60", "X-Robots-Tag": "noindex" if demo else "all"}
