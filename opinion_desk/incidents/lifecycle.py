"""The incident state machine: states, allowed transitions and who may make them, with optimistic concurrency.

    open -> acknowledged -> drafted -> approved -> publishing -> published -> following -> closed
                               ^  (a new draft after approval or publication goes back to drafted)

Every change is ``UPDATE incidents SET ..., version = version + 1 WHERE id = ? AND version = ?`` with the version
the actor saw: when someone else changed the incident first, :class:`~opinion_desk.errors.ConflictError` says who
and what, and nothing of theirs or ours is lost (drafts and notes are rows of their own; the caller hands the
loser's input back). Each action writes an audit entry in the same transaction, under the audit write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import ConflictError, IncidentError
from ..state.incidents import AuditEntry, Incident
from . import audit

STATES: dict[str, str] = {
    "open": "待接警",
    "acknowledged": "已接警",
    "drafted": "已拟稿",
    "approved": "已审核",
    "publishing": "发布中",
    "published": "已发布",
    "following": "持续跟进",
    "closed": "已办结",
}
ACTIVE = tuple(s for s in STATES if s != "closed")

# action -> (from states, to state (None = unchanged), roles that may do it, Chinese name)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None, tuple[str, ...], str]] = {
    "acknowledge": (("open",), "acknowledged", ("duty", "approver"), "接警"),
    "assign": (ACTIVE, None, ("duty", "approver"), "指派"),
    "level": (ACTIVE, None, ("duty", "approver"), "调整级别"),
    "draft": (("acknowledged", "drafted", "approved", "published", "following"), "drafted", ("duty", "approver"),
              "拟稿"),
    "approve": (("drafted",), "approved", ("approver",), "审核通过"),
    "reject": (("drafted",), "drafted", ("approver",), "退回修改"),
    "publish_start": (("approved",), "publishing", ("duty", "approver"), "发布"),
    "published": (("publishing",), "published", ("duty", "approver"), "发布完成"),
    "publish_failed": (("publishing",), "approved", ("duty", "approver"), "发布未完成"),
    "publish_manual": (("acknowledged", "drafted", "approved"), "published", ("duty", "approver"), "登记手工发布"),
    "press_held": (ACTIVE, None, ("duty", "approver"), "新闻发布会已举行"),
    "follow_up": (("published",), "following", ("duty", "approver"), "转入持续跟进"),
    "close": (ACTIVE, "closed", ("duty", "approver"), "关闭"),
}


@dataclass
class Actor:
    """Who acts: a user (by username) and their roles; ``system`` for jobs."""

    username: str
    name: str = ""
    roles: list[str] = field(default_factory=list)

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(set(self.roles).intersection(roles))

    @classmethod
    def of(cls, user: Any) -> "Actor":
        return cls(user.username, getattr(user, "name", "") or user.username, list(user.roles or []))


SYSTEM = Actor("system", "系统", ["admin"])


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


_CLOCK: list[Callable[[], datetime]] = [system_clock]


def now() -> datetime:
    """The incidents' one clock: wall time, or the stepped clock of :func:`stepped_clock` (tests, benches)."""
    return _CLOCK[-1]()


@contextmanager
def stepped_clock(clock: Callable[[], datetime]) -> Iterator[Callable[[], datetime]]:
    """Run the incident desk on ``clock`` (e.g. :class:`opinion_desk.detection.clock.ManualClock`) inside the block:
    deadlines, escalations, close times and the timeliness figures all read it."""
    _CLOCK.append(clock)
    try:
        yield clock
    finally:
        _CLOCK.remove(clock)


@contextmanager
def writing(db: Any) -> Iterator[Session]:
    """A state transaction holding the audit write lock until it commits (so the chain never forks)."""
    with audit.WRITE_LOCK:
        with db.session_scope() as s:
            yield s


