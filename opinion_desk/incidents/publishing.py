"""Publishing the approved answer on both channels, recording a publication made by hand, the pre-flight check of
the accounts, the public statement page's links, and the 持续发布 reminder. Verification lives in
:mod:`~opinion_desk.incidents.verification` (``verify`` and ``verify_pending`` are re-exported here).

Publishing claims the incident first (approved -> publishing, a versioned change), so two officers clicking at
once publish once; channels that already succeeded for the approved draft are not published again after a
partial failure. When an account is not set up or the platform refuses, the officer publishes by hand and
records the link (:func:`record_manual`): the desk fetches and snapshots it, and once both channels are out the
incident is 已发布 like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from ..errors import IncidentError
from ..state.incidents import Draft, Incident, Publication, aware
from ..timefmt import zone
from . import publish as channels
from .lifecycle import Actor, get, now, record, status_zh, transition, writing
from .publish import manual
from .verification import verify, verify_pending  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)


# -- the public statement page ----------------------------------------------------------------------------------
def _secret(desk: Any) -> bytes:
    return str(desk.secret or "opinion-desk").encode("utf-8")


def statement_token(desk: Any, draft_id: int) -> str:
    """``<draft id>-<hmac>``: unguessable, so only statements that were linked can be read."""
    mac = hmac.new(_secret(desk), f"statement:{draft_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{draft_id}-{mac}"


def draft_of_token(desk: Any, token: str) -> int | None:
    head, _, _ = token.partition("-")
    if not head.isdigit() or not hmac.compare_digest(statement_token(desk, int(head)), token):
        return None
    return int(head)


def base_url(desk: Any) -> str:
    """``[incidents] public_base_url``; unset, the desk's own address (the demo: a link relative to the desk)."""
    c = desk.cfg
    base = str(c["incidents"].get("public_base_url") or "").rstrip("/")
    if base or channels.mode(c) == "demo":
        return base
    return f"http://{c['desk']['host']}:{c['desk']['port']}"


def statement_url(desk: Any, draft_id: int) -> str:
    return f"{base_url(desk)}/statements/{statement_token(desk, draft_id)}"


def context(desk: Any, draft_id: int | None, rip: str = "", actor: str = "") -> channels.PublishContext:
    """The link the answer points to (the office's own page when named, else the statement page) and ``rip``."""
    own = str(desk.cfg["incidents.weibo"].get("link_url") or "")
    link = own or (statement_url(desk, draft_id) if draft_id else base_url(desk) or "/")
    return channels.PublishContext(link=link, rip=str(desk.cfg["incidents.weibo"].get("rip") or rip or ""),
                                   actor=actor)


def mass_sends(db: Any) -> channels.MassSends:
    """How many WeChat mass sends the desk made since a time (its own publications in the state database)."""

    def count(since: datetime) -> int:
        with db.session_scope() as s:
            rows = s.scalars(select(Publication).where(Publication.channel == "wechat", Publication.mode == "api",
                                                       Publication.status == "published", Publication.at >= since))
            return sum(1 for p in rows if (p.details or {}).get("publish_mode") == "mass")

    return count


def publisher(desk: Any, channel: str) -> channels.Publisher:
    return channels.build(desk.cfg, channel, mass_sends(desk.db))


def preflight(desk: Any, inc_id: int | None = None, rip: str = "") -> dict[str, Any]:
    """The pre-flight check of each account (token valid, quota left, link and rip), shown before 发布."""
    from .publish.weibo import share_text, weibo_length

    d = None
    if inc_id is not None:
        with desk.db.session_scope() as s:
            d = s.scalar(select(Draft).where(Draft.incident_id == inc_id, Draft.status.in_(("approved", "draft")))
                         .order_by(Draft.number.desc()).limit(1))
    ctx = context(desk, d.id if d else None, rip)
    preview = None
    if d is not None:  # what statuses/share will carry: the ≤140 字 summary and the link to the whole statement
        text = share_text(d, ctx.link)
        preview = {"weibo": text, "weibo_length": weibo_length(text), "draft": d.number, "draft_status": d.status}
    return dict(account_checks(desk.cfg, mass_sends(desk.db), ctx), preview=preview)


def account_checks(cfg: Any, sends: channels.MassSends, ctx: channels.PublishContext) -> dict[str, Any]:
    """Each channel's :class:`~opinion_desk.incidents.publish.AccountCheck` (the workspace's 发布前检查 and
    ``opinion-desk incidents accounts``)."""
    out = []
    for ch in channels.CHANNELS:
        try:
            out.append(channels.build(cfg, ch, sends).check_account(ctx).to_dict())
        except Exception as e:  # a broken check must not hide the other channel
            log.exception("preflight %s", ch)
            out.append(channels.AccountCheck(ch, "api", False, "检查失败", [f"{type(e).__name__}: {e}"]).to_dict())
    m = channels.mode(cfg)
    return {"mode": m, "demo": m == "demo", "link": ctx.link, "rip": ctx.rip, "accounts": out,
            "ok": all(a["ok"] for a in out)}


