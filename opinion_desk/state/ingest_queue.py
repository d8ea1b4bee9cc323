"""The ingest queue: posts a web process accepted, kept in the state database until a worker has stored them.

A web process :meth:`IngestQueue.put` s the accepted posts (JSON dicts) and answers 202 only after that commit,
so an accepted post survives any crash. Workers :meth:`IngestQueue.claim` a batch for ``lease_seconds`` and
:meth:`IngestQueue.done` it once stored (the rows are deleted). A worker that dies leaves its claim to expire, and
the rows are claimed again by another: at-least-once delivery, made harmless downstream by the posts' stable ids
(storing a post twice overwrites it; the rule feed takes a post id once).

Claiming is race-free on both databases: PostgreSQL picks rows ``FOR UPDATE SKIP LOCKED`` (two workers never
wait for or take the same rows); SQLite reads and marks them in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from . import Base, StateDB
from ..models import utcnow
from .leases import utc
from .txn import is_sqlite, write_transaction

BIGINT = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers only an INTEGER PRIMARY KEY itself


class IngestRow(Base):
    __tablename__ = "ingest_queue"
    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    payload: Mapped[dict] = mapped_column(JSON)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far (> 1: a worker died on it)

    __table_args__ = (Index("ingest_queue_claimed_until", "claimed_until"),)


@dataclass(frozen=True)
class QueuedPost:
    id: int  # the queue row's id, for done() / release()
    post: dict[str, Any]
    attempts: int  # 1 on the first claim


class IngestQueue:
    def __init__(self, db: StateDB, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def put(self, posts: Sequence[Mapping[str, Any]]) -> list[int]:
        """Queue ``posts`` durably (committed when this returns); returns their row ids."""
        if not posts:
            return []
        now = utc(self.clock)
        with self.db.session_scope() as s:
            rows = [IngestRow(payload=dict(p), enqueued_at=now, attempts=0) for p in posts]
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]

    def claim(self, n: int, holder: str, lease_seconds: float = 60.0) -> list[QueuedPost]:
        """Up to ``n`` unclaimed (or claim-expired) posts, oldest first, claimed by ``holder`` for
        ``lease_seconds``: nobody else gets them until :meth:`done`, :meth:`release` or the claim expires."""
        if n <= 0:
            return []
        now = utc(self.clock)
        until = now + timedelta(seconds=lease_seconds)
        q = IngestRow.__table__.c
        free = or_(q.claimed_until.is_(None), q.claimed_until <= now)
        mark = dict(claimed_by=holder, claimed_until=until, attempts=q.attempts + 1)
        with write_transaction(self.db) as conn:
            if is_sqlite(self.db):  # the write lock is ours from BEGIN IMMEDIATE: read, then mark
                ids = list(conn.scalars(select(q.id).where(free).order_by(q.id).limit(n)))
                if not ids:
                    return []
                conn.execute(update(IngestRow.__table__).where(q.id.in_(ids)).values(**mark))
                got = conn.execute(select(q.id, q.payload, q.attempts).where(q.id.in_(ids))).all()
            else:
                pick = select(q.id).where(free).order_by(q.id).limit(n).with_for_update(skip_locked=True)
                got = conn.execute(update(IngestRow.__table__).where(q.id.in_(pick)).values(**mark)
                                   .returning(q.id, q.payload, q.attempts)).all()
        return sorted((QueuedPost(int(i), dict(p), int(a)) for i, p, a in got), key=lambda x: x.id)

    def done(self, ids: Sequence[int]) -> int:
        """Forget the rows of ``ids`` (their posts are stored); returns how many were removed."""
        if not ids:
            return 0
        with self.db.engine.begin() as conn:
            return conn.execute(delete(IngestRow.__table__).where(IngestRow.__table__.c.id.in_(list(ids)))).rowcount

    def release(self, ids: Sequence[int]) -> None:
        """Hand claimed rows back at once (a worker stopping cleanly, or a batch it could not store)."""
        if not ids:
            return
        q = IngestRow.__table__.c
        with self.db.engine.begin() as conn:
            conn.execute(update(IngestRow.__table__).where(q.id.in_(list(ids)))
                         .values(claimed_by=None, claimed_until=None))

    def depth(self) -> dict[str, int]:
        """``{"waiting": unclaimed or expired, "claimed": under a live claim}``."""
        now = utc(self.clock)
        q = IngestRow.__table__.c
        with self.db.engine.connect() as conn:
            claimed = conn.scalar(select(func.count()).where(q.claimed_until > now)) or 0
            total = conn.scalar(select(func.count()).select_from(IngestRow.__table__)) or 0
        return {"waiting": total - claimed, "claimed": claimed}
