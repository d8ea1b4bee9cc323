"""Is the official answer live where the public reads it? Checked through the platforms themselves (Weibo
``statuses/show``; WeChat ``message/mass/get`` or ``freepublish/getarticle``; a recorded link fetched back),
with our own collectors as a second way (a post of our account seen in the store). Re-checked later
(:func:`recheck`): an answer that disappears raises the built-in alert 官方回应失效 through the alert book, like
the source alerts (:mod:`opinion_desk.detection.source_alerts`), so it is recorded, shown and sent to channels.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..state.incidents import Draft, Incident, Publication, aware
from . import publish as channels
from .lifecycle import SYSTEM, get, now, record, writing
from .publish import LiveCheck, manual

log = logging.getLogger(__name__)
RULE_NAME = "官方回应失效"
MAX_CHECKS = 20


def live_check(desk: Any, pub: Publication) -> tuple[LiveCheck, dict[str, Any] | None]:
    """Ask the platform (or fetch the recorded link) whether ``pub`` is live; a fresh snapshot when fetched."""
    try:
        if pub.mode == "manual":
            api = None
            if pub.channel == "weibo" and desk.cfg["incidents.weibo"].get("access_token"):
                api = channels.publisher_class("weibo").from_config(desk.cfg, "weibo", lambda since: 0)
            return manual.check_live(pub.channel, pub.url, pub.remote_id, api,
                                     bool(desk.cfg["incidents"].get("snapshot_private_hosts")))
        kind = "demo" if pub.mode == "demo" else pub.channel
        p = channels.publisher_class(kind).from_config(desk.cfg, pub.channel, lambda since: 0)
        return p.check_live(pub.remote_id, pub.url, dict(pub.details or {})), None
    except Exception as e:  # one broken check must not stop the others
        log.exception("live check %s", pub.id)
        return LiveCheck("unknown", "核验出错", f"{type(e).__name__}: {e}"), None


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


def _seen_by_collectors(desk: Any, pub: Publication, d: Draft | None) -> str:
    """The id of our own post in the store that is this publication, or ``""``."""
    from ..store.base import PostQuery

    if desk.store is None:
        return ""
    fp = _norm(d.weibo_text)[:20] if d else ""
    account = desk.cfg[f"incidents.{pub.channel}"]["account"]
    q = PostQuery(since=aware(pub.published_at) - timedelta(minutes=10), size=500, sort="newest",
                  authors=[account] if account else [])
    try:
        candidates = desk.store.search(q).posts
    except Exception:
        log.exception("verify: store search failed")
        return ""
    return next((p.id for p in candidates if _matches(pub, fp, d.wechat_title if d else "", p)), "")


def _note_check(pub: Publication, res: LiveCheck, snap: dict[str, Any] | None) -> None:
    det = dict(pub.details or {})
    checks = list(det.get("checks") or [])
    checks.append({"at": now().isoformat(), **res.to_dict()})
    det["checks"] = checks[-MAX_CHECKS:]
    det["checked_at"] = now().isoformat()
    if snap is not None and snap.get("sha256"):
        det["last_snapshot"] = {k: snap.get(k) for k in ("fetched_at", "status", "sha256", "error")}
    pub.details = det


def verify(desk: Any, inc_id: int) -> dict[str, Any]:
    """Mark what is live: the platform's own answer first, our collectors second."""
    with desk.db.session_scope() as s:
        pubs = list(s.scalars(select(Publication).where(Publication.incident_id == inc_id,
                                                        Publication.status == "published",
                                                        Publication.verified_at.is_(None))))
        drafts = {d.id: d for d in s.scalars(select(Draft).where(Draft.incident_id == inc_id))}
        s.expunge_all()
    found: dict[int, tuple[str, str, LiveCheck, dict[str, Any] | None]] = {}
    checked: dict[int, tuple[LiveCheck, dict[str, Any] | None]] = {}
    for pub in pubs:
        res, snap = live_check(desk, pub)
        checked[pub.id] = (res, snap)
        if res.state == "live":
            found[pub.id] = (pub.channel, "", res, snap)
            continue
        post_id = _seen_by_collectors(desk, pub, drafts.get(pub.draft_id))
        if post_id:
            found[pub.id] = (pub.channel, post_id, LiveCheck("live", "本台采集到该发布", f"post_id={post_id}"), snap)
    t = now()
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        for pub in s.scalars(select(Publication).where(Publication.id.in_(list(checked)))):
            res, snap = checked[pub.id]
            _note_check(pub, res, snap)
            if pub.id in found and pub.verified_at is None:
                ch, post_id, how, _ = found[pub.id]
                pub.verified_at = t
                pub.verified_post_id = post_id
                pub.details = dict(pub.details or {}, verified_how=how.how)
                record(s, inc, "verify", SYSTEM, {"channel": ch, "mode": pub.mode, "how": how.how,
                                                  "detail": how.detail, "post_id": post_id,
                                                  **({"label": "演示"} if pub.mode == "demo" else {})})
        s.flush()
        since = aware(inc.published_at)  # the latest round (a 持续发布 draft is verified on its own)
        live = {p.channel for p in s.scalars(select(Publication).where(
            Publication.incident_id == inc_id, Publication.status == "published",
            Publication.verified_at.is_not(None), Publication.gone_at.is_(None)))
            if since is not None and aware(p.published_at) is not None and aware(p.published_at) >= since}
        all_live = set(channels.CHANNELS) <= live
        if all_live and inc.verified_at is None:
            inc.verified_at = t  # a fact about the world, not an officer's edit: no version bump
            record(s, inc, "verified", SYSTEM, {"channels": sorted(live)})
    if found or checked:
        desk.emit(inc, "verified" if all_live else "verify")
    return {"verified": sorted({v[0] for v in found.values()}), "all": all_live,
            "checks": {str(k): v[0].to_dict() for k, v in checked.items()}}