def get(s: Session, incident_id: int) -> Incident:
    inc = s.get(Incident, incident_id)
    if inc is None:
        raise IncidentError(f"事件 #{incident_id} 不存在")
    return inc


def check(inc: Incident, action: str, actor: Actor) -> None:
    """Raise :class:`IncidentError` when ``actor`` may not do ``action`` on ``inc`` now."""
    froms, _to, roles, zh = TRANSITIONS[action]
    if not actor.has_role(*roles):
        from ..state.users import ROLES

        raise IncidentError(f"权限不足：{zh}需要{'或'.join(ROLES.get(r, r) for r in roles)}角色")
    if inc.status not in froms:
        raise IncidentError(f"事件 #{inc.id} 当前状态为「{STATES.get(inc.status, inc.status)}」，不能{zh}")


def self_approval(inc: Incident, author: str, actor: Actor, allowed: bool) -> bool:
    """Four eyes (双人审核): refuse an approver's approval of a draft they wrote, unless the office allows it
    (``[incidents] allow_self_approval``, a one-person office); returns True when this is a self-approval
    (the caller audits it as such)."""
    if author != actor.username:
        return False
    if not allowed:
        raise IncidentError(f"权限不足：不能审核通过自己撰写的稿件（双人审核）。事件 #{inc.id} 的这份稿件由您撰写，"
                            "请由另一位审核领导审核")
    return True


def _last_change(s: Session, incident_id: int) -> AuditEntry | None:
    return s.scalar(select(AuditEntry).where(AuditEntry.incident_id == incident_id)
                    .order_by(AuditEntry.seq.desc()).limit(1))


def conflict(s: Session, inc_id: int, expected: int) -> ConflictError:
    s.expire_all()
    current = s.get(Incident, inc_id)
    last = _last_change(s, inc_id)
    who = f"{last.payload.get('actor_name') or last.actor}（{TRANSITIONS.get(last.action, (None, None, None, last.action))[3]}）" \
        if last else "其他人"
    err = ConflictError(f"事件 #{inc_id} 已被{who}更新，您看到的是旧版本（第 {expected} 版，现为第 "
                        f"{current.version if current else '?'} 版）。请刷新后再操作，您填写的内容已保留。")
    err.current_version = current.version if current else None  # type: ignore[attr-defined]
    return err


def expect(s: Session, inc: Incident, expected_version: int | None) -> None:
    """Refuse a stale view before anything else (the officer decided on an older incident)."""
    if expected_version is not None and int(expected_version) != inc.version:
        raise conflict(s, inc.id, int(expected_version))


def transition(s: Session, inc: Incident, action: str, actor: Actor, expected_version: int | None,
               payload: dict[str, Any] | None = None, **values: Any) -> Incident:
    """Check, then ``UPDATE ... WHERE id=? AND version=?``, then audit. ``values`` are the columns to set."""
    expected = inc.version if expected_version is None else int(expected_version)
    if expected != inc.version:
        raise conflict(s, inc.id, expected)
    check(inc, action, actor)
    to = TRANSITIONS[action][1]
    if to is not None:
        values["status"] = to
    res = s.execute(update(Incident).where(Incident.id == inc.id, Incident.version == expected)
                    .values(version=expected + 1, **values).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise conflict(s, inc.id, expected)
    body = {"actor_name": actor.name, "from": inc.status, "to": to or inc.status, "version": expected + 1}
    body.update(payload or {})
    audit.append(s, actor.username, action, inc.id, body)
    s.expire(inc)
    s.refresh(inc)
    return inc


def record(s: Session, inc: Incident | None, action: str, actor: Actor, payload: dict[str, Any] | None = None) -> None:
    """Audit an action that does not change the incident row (a note, a snapshot, a check)."""
    body = {"actor_name": actor.name}
    body.update(payload or {})
    audit.append(s, actor.username, action, inc.id if inc else None, body)


def status_zh(status: str) -> str:
    return STATES.get(status, status)
