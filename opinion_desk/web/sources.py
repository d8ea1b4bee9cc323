"""信息源: source health. ``GET /api/v1/sources`` (every configured source with its health),
``GET /api/v1/sources/<name>``, and the page ``/sources`` (live over the ``source`` Socket.IO event). Read by
duty officers, analysts and admins (:data:`READERS`); approvers get 403.

Each row also carries what a duty officer reads first: ``label`` (the source's ``title``, else its ``description``, else its name),
``type_label`` and, for a failing source, ``reason`` (the failure in plain Chinese, :func:`failure_reason`) next to
``detail`` (the technical message, for whoever fixes it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from ..collectors import Collector
from ..collectors.reasons import failure_reason
from ..collectors.sources import SourceSet
from ..display import source_name
from ..root import current_desk
from ..scheduler import source_health
from ..state import StateDB
from ..state.core import SourceState
from .auth import require_role

bp = Blueprint("sources", __name__)
# who reads source health: duty officers (a failing source means missed posts on their watch) and analysts (who
# read everything); admins change sources (the YAML files, `opinion-desk sources`). Approvers do not need it.
READERS = ("duty", "analyst")

PAGE_ORDER = {"auth": 0, "failing": 1, "never": 2, "ok": 3}
TYPE_LABELS = {"rss": "RSS 订阅", "weibo": "微博", "wechat": "微信公众号", "web": "网页列表", "files": "文件导入",
               "replay": "演示回放"}


def _detail(error: str | None, name: str) -> str:
    """The technical message without the ``source 'name':`` prefix the row already shows."""
    prefix = f"source '{name}': "
    return (error or "")[len(prefix):] if (error or "").startswith(prefix) else (error or "")


def source_rows(found: SourceSet, db: StateDB, collectors: dict[str, Collector], alert_after_default: int,
                backoff_max: float) -> list[dict[str, Any]]:
    """Every declared source (and every source with recorded state, e.g. the demo) with its health.
    ``collectors``: those this process schedules (in a web process, none: the workers run them)."""
    specs = {s.name: s for s in found.specs}
    for name, c in collectors.items():
        specs.setdefault(name, c.spec)
    with db.session_scope() as s:
        rows = {r.name: r for r in s.query(SourceState).all()}
        out: list[dict[str, Any]] = []
        for name in sorted(set(specs) | set(rows)):
            spec = specs.get(name)
            alert_after = (spec.alert_after if spec and spec.alert_after else None) or alert_after_default
            if name in rows:
                h = source_health(rows[name], alert_after, spec.cadence if spec else None, backoff_max)
            else:
                h = {"name": name, "status": "never", "healthy": True, "failures_in_row": 0, "last_items": 0,
                     "total_items": 0, "alert_after": alert_after, "recent": [], "last_notes": []}
            h.update(type=spec.type if spec else "", cadence=spec.cadence if spec else None,
                     enabled=bool(spec and spec.enabled), scheduled=name in collectors,
                     where=spec.where if spec else "", description=spec.description if spec else "")
            failing = bool(h.get("failures_in_row"))
            h.update(label=(spec.title if spec else "") or h["description"] or source_name(name), type_label=TYPE_LABELS.get(h["type"], h["type"]),
                     reason=failure_reason(h.get("last_error"), h.get("last_error_kind")) if failing else "",
                     detail=_detail(h.get("last_error"), name) if failing else "")
            out.append(h)
    return out


def desk_rows() -> list[dict[str, Any]]:
    d = current_desk()
    return source_rows(d.sources, d.state, d.scheduler.collectors, d.scheduler.alert_after, d.scheduler.backoff_max)


@bp.get("/api/v1/sources")
@require_role(*READERS)
def api_sources():  # noqa: ANN201
    return jsonify(sources=desk_rows(), problems=[str(p) for p in current_desk().sources.problems])


@bp.get("/api/v1/sources/<name>")
@require_role(*READERS)
def api_source(name: str):  # noqa: ANN201
    for row in desk_rows():
        if row["name"] == name:
            return jsonify(row)
    return jsonify(error=f"no source {name!r}"), 404


@bp.get("/sources")
@require_role(*READERS)
def page():  # noqa: ANN201
    desk = current_desk()
    rows = desk_rows()
    rows.sort(key=lambda r: (PAGE_ORDER.get(r["status"], 9), not r.get("enabled"), r["name"]))  # trouble first
    pipeline = desk.pipeline
    return render_template("sources.html", rows=rows, problems=[str(p) for p in desk.sources.problems],
                           rejected=pipeline.dead.count(), rejected_dir=str(pipeline.dead.dir))
