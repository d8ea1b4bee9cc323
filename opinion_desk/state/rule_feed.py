"""The rule feed: every stored post, once and in one order, for the one process that runs the rules.

Workers store posts in parallel and :meth:`RuleFeed.append` them here; the holder of the rules lease reads
:meth:`RuleFeed.after` its cursor, feeds the engine and :meth:`RuleFeed.commit` s the cursor under its name, so a
new holder (the old one died) goes on from the last committed post. :meth:`RuleFeed.prune` drops what every
named cursor has passed.

The order is the commit order: an append takes the next numbers from the one-row counter ``rule_feed_head`` by an
``UPDATE`` whose row lock is held until the append commits, so a later number is never visible before an earlier
one. (A plain autoincrement would not do on PostgreSQL: numbers are handed out at insert, and a transaction that
took 11 may commit before the one that took 10; a reader at 11 would then never see 10.) Appends are therefore
serialised, each one a short transaction (one ``UPDATE ... RETURNING`` and the insert under the lock). A post id
enters the feed once (UNIQUE): a post already in the feed (a queue replay after a worker died) is not appended
again, and an append that meets one added meanwhile is rolled back and tried again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, String, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..models import utcnow
from . import Base, StateDB
from .leases import utc
from .txn import write_transaction


class FeedRow(Base):
    __tablename__ = "rule_feed"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[str] = mapped_column(String(100), unique=True)
    post: Mapped[dict] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedHead(Base):
    """One row (``name = "feed"``): the last number handed out."""

    __tablename__ = "rule_feed_head"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedCursor(Base):
    """How far a named reader (the rule engine) has read."""

    __tablename__ = "rule_feed_cursors"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class FeedItem:
    seq: int
    post_id: str
    post: dict[str, Any]


HEAD = "feed"


class RuleFeed:
    def __init__(self, db: StateDB, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- writers (workers) -------------------------------------------------------------------------
    def append(self, posts: Sequence[Mapping[str, Any]], id_key: str = "id") -> list[int]:
        """Add ``posts`` (JSON dicts, their id under ``id_key``) at the end of the feed, in the given order;
        returns the numbers they got. A post id already in the feed (or twice in ``posts``) is skipped."""
        seen: set[str] = set()
        batch = []
        for p in posts:
            pid = str(p[id_key])
            if pid not in seen:
                seen.add(pid)
                batch.append((pid, dict(p)))
        if not batch:
            return []
        for _ in range(3):  # again only after a race lost: the counter row created, or a post id added meanwhile
            try:
                with write_transaction(self.db) as conn:
                    return self.append_in(conn, batch)
            except IntegrityError:
                continue
        raise RuntimeError("rule feed: append lost its race three times")  # pragma: no cover

    def append_in(self, conn: Connection, batch: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
        """The body of :meth:`append` in the caller's transaction ``conn`` (numbers stay locked until it ends).
        Raises ``IntegrityError`` when another appender added one of the post ids meanwhile (try again)."""
        h = FeedHead.__table__.c
        f = FeedRow.__table__.c
        have = set(conn.scalars(select(f.post_id).where(f.post_id.in_([pid for pid, _ in batch]))))
        fresh = [(pid, p) for pid, p in batch if pid not in have]
        if not fresh:
            return []
        take = update(FeedHead.__table__).where(h.name == HEAD).values(seq=h.seq + len(fresh)).returning(h.seq)
        # the lock: held from here to the commit, so numbers become visible in order
        last = conn.scalar(take)
        if last is None:
            conn.execute(FeedHead.__table__.insert().values(name=HEAD, seq=0))
            last = conn.scalar(take)
        now = utc(self.clock)
        seqs = list(range(int(last) - len(fresh) + 1, int(last) + 1))
        conn.execute(FeedRow.__table__.insert(), [{"seq": s, "post_id": pid, "post": p, "added_at": now}
                                                  for s, (pid, p) in zip(seqs, fresh)])
        return seqs

    # -- the reader (the rules lease holder) ---------------------------------------------------------
    def after(self, cursor: int, n: int = 500) -> list[FeedItem]:
        """Up to ``n`` posts numbered above ``cursor``, in order."""
        f = FeedRow.__table__.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(f.seq, f.post_id, f.post).where(f.seq > cursor).order_by(f.seq).limit(n)).all()
        return [FeedItem(int(s), pid, dict(p)) for s, pid, p in rows]

    def cursor(self, name: str) -> int:
        """The committed cursor of reader ``name`` (0 before its first commit)."""
        with self.db.session_scope() as s:
            row = s.get(FeedCursor, name)
            return int(row.seq) if row else 0

    def commit(self, name: str, seq: int) -> None:
        """Persist reader ``name``'s cursor at ``seq`` (everything up to it is handled)."""
        now = utc(self.clock)
        c = FeedCursor.__table__.c
        with self.db.engine.begin() as conn:
            if conn.execute(update(FeedCursor.__table__).where(c.name == name).values(seq=seq, updated_at=now)).rowcount:
                return
        try:
            with self.db.engine.begin() as conn:
                conn.execute(FeedCursor.__table__.insert().values(name=name, seq=seq, updated_at=now))
        except IntegrityError:  # created meanwhile by another process: update it
            with self.db.engine.begin() as conn:
                conn.execute(update(FeedCursor.__table__).where(c.name == name).values(seq=seq, updated_at=now))

    def drop_cursor(self, name: str) -> None:
        """Forget reader ``name`` (it no longer holds back :meth:`prune`)."""
        with self.db.engine.begin() as conn:
            conn.execute(delete(FeedCursor.__table__).where(FeedCursor.__table__.c.name == name))

    def head(self) -> int:
        """The last number handed out (0 when nothing was ever appended)."""
        with self.db.engine.connect() as conn:
            return int(conn.scalar(select(FeedHead.seq).where(FeedHead.name == HEAD)) or 0)

    def prune(self) -> int:
        """Delete the posts every named reader has passed; returns how many. Nothing without a reader."""
        with self.db.engine.begin() as conn:
            low = conn.scalar(select(func.min(FeedCursor.seq)))
            if low is None:
                return 0
            return conn.execute(delete(FeedRow.__table__).where(FeedRow.__table__.c.seq <= low)).rowcount
