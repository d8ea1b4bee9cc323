"""Publishing the approved answer on both channels, verifying that both are live, and the 持续发布 reminder.

Publishing claims the incident first (approved -> publishing, a versioned change), so two officers clicking at
once publish once; channels that already succeeded for the approved draft are not published again after a
partial failure.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..errors import IncidentError
from ..state.incidents import Incident, Publication, aware
from . import publish as channels
from .lifecycle import SYSTEM, Actor, get, now, record, transition, writing

log = logging.getLogger(__name__)


def publish(desk: Any, inc_id: int, actor: Actor, version: int | None) -> dict[str, Any]:
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        transition(s, inc, "publish_start", actor, version)
        draft = desk.current_draft(s, inc_id, "approved")
        done = {p.channel for p in s.scalars(select(Publication).where(
            Publication.incident_id == inc_id, Publication.draft_id == draft.id, Publication.status == "published"))}
    desk.emit(inc, "publishing")
    results: dict[str, Any] = {}
    for ch in channels.CHANNELS:
        if ch in done:
            continue
        try:
            res = channels.build(desk.cfg, ch).publish(draft)
            results[ch] = {"ok": True, "remote_id": res.remote_id, "url": res.url}
        except channels.PublishError as e:
            results[ch] = {"ok": False, "error": str(e), "code": e.code}
        except Exception as e:  # a bug in one channel must not leave the incident stuck in "publishing"
            log.exception("publishing %s", ch)
            results[ch] = {"ok": False, "error": f"{type(e).__name__}: {e}", "code": None}
    t = now()
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        for ch, r in results.items():
            s.add(Publication(incident_id=inc_id, draft_id=draft.id, channel=ch,
                              status="published" if r["ok"] else "failed", remote_id=r.get("remote_id", ""),
                              url=r.get("url", ""), error=r.get("error", ""), published_at=t if r["ok"] else None,
                              at=t))
            record(s, inc, "publication", actor, {"channel": ch, **r})
        ok = all(r["ok"] for r in results.values())
        if ok:
            transition(s, inc, "published", actor, None, published_at=t,
                       first_info_at=aware(inc.first_info_at) or t, verified_at=None)
        else:
            transition(s, inc, "publish_failed", actor, None)
    desk.emit(inc, "published" if ok else "publish_failed", results=results)
    if not ok:
        failed = "；".join(r["error"] for r in results.values() if not r["ok"])
        err = IncidentError(f"部分渠道未发布成功：{failed}（成功的渠道不会重复发布，请处理后重试）")
        err.results = results  # type: ignore[attr-defined]
        raise err
    return results


def _norm(text: str) -> str:
    return re.sub(r"#[^#]*#|https?://\S+|\s|【|】", "", text or "")


def _matches(pub: Publication, draft_fp: str, title: str, p: Any) -> bool:
    if pub.url and p.url and (p.url == pub.url or pub.remote_id and pub.remote_id in p.url):
        return True
    if pub.remote_id and p.source_id == pub.remote_id:
        return True
    if pub.channel == "wechat" and title and p.title.strip() == title.strip():
        return True
    return pub.channel == "weibo" and bool(draft_fp) and draft_fp in _norm(p.text)


def verify(desk: Any, inc_id: int) -> dict[str, Any]:
    """Look in the store for our own published posts (the collectors see them); mark what is live."""
    from ..state.incidents import Draft
    from ..store.base import PostQuery

    store = desk.store
    found: dict[str, str] = {}
    with desk.db.session_scope() as s:
        pubs = list(s.scalars(select(Publication).where(Publication.incident_id == inc_id,
                                                        Publication.status == "published")))
        drafts = {d.id: d for d in s.scalars(select(Draft).where(Draft.incident_id == inc_id))}
    for pub in pubs:
        if pub.verified_at is not None or store is None:
            continue
        d = drafts.get(pub.draft_id)
        fp = _norm(d.weibo_text)[:20] if d else ""
        account = desk.cfg[f"incidents.{pub.channel}"]["account"]
        q = PostQuery(since=aware(pub.published_at) - timedelta(minutes=10), size=500, sort="newest",
                      authors=[account] if account else [])
        try:
            candidates = store.search(q).posts
        except Exception:
            log.exception("verify: store search failed")
            continue
        for p in candidates:
            if _matches(pub, fp, d.wechat_title if d else "", p):
                found[pub.channel] = p.id
                break
    if not found:
        return {"verified": [], "all": False}
    t = now()
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        for pub in s.scalars(select(Publication).where(Publication.incident_id == inc_id,
                                                       Publication.status == "published")):
            if pub.channel in found and pub.verified_at is None:
                pub.verified_at = t
                pub.verified_post_id = found[pub.channel]
                record(s, inc, "verify", SYSTEM, {"channel": pub.channel, "post_id": found[pub.channel]})
        s.flush()
        live = {p.channel for p in s.scalars(select(Publication).where(
            Publication.incident_id == inc_id, Publication.status == "published",
            Publication.verified_at.is_not(None)))}
        all_live = set(channels.CHANNELS) <= live
        if all_live and inc.verified_at is None:
            inc.verified_at = t  # a fact about the world, not an officer's edit: no version bump
            record(s, inc, "verified", SYSTEM, {"channels": sorted(live)})
    desk.emit(inc, "verified" if all_live else "verify")
    return {"verified": sorted(found), "all": all_live}


def verify_pending(desk: Any) -> None:
    with desk.db.session_scope() as s:
        ids = list(s.scalars(select(Incident.id).where(Incident.published_at.is_not(None),
                                                       Incident.verified_at.is_(None), Incident.status != "closed")))
    for i in ids:
        verify(desk, i)


def remind(desk: Any) -> list[int]:
    """持续发布: while a published incident's topic is still hot, remind to keep publishing progress."""
    from ..store.base import PostQuery

    c = desk.cfg["incidents"]
    t = now()
    out = []
    with desk.db.session_scope() as s:
        incs = list(s.scalars(select(Incident).where(Incident.status.in_(("published", "following")))))
    for inc in incs:
        last = max(x for x in (aware(inc.published_at), aware(inc.last_reminder_at)) if x is not None)
        if t - last < timedelta(minutes=float(c["remind_every_minutes"])) or desk.store is None:
            continue
        since = t - timedelta(minutes=float(c["hot_minutes"]))
        try:
            hot = max([desk.store.count(PostQuery(text=k, since=since)) for k in (inc.keywords or [])[:3]] or [0])
        except Exception:
            log.exception("remind: store count failed")
            continue
        if hot <= 0:
            continue
        with writing(desk.db) as s:
            row = s.get(Incident, inc.id)
            row.last_reminder_at = t
        desk.notify(inc, "remind", f"【持续发布】事件#{inc.id}「{inc.title}」话题仍在发酵（近 {int(float(c['hot_minutes']))} "
                                   f"分钟 {hot} 条），请持续发布处置进展", [])
        out.append(inc.id)
    return out


