"""舆情简报 pages and API: /briefings lists the briefings made (open the HTML page, download the Word file) with a
form to make one for a day, a week or a time range (值班员, 审核领导, 管理员), optionally mailing it to the
leaders named in ``[briefings] recipients``; /api/v1/briefings gives the same as JSON."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ..briefings import period as P
from ..root import current_desk
from ..errors import BriefingError, StoreError
from ..state import get_db
from ..state.users import User
from .auth import current_user, require_role

bp = Blueprint("briefings", __name__)
API = "/api/v1/briefings"
KINDS = {"daily": "日报（一天）", "weekly": "周报（周一至周日）", "range": "自定义时段"}


def _period(form: dict[str, Any]) -> P.Period:
    """The period a form or JSON body asks for: ``kind`` and ``from`` (a date; with ``from_time``), ``to``."""
    desk = current_desk().briefings
    kind = str(form.get("kind") or "daily")
    if kind not in KINDS:
        raise BriefingError("kind", f"简报类型应为 {'、'.join(KINDS)} 之一，收到 {kind!r}")
    start = str(form.get("from") or "").strip()
    if not start:
        raise BriefingError("from", "请填写开始日期")
    if kind in ("daily", "weekly"):
        day = P.parse_local(start, desk.tz, "from")[0].date()
        return P.day(day, desk.tz) if kind == "daily" else P.week(day, desk.tz)
    end = str(form.get("to") or "").strip()
    if not end:
        raise BriefingError("to", "请填写结束日期")
    if form.get("from_time"):
        start = f"{start} {form['from_time']}"
    if form.get("to_time"):
        end = f"{end} {form['to_time']}"
    return P.span(start, end, desk.tz)


def _rows() -> list[dict[str, Any]]:
    desk = current_desk().briefings
    rows = desk.list(200)
    names = {u.username: u.name for u in get_db().scalars(select(User))}
    for r in rows:
        r["created_by_name"] = "定时生成" if r["created_by"] == "system" else names.get(r["created_by"], r["created_by"])
        p = P.Period(r["kind"], datetime.fromisoformat(r["period_start"]), datetime.fromisoformat(r["period_end"]),
                     desk.tz)
        r["span"] = p.span_text()
        r["generated_local"] = datetime.fromisoformat(r["generated_at"]).astimezone(desk.tz).strftime("%Y-%m-%d %H:%M")
        r["kind_zh"] = p.kind_zh
    return rows


def _page(error: str = "", form: dict[str, Any] | None = None, made: int | None = None, status: int = 200) -> Any:
    desk = current_desk().briefings
    user = current_user()
    yesterday = (desk.clock().astimezone(desk.tz) - timedelta(days=1)).date().isoformat()
    return render_template("briefings.html", rows=_rows(), kinds=KINDS, error=error, form=form or {},
                           made=made, yesterday=yesterday, settings=desk.settings, zone=P.zone_name(desk.tz),
                           can_make=bool(user and user.has_role("duty", "approver"))), status


@bp.get("/briefings")
def page():  # noqa: ANN201
    made = request.args.get("made", "")
    return _page(made=int(made) if made.isdigit() else None)


@bp.post("/briefings")
@require_role("duty", "approver")
def make_from_form():  # noqa: ANN201
    form = request.form.to_dict()
    try:
        row = current_desk().briefings.make(_period(form), current_user().username, send=form.get("send") == "1")
    except BriefingError as e:
        return _page(error=str(e), form=form, status=400)
    except StoreError as e:
        return _page(error=f"帖子库暂时无法访问，请稍后再试（{e}）", form=form, status=503)
    return redirect(url_for("briefings.page", made=row["id"]), 303)


@bp.get("/briefings/<int:rid>")
def open_html(rid: int):  # noqa: ANN201
    try:
        path = current_desk().briefings.file(rid, "html")
    except BriefingError:
        abort(404)
    return send_file(path, mimetype="text/html; charset=utf-8")


@bp.get("/briefings/<int:rid>.docx")
def download(rid: int) -> Response:
    desk = current_desk().briefings
    try:
        path = desk.file(rid, "docx")
    except BriefingError:
        abort(404)
    return send_file(path, as_attachment=True, download_name=f"{desk.get(rid)['title']}.docx",
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@bp.get(API)
def api_list():  # noqa: ANN201
    return jsonify(briefings=_rows())


@bp.post(API)
@require_role("duty", "approver")
def api_make():  # noqa: ANN201
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    try:
        row = current_desk().briefings.make(_period(body), current_user().username, send=bool(body.get("send")))
    except BriefingError as e:
        return jsonify(error=str(e), field=e.field), 400
    except StoreError as e:
        return jsonify(error=f"帖子库暂时无法访问，请稍后再试（{e}）"), 503
    return jsonify(row), 201