# -- publishing -------------------------------------------------------------------------------------------------
def publish(desk: Any, inc_id: int, actor: Actor, version: int | None, rip: str = "") -> dict[str, Any]:
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        transition(s, inc, "publish_start", actor, version)
        draft = desk.current_draft(s, inc_id, "approved")
        done = {p.channel for p in s.scalars(select(Publication).where(
            Publication.incident_id == inc_id, Publication.draft_id == draft.id, Publication.status == "published"))}
    desk.emit(inc, "publishing")
    ctx = context(desk, draft.id, rip, actor.username)
    results: dict[str, Any] = {}
    for ch in channels.CHANNELS:
        if ch in done:
            continue
        try:
            results[ch] = publisher(desk, ch).publish(draft, ctx).to_dict()
        except channels.PublishError as e:
            results[ch] = e.to_dict()
        except Exception as e:  # a bug in one channel must not leave the incident stuck in "publishing"
            log.exception("publishing %s", ch)
            results[ch] = {"ok": False, "error": f"{channels.CHANNEL_ZH[ch]}发布失败：程序错误", "code": None,
                           "detail": f"{type(e).__name__}: {e}"}
    t = now()
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        for ch, r in results.items():
            s.add(Publication(incident_id=inc_id, draft_id=draft.id, channel=ch,
                              status="published" if r["ok"] else "failed", remote_id=r.get("remote_id", ""),
                              url=r.get("url", ""), error=r.get("error", ""), published_at=t if r["ok"] else None,
                              at=t, mode=r.get("mode", "api"), published_by=actor.username,
                              details=dict(r.get("details") or {}, detail=r.get("detail", ""))))
            record(s, inc, "publication", actor, {"channel": ch, **r})
        ok = all(r["ok"] for r in results.values())
        if ok:
            transition(s, inc, "published", actor, None, published_at=t,
                       first_info_at=aware(inc.first_info_at) or t, verified_at=None)
        else:
            transition(s, inc, "publish_failed", actor, None)
    desk.emit(inc, "published" if ok else "publish_failed", results=results)
    if ok:
        verify(desk, inc_id)  # the platforms can say at once (statuses/show, mass/get; the 演示 always)
        return results
    failed = "；".join(r["error"] for r in results.values() if not r["ok"])
    if any(r["ok"] for r in results.values()) or done:
        err = IncidentError(f"部分渠道未发布：{failed}。已成功的渠道不会重复发布；可重试，或手工发布后登记链接")
    else:
        err = IncidentError(f"未能发布：{failed}。可重试，或手工发布后登记链接")
    err.results = results  # type: ignore[attr-defined]
    raise err


def _parse_time(value: Any, tz: Any = None) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise IncidentError(f"发布时间格式不对：{value!r}（例：2026-11-24T10:30+08:00）") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or zone())  # what an officer types is in the desk's zone (Beijing time)
    return t.astimezone(timezone.utc)  # stored as UTC (SQLite keeps no zone)


def record_manual(desk: Any, inc_id: int, actor: Actor, channel: str, url: str, published_by: str = "",
                  published_at: Any = None) -> dict[str, Any]:
    """Record a publication made by hand: its link is fetched and snapshotted (a failed fetch is recorded, not
    fatal), and once both channels are out the incident becomes 已发布 and is verified like the desk's own."""
    if not actor.has_role("duty", "approver"):
        raise IncidentError("权限不足：登记手工发布需要值班员或审核领导角色")
    if channel not in channels.CHANNELS:
        raise IncidentError(f"请选择渠道：{'、'.join(channels.CHANNEL_ZH.values())}")
    problem = manual.check_link(channel, url)
    if problem:
        raise IncidentError(problem)
    url = url.strip()
    when = _parse_time(published_at, zone(desk.cfg)) or now()
    if when > now() + timedelta(minutes=5):
        raise IncidentError("发布时间不能晚于当前时间")
    who = (published_by or "").strip() or actor.name or actor.username
    snap = manual.fetch(url, allow_private=bool(desk.cfg["incidents"].get("snapshot_private_hosts")))
    t = now()
    with writing(desk.db) as s:
        inc = get(s, inc_id)
        if inc.status in ("open", "publishing", "closed"):
            raise IncidentError(f"事件 #{inc_id} 当前状态为「{status_zh(inc.status)}」，不能登记手工发布"
                                f"{'（请先接警）' if inc.status == 'open' else ''}")
        draft = s.scalar(select(Draft).where(Draft.incident_id == inc_id, Draft.status.in_(("approved", "draft")))
                         .order_by(Draft.number.desc()).limit(1))
        pub = Publication(incident_id=inc_id, draft_id=draft.id if draft else 0, channel=channel, status="published",
                          remote_id=manual.remote_id(channel, url), url=url, error="", published_at=when, at=t,
                          mode="manual", published_by=who[:100], details={"snapshot": snap, "recorded_by": actor.username})
        s.add(pub)
        record(s, inc, "publication", actor, {"channel": channel, "ok": True, "mode": "manual", "url": url,
                                              "published_by": who, "published_at": when.isoformat(),
                                              "snapshot": {k: snap.get(k) for k in ("status", "sha256", "error")}})
        s.flush()
        # this round: every publication the first time, the current draft's once the incident was published before
        pubs = [p for p in s.scalars(select(Publication).where(Publication.incident_id == inc_id,
                                                               Publication.status == "published"))
                if inc.published_at is None or p.draft_id == pub.draft_id]
        both = set(channels.CHANNELS) <= {p.channel for p in pubs}
        if both and inc.status in ("acknowledged", "drafted", "approved"):
            first = min(aware(p.published_at) or when for p in pubs)
            transition(s, inc, "publish_manual", actor, None, published_at=first,
                       first_info_at=aware(inc.first_info_at) or first, verified_at=None)
    desk.emit(inc, "published" if both else "publication")
    res = verify(desk, inc_id)
    return {"channel": channel, "snapshot": {k: snap.get(k) for k in ("status", "sha256", "error", "title")},
            "published": both, "verify": res}


# -- 持续发布 ---------------------------------------------------------------------------------------------------
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
