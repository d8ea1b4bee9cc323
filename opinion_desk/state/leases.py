"""Leases in the state database: which desk process runs a singleton job (a collector, the rules, deadlines).

A lease is one row of ``leases``: its ``name``, the ``holder`` (``hostname:pid:random``, see :func:`holder_id`),
``expires_at`` and an ``epoch`` (fencing token) that grows by one each time the lease changes hands. A holder keeps
its leases by renewing them well inside the TTL (the scheduler renews every ``ttl / 3``); a holder that dies
(``kill -9``, no release) loses them when ``expires_at`` passes, and the next acquire of another process takes them
over: with a TTL of 15 s and a renewal every 5 s, within 20 s of the last renewal.

Atomic on SQLite and PostgreSQL without locks held between calls: a take-over is one conditional ``UPDATE ...
WHERE name = :n AND (holder = :me OR expires_at <= :now)`` (PostgreSQL re-checks the condition on the row's newest
version, SQLite serialises writers), and a lease that has no row yet is ``INSERT`` ed, the loser of that race
getting an ``IntegrityError`` (the primary key) and so not the lease.

Time is the processes' clock (UTC): the hosts of one desk must keep their clocks in step (NTP), since a lease's
expiry written by one host is compared with another host's now.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import DateTime, Integer, String, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..models import utcnow
from . import Base, StateDB
from .alerts import aware


def utc(clock: Callable[[], datetime]) -> datetime:
    """``clock()`` in UTC: SQLite keeps datetimes without their zone, so every stored time is UTC."""
    return clock().astimezone(timezone.utc)


def holder_id() -> str:
    """``hostname:pid:random``: unique per process, readable in the leases table."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class LeaseRow(Base):
    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")  # "" after a release
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    epoch: Mapped[int] = mapped_column(Integer, default=1)  # +1 each time another holder takes it
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Held:
    """A lease this process holds: until when (as last written) and its fencing token."""

    name: str
    expires_at: datetime
    epoch: int


class Leases:
    """The leases of one process (``holder``) in one state database.

    :meth:`acquire` takes a lease that is free, expired or already ours (renewing it); :meth:`renew` renews
    every lease we hold and drops those another process took; :meth:`holds` answers from memory (no query) and
    turns False by itself once the TTL passes without a successful renewal, so a process cut off from the database
    stops its singleton work in time."""

    def __init__(self, db: StateDB, holder: str | None = None, ttl: float = 15.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        if ttl <= 0:
            raise ValueError(f"lease ttl must be > 0 seconds, got {ttl}")
        self.db = db
        self.holder = holder or holder_id()
        self.ttl = timedelta(seconds=ttl)
        self.clock = clock
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()

    # -- taking and keeping ----------------------------------------------------------------------
    def acquire(self, name: str) -> bool:
        """Take ``name`` if it is free, expired or ours (then it is renewed); False while another holds it."""
        now = utc(self.clock)
        until = now + self.ttl
        t = LeaseRow.__table__
        c = t.c
        with self.db.engine.begin() as conn:
            took = conn.execute(
                update(t).where(c.name == name, (c.holder == self.holder) | (c.expires_at <= now))
                .values(holder=self.holder, expires_at=until,
                        epoch=case((c.holder == self.holder, c.epoch), else_=c.epoch + 1),
                        acquired_at=case((c.holder == self.holder, c.acquired_at), else_=now))).rowcount
            epoch = conn.execute(select(c.epoch).where(c.name == name, c.holder == self.holder)).scalar() \
                if took else None
            exists = took or conn.execute(select(c.name).where(c.name == name)).first() is not None
        if exists and not took:  # another holds it (no INSERT that would only fail)
            self._forget(name)
            return False
        if not took:
            try:
                with self.db.engine.begin() as conn:
                    conn.execute(t.insert().values(name=name, holder=self.holder, expires_at=until, epoch=1,
                                                   acquired_at=now))
                epoch = 1
            except IntegrityError:  # the row exists (held by another) or another process inserted it first
                self._forget(name)
                return False
        with self._lock:
            self._held[name] = Held(name, until, int(epoch))
        return True

    def renew(self, names: list[str] | None = None) -> set[str]:
        """Renew the leases we hold (or those of ``names`` among them); returns the names still held. A lease
        another process took meanwhile (ours had expired) is dropped."""
        with self._lock:
            mine = [n for n in (names if names is not None else list(self._held)) if n in self._held]
        if not mine:
            return set(self._held)
        now = utc(self.clock)
        until = now + self.ttl
        c = LeaseRow.__table__.c
        with self.db.engine.begin() as conn:
            conn.execute(update(LeaseRow.__table__).where(c.name.in_(mine), c.holder == self.holder)
                         .values(expires_at=until))
            kept = dict(conn.execute(select(c.name, c.epoch).where(c.name.in_(mine), c.holder == self.holder)).all())
        with self._lock:
            for n in mine:
                if n in kept:
                    self._held[n] = Held(n, until, int(kept[n]))
                else:
                    self._held.pop(n, None)
            return set(self._held)

    def release(self, name: str | None = None) -> None:
        """Give up ``name`` (every lease we hold when None) so another process takes it at once."""
        with self._lock:
            names = [name] if name is not None else list(self._held)
            for n in names:
                self._held.pop(n, None)
        if not names:
            return
        c = LeaseRow.__table__.c
        with self.db.engine.begin() as conn:
            conn.execute(update(LeaseRow.__table__).where(c.name.in_(names), c.holder == self.holder)
                         .values(holder="", expires_at=utc(self.clock)))

    # -- asking ------------------------------------------------------------------------------------
    def holds(self, name: str) -> bool:
        """Whether we hold ``name`` now, from memory: False once its last written expiry has passed."""
        h = self._held.get(name)
        return h is not None and h.expires_at > utc(self.clock)

    def held(self) -> set[str]:
        """The names of the leases we hold now (unexpired, from memory)."""
        now = utc(self.clock)
        with self._lock:
            return {n for n, h in self._held.items() if h.expires_at > now}

    def token(self, name: str) -> int | None:
        """The fencing token (epoch) of a lease we hold, None when we do not: a write guarded by it can refuse a
        holder that was replaced while it was still working."""
        return self._held[name].epoch if self.holds(name) else None

    def table(self) -> list[dict[str, Any]]:
        """Every lease row (who holds what until when), for status pages and the CLI."""
        now = utc(self.clock)
        with self.db.session_scope() as s:
            return [{"name": r.name, "holder": r.holder, "expires_at": aware(r.expires_at).isoformat(),
                     "epoch": r.epoch, "acquired_at": aware(r.acquired_at).isoformat(),
                     "live": bool(r.holder) and aware(r.expires_at) > now, "mine": r.holder == self.holder}
                    for r in s.scalars(select(LeaseRow).order_by(LeaseRow.name))]

    def _forget(self, name: str) -> None:
        with self._lock:
            self._held.pop(name, None)