def verify_pending(desk: Any) -> None:
    with desk.db.session_scope() as s:
        ids = list(s.scalars(select(Incident.id).where(Incident.published_at.is_not(None),
                                                       Incident.verified_at.is_(None), Incident.status != "closed")))
    for i in ids:
        verify(desk, i)


# -- later: does the answer stay up? -------------------------------------------------------------------------
def answer_rule(channels_: list[str]) -> Any:
    from ..detection.rule import RuleSpec

    return RuleSpec(name=RULE_NAME, type="answer_gone", file="(built in: opinion_desk/incidents/verification.py)",
                    timeframe=timedelta(0), severity="high", channels=["dashboard", *channels_],
                    query_key="incident", realert=timedelta(hours=6),
                    description="已核验上线的官方回应（微博/公众号）在平台上查不到了：公众看不到这条回应",
                    duty={"check": "打开事件工作台查看哪条发布失效；确认是否被删除或屏蔽，必要时重新发布并登记链接",
                          "owner": "值班员"})


def raise_gone(desk: Any, inc: Incident, pub: Publication, res: LiveCheck) -> None:
    from ..detection.rule import Match

    engine = desk.engine
    if engine is None or getattr(engine, "book", None) is None:
        log.warning("answer gone (no alert book): incident %s %s", inc.id, pub.channel)
        return
    zh = channels.CHANNEL_ZH.get(pub.channel, pub.channel)
    engine.book.handle(Match(rule=RULE_NAME, key=f"事件#{inc.id}·{zh}", time=now(),
                             reason=f"事件#{inc.id}「{inc.title}」的{zh}官方回应已失效：{res.how}",
                             details={"incident_id": inc.id, "channel": pub.channel, "url": pub.url,
                                      "remote_id": pub.remote_id, "detail": res.detail}),
                       answer_rule(list(desk.cfg["incidents"].get("escalation_channels") or [])))


def recheck(desk: Any) -> list[str]:
    """Re-check verified answers every ``[incidents] recheck_minutes`` for ``recheck_days`` after publishing;
    raise 官方回应失效 for each that is gone. Returns ``"<incident>:<channel>"`` of each gone."""
    c = desk.cfg["incidents"]
    t = now()
    every = timedelta(minutes=float(c.get("recheck_minutes", 60)))
    since = t - timedelta(days=float(c.get("recheck_days", 30)))
    with desk.db.session_scope() as s:
        pubs = [p for p in s.scalars(select(Publication).where(
            Publication.status == "published", Publication.verified_at.is_not(None),
            Publication.gone_at.is_(None), Publication.published_at >= since))
            if not (p.details or {}).get("checked_at") or
            t - aware(datetime.fromisoformat((p.details or {})["checked_at"])) >= every]
        s.expunge_all()
    gone = []
    for pub in pubs:
        res, snap = live_check(desk, pub)
        with writing(desk.db) as s:
            row = s.get(Publication, pub.id)
            inc = get(s, pub.incident_id)
            _note_check(row, res, snap)
            if res.state == "gone":
                row.gone_at = t
                record(s, inc, "answer_gone", SYSTEM, {"channel": row.channel, "url": row.url, "how": res.how,
                                                       "detail": res.detail})
        if res.state == "gone":
            raise_gone(desk, inc, pub, res)
            desk.emit(inc, "answer_gone", channel=pub.channel)
            gone.append(f"{pub.incident_id}:{pub.channel}")
    return gone
