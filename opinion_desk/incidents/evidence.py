"""Evidence for an incident: the snapshots taken at opening (with raw payloads), and the store's earlier official
statements and known rumours on the same topic (for the own-draft check)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ..state.incidents import Incident, IncidentAlert, IncidentPost
from .check import RUMOUR_SCORE, is_rumour

log = logging.getLogger(__name__)


def snapshots(desk: Any, inc_id: int) -> list[dict[str, Any]]:
    with desk.db.session_scope() as s:
        return [dict(r.snapshot or {}) for r in s.scalars(select(IncidentPost).where(IncidentPost.incident_id == inc_id))]


def official_and_rumours(desk: Any, inc_id: int, per_query: int = 50) -> tuple[list[Any], list[Any]]:
    """(official statements, rumours) about the incident: from its snapshots, its rumour alerts' posts and the
    store (by the incident's keywords). Store failures leave the check with what the snapshots give."""
    from ..store.base import PostQuery

    snaps = snapshots(desk, inc_id)
    with desk.db.session_scope() as s:
        inc = s.get(Incident, inc_id)
        keywords = list(inc.keywords or []) if inc else []
        rumour_alert_ids = [a.alert_id for a in s.scalars(select(IncidentAlert).where(IncidentAlert.incident_id == inc_id))
                            if "谣" in str((a.summary or {}).get("rule", "")) or "rumour" in str((a.summary or {}).get("rule", ""))]
    official = [p for p in snaps if p.get("author_type") == "gov"]
    rumours = [p for p in snaps if is_rumour(p)]
    store = desk.store
    if store is None:
        return official, rumours
    try:
        if rumour_alert_ids:
            from ..state.alerts import Alert

            with desk.db.session_scope() as s:
                ids = [pid for aid in rumour_alert_ids for pid in ((s.get(Alert, aid) or Alert(post_ids=[])).post_ids or [])]
            rumours += [p for p in desk.posts(ids[:100])]
        for kw in keywords[:3]:
            official += store.search(PostQuery(text=kw, author_types=["gov"], size=per_query)).posts
            rumours += store.search(PostQuery(text=kw, min_rumour_score=RUMOUR_SCORE, size=per_query)).posts
    except Exception:
        log.exception("own-draft check: store search failed")
    return official, rumours
