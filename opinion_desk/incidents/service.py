"""The incidents' deadline jobs: escalations pushed when each fraction of a clock is crossed, to the approvers
and the routed department. The desk (:mod:`opinion_desk.root`, :mod:`opinion_desk.jobs`) builds the
:class:`~opinion_desk.incidents.desk.IncidentDesk` and schedules these with verification and reminders."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ..state.incidents import Incident
from ..timefmt import zone
from . import deadlines
from .desk import IncidentDesk
from .lifecycle import SYSTEM, now, record, writing

log = logging.getLogger(__name__)


def leaders(desk: IncidentDesk) -> list[dict[str, Any]]:
    from ..state.users import users_with_role

    with desk.db.session_scope() as s:
        return [{"username": u.username, "name": u.name, "email": u.email, "phone": u.phone}
                for u in users_with_role(s, "approver")]


def tick_deadlines(desk: IncidentDesk) -> list[str]:
    """Push every escalation now due (once per fraction; after a long stop, only the latest of each clock)."""
    t = now()
    pushed = []
    with desk.db.session_scope() as s:
        incs = list(s.scalars(select(Incident).where(Incident.status != "closed")))
    fracs = sorted(float(x) for x in desk.cfg["incidents"]["escalate_at"])
    for inc in incs:
        for key, frac, clock in deadlines.due_escalations(desk.cfg, inc, t):
            marks = [f"{clock.name}:{f:g}" for f in fracs if f <= frac]
            with writing(desk.db) as s:
                row = s.get(Incident, inc.id)
                if key in (row.escalated or []):
                    continue
                row.escalated = sorted(set(row.escalated or []) | set(marks))  # a job's bookkeeping: no version bump
                record(s, row, "escalate", SYSTEM, {"key": key, "due": clock.due.isoformat()})
            desk.notify(inc, f"{clock.name}:{frac:g}", deadlines.escalation_message(inc, frac, clock, t, zone(desk.cfg)),
                        leaders(desk) + list(inc.contacts or []))
            pushed.append(f"{inc.id}:{key}")
    return pushed


def next_deadline(desk: IncidentDesk) -> Any:
    """The earliest moment an escalation of an active incident falls due (None when none is left)."""
    with desk.db.session_scope() as s:
        incs = list(s.scalars(select(Incident).where(Incident.status != "closed")))
    times = [t for t in (deadlines.next_crossing(desk.cfg, i) for i in incs) if t is not None]
    return min(times) if times else None


def deadline_job(desk: IncidentDesk, sched: Any) -> Any:
    """Push what is due, then wake again exactly when the next fraction is crossed (the interval job, every
    ``tick_seconds``, finds new incidents and level changes; this one-shot keeps the push on time)."""

    def run() -> list[str]:
        try:
            return tick_deadlines(desk)
        finally:
            nxt = next_deadline(desk)
            if nxt is not None:
                sched.run_at("incident-deadline-next", run, nxt)

    return run
