"""The delivery outbox: one row per (alert, channel) in the state database, delivered by a worker thread that
wakes when a row is added and by the scheduler's retry job. Each channel is delivered on its own thread, so a
slow or failing channel (an SMTP timeout, a robot that refuses) never holds up the others. Failures are retried
with exponential backoff until ``max_attempts``; a non-retryable failure stops at once.

Several desk processes may deliver from one outbox: a row is claimed (``claimed_by``, ``claimed_until``, one more
attempt) by a conditional ``UPDATE`` committed before the send, so only one process sends it; a claim whose sender
died expires after ``claim_seconds`` and the row is taken again (a sender killed between the send and recording
it may so send a row twice; nothing else does)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update

from ..errors import DeliveryError
from ..state import StateDB
from ..state.alerts import OutboxRow
from ..state.leases import holder_id
from .channels import Channel

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Outbox:
    def __init__(self, statedb: StateDB, channels: dict[str, Channel], max_attempts: int = 8,
                 retry_base: float = 30.0, clock: Callable[[], datetime] = _now, autostart: bool = True,
                 holder: str | None = None, claim_seconds: float = 120.0) -> None:
        self.db = statedb
        self.holder = holder or holder_id()  # written into the rows this process is sending
        self.claim_seconds = claim_seconds  # longer than any channel's send (their timeouts are ~10 s)
        self.channels = channels
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=max(2, len(channels)), thread_name_prefix="outbox")
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._stop = False
        self.autostart = autostart  # False: only explicit deliver_due() calls deliver (tests, replays)

    def enqueue(self, alert_id: str, channel_names: list[str], kind: str, payload: dict[str, Any]) -> list[int]:
        now = self.clock()
        ids = []
        with self.db.session_scope() as s:
            for name in channel_names:
                row = OutboxRow(alert_id=alert_id, channel=name, kind=kind, payload=payload, attempts=0,
                                next_try=now, status="pending", created_at=now)
                s.add(row)
                s.flush()
                ids.append(row.id)
        self.kick()
        return ids

    # -- delivery --------------------------------------------------------------------------------
    def kick(self) -> None:
        """Wake the delivery thread (started on first use)."""
        if not self.autostart:
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
            self._worker.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(5.0)
            self._wake.clear()
            try:
                self.deliver_due()
            except Exception:
                log.exception("outbox round failed")

    def deliver_due(self, wait: bool = False) -> int:
        """Start delivering every due row, one thread per channel; returns how many channels started."""
        now = self.clock()
        with self.db.session_scope() as s:
            rows = s.scalars(select(OutboxRow).where(OutboxRow.status == "pending", OutboxRow.next_try <= now,
                                                     _unclaimed(now)).order_by(OutboxRow.id)).all()
            by_channel: dict[str, list[int]] = {}
            for r in rows:
                by_channel.setdefault(r.channel, []).append(r.id)
        futures = []
        for channel, ids in by_channel.items():
            if self._stop:
                break  # stopping: what is not started stays pending
            with self._busy_lock:
                if channel in self._busy:
                    continue
                self._busy.add(channel)
            try:
                futures.append(self._pool.submit(self._deliver_channel, channel, ids))
            except RuntimeError:  # the pool closed under us (stop() from another thread): try again next start
                with self._busy_lock:
                    self._busy.discard(channel)
                break
        if wait:
            for f in futures:
                f.result()
        return len(futures)

    def _deliver_channel(self, channel: str, ids: list[int]) -> None:
        try:
            for row_id in ids:
                self.deliver_one(row_id)
        finally:
            with self._busy_lock:
                self._busy.discard(channel)
            self._wake.set()  # rows may have arrived for this channel meanwhile

    def claim(self, row_id: int) -> bool:
        """Claim a due, unclaimed row for this process, counting the attempt; committed before the send."""
        now = self.clock()
        c = OutboxRow.__table__.c
        with self.db.engine.begin() as conn:
            return conn.execute(
                update(OutboxRow.__table__)
                .where(c.id == row_id, c.status == "pending", c.next_try <= now, _unclaimed(now))
                .values(claimed_by=self.holder, claimed_until=now + timedelta(seconds=self.claim_seconds),
                        attempts=c.attempts + 1)).rowcount == 1

    def deliver_one(self, row_id: int) -> str:
        """Send one due row unless another process has it; returns its status (``"claimed"``: another process
        is sending it, ``"missing"``: no such row)."""
        if not self.claim(row_id):
            with self.db.session_scope() as s:
                row = s.get(OutboxRow, row_id)
                if row is None:
                    return "missing"
                return "claimed" if row.status == "pending" and row.claimed_by else row.status
        with self.db.session_scope() as s:
            row = s.get(OutboxRow, row_id)
            name, payload = row.channel, dict(row.payload)
        ch = self.channels.get(name)
        error: DeliveryError | None = None
        if ch is None:
            error = DeliveryError(name, "no such channel (define it in [alerting] channels)", retryable=False)
        else:
            try:
                ch.send(payload)
            except DeliveryError as e:
                error = e
            except Exception as e:  # a bug in one channel is that channel's failure only
                log.exception("channel %s crashed", name)
                error = DeliveryError(name, f"{type(e).__name__}: {e}")
        now = self.clock()
        with self.db.session_scope() as s:
            row = s.get(OutboxRow, row_id)
            mine = row.claimed_by == self.holder
            if mine:
                row.claimed_by, row.claimed_until = None, None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
            elif not mine:  # our claim ran out and another process has the row: its result counts
                log.warning("delivery %s to %s failed after its claim expired: %s", row.alert_id, name, error)
            else:
                row.last_error = str(error)
                if not error.retryable or row.attempts >= self.max_attempts:
                    row.status = "failed"
                    log.warning("delivery %s to %s failed for good: %s", row.alert_id, name, error)
                else:
                    delay = min(3600.0, self.retry_base * 2 ** (row.attempts - 1))
                    row.next_try = now + timedelta(seconds=delay)
                    log.info("delivery %s to %s failed (try %d), next in %.0fs: %s", row.alert_id, name,
                             row.attempts, delay, error)
            return row.status

    def rows(self, alert_id: str | None = None) -> list[dict[str, Any]]:
        with self.db.session_scope() as s:
            q = select(OutboxRow).order_by(OutboxRow.id)
            if alert_id:
                q = q.where(OutboxRow.alert_id == alert_id)
            return [r.to_dict() for r in s.scalars(q)]

    def stop(self, wait: float = 10.0) -> None:
        """Stop delivering: the worker finishes its round first (so it never submits to a closed pool), and
        deliveries already under way get up to ``wait`` seconds; rows not started stay pending for next time."""
        self._stop = True
        self._wake.set()
        worker = self._worker
        if worker is not None and worker.is_alive() and worker is not threading.current_thread():
            worker.join(wait)
        self._pool.shutdown(wait=wait > 0, cancel_futures=True)


def _unclaimed(now: datetime):  # noqa: ANN202  (a SQL condition)
    """Rows no live claim holds: never claimed, finished, or their sender died."""
    return or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now)
