"""A stored post joins an incident from its 帖子详情 page: as evidence, or as the incident's official answer.

- :func:`add_post`: the post is snapshotted (its whole record with the raw payload, sha256) into the incident, as the
  posts named at 立案 are, and the audit trail gets a ``snapshot`` entry naming it.
- :func:`official_answer`: a post by the official account (a Weibo post or a WeChat article the desk collected) is
  recorded as a manual publication of the incident through :func:`.publishing.record_manual` (its link fetched and
  snapshotted, the timeliness clocks and the 已发布 state handled there), and is snapshotted as evidence too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from ..errors import IncidentError
from ..state.incidents import IncidentPost
from .lifecycle import Actor, get, now, record, writing
from .publish import CHANNEL_ZH, CHANNELS

#: the post's platform -> the publication channel it answers on
PLATFORM_CHANNEL = {"weibo": "weibo", "wechat": "wechat"}


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _post(desk: Any, post_id: str) -> Any:
    p = desk.store.get(post_id) if desk.store is not None else None
    if p is None:
        raise IncidentError(f"帖子 {post_id} 不存在（或已过保留期）")
    return p


def add_post(desk: Any, inc_id: int, actor: Actor, post_id: str) -> dict[str, Any]:
    """Snapshot the stored post ``post_id`` into incident ``inc_id``; refuses a closed incident or a post already
    in it."""
    if not actor.has_role("duty", "approver"):
        raise IncidentError("权限不足：加入事件需要值班员或审核领导角色")
    p = _post(desk, post_id)
    snap = p.to_dict()
    h = _sha(snap)
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        if inc.status == "closed":
            raise IncidentError(f"事件 #{inc_id} 已办结，不能再加入帖子")
        if s.scalar(select(IncidentPost).where(IncidentPost.incident_id == inc_id, IncidentPost.post_id == p.id)):
            raise IncidentError(f"帖子已在事件 #{inc_id} 中")
        s.add(IncidentPost(incident_id=inc.id, post_id=p.id, snapshot=snap, snapshot_sha256=h, snapshot_at=now()))
        record(s, inc, "snapshot", actor, {"posts": [{"post_id": p.id, "sha256": h}], "from": "post_page"})
    desk.emit(inc, "snapshot")
    return {"incident_id": inc_id, "post_id": p.id, "sha256": h}


def official_answer(desk: Any, inc_id: int, actor: Actor, post_id: str) -> dict[str, Any]:
    """Record the stored post ``post_id`` as incident ``inc_id``'s answer published on its platform's channel."""
    from . import publishing

    p = _post(desk, post_id)
    channel = PLATFORM_CHANNEL.get(p.platform or "")
    if channel not in CHANNELS:
        raise IncidentError(f"只有{'或'.join(CHANNEL_ZH.values())}上的帖子可标记为官方回应"
                            f"（此帖平台：{p.platform or '未知'}）")
    if not (p.url or "").lower().startswith(("http://", "https://")):
        raise IncidentError("此帖没有原文链接，不能登记为官方回应")
    res = publishing.record_manual(desk, inc_id, actor, channel, p.url, p.author, p.created_at.isoformat())
    try:
        add_post(desk, inc_id, actor, post_id)
    except IncidentError:  # already in the incident as evidence (or closed since): the publication stands
        pass
    return res
