"""APScheduler jobs: collectors, the spool drain, window rules, deadlines.

This is the one place that decides what a failing job does: it is logged, the source is marked unhealthy
(last error, failures in a row), and the job runs again at its next time, so one failure never stops the rest.

Per source (one interval job each, with the source's cadence and jitter):

- **timeout**: a run is done in a worker thread and cut off after ``run_timeout`` seconds (the HTTP client also
  cuts off each response); a cut-off run is a failure of kind ``timeout`` and its late result is thrown away;
  the source is not run again until that thread has ended.
- **backoff**: after ``k`` failures in a row the next run waits ``min(cadence * 2**(k-1), backoff_max)`` after the
  last failure (runs that fall inside are skipped); a success resets it. Computed from the persisted state, so a
  restart keeps it.
- **cursor**: persisted only with a successful run (whose posts reached the store or the spool), so a restart
  neither re-floods nor misses.
- **alerts**: the health record broadcast after each run (``broadcast.source``, and every function in
  :attr:`DeskScheduler.source_listeners`) carries ``alert: true`` on the run where the source reaches
  ``alert_after`` failures in a row, or on the first run whose login expired (``alert_kind: "auth"``, at once),
  and ``recovered: true`` on the first success after an alert.

Several processes (``--role worker``): given a :class:`~opinion_desk.state.leases.Leases`, every collector and each
job added with :meth:`DeskScheduler.add_singleton_job` runs only in the process holding the lease of its name
(``source:<name>`` for a collector, the job id otherwise). A renew job (every ``renew_seconds``, a third of the TTL
by default) keeps the leases held and tries to take those of the others, so a dead holder's jobs move within
TTL + one renewal (15 s + 5 s); a lease lost (taken after this process stalled past its TTL) stops the job's runs
from the next one on, within one renewal. Without leases (one process, ``--role all``) every job runs here.

Time comes from an injectable ``clock`` (tests step it by hand).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

POLL_SECONDS = 5.0  # jobs this frequent poll (the ingest queue, the rule feed): a run outlasting the interval is normal


class _Overruns(logging.Filter):
    """Drops APScheduler's warning that a polling job was still running at its next time (under load a worker's
    ingest-queue and rule-feed jobs logged it every second, burying the warnings that matter)."""

    def __init__(self) -> None:
        super().__init__()
        self.quiet: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not ("maximum number of running instances reached" in msg
                    and any(f'job "{j} (' in msg for j in self.quiet))


_OVERRUNS = _Overruns()
logging.getLogger("apscheduler.scheduler").addFilter(_OVERRUNS)

from . import broadcast
from .collectors import Collector
from .errors import CollectorError, SourceAuthError
from .pipeline import Pipeline
from .state import StateDB
from .state.core import SourceState
from .state.leases import Leases

log = logging.getLogger(__name__)

SourceListener = Callable[[str, dict[str, Any]], None]
RECENT_KEEP = 30


def source_lease(name: str) -> str:
    """The lease of a collector (one per source)."""
    return f"source:{name}"


class _CutOff(Exception):
    """A run exceeded ``run_timeout``."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime | None) -> datetime | None:
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=timezone.utc)
    return t


def backoff_delay(failures: int, cadence: float, backoff_max: float) -> float:
    """Seconds to wait after the last failure before the next run (``failures`` in a row, >= 1)."""
    if failures <= 0:
        return 0.0
    return min(cadence * (2 ** (failures - 1)), max(backoff_max, cadence))


def source_health(row: SourceState, alert_after: int = 3, cadence: float | None = None,
                  backoff_max: float = 3600.0) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        t = _aware(t)
        return t.isoformat() if t is not None else None

    failures = row.failures_in_row or 0
    backoff_until = None
    if failures and cadence and row.last_error_at is not None:
        backoff_until = iso(_aware(row.last_error_at) + timedelta(seconds=backoff_delay(failures, cadence, backoff_max)))
    if row.last_run is None:
        status = "never"
    elif failures == 0:
        status = "ok"
    elif row.last_error_kind == "auth":
        status = "auth"
    else:
        status = "failing"
    return {
        "name": row.name,
        "status": status,
        "last_run": iso(row.last_run),
        "last_success": iso(row.last_success),
        "last_error": row.last_error,
        "last_error_kind": row.last_error_kind,
        "last_error_at": iso(row.last_error_at),
        "last_items": row.last_items or 0,
        "last_duration": row.last_duration,
        "last_notes": list(row.last_notes or []),
        "total_items": row.total_items or 0,
        "failures_in_row": failures,
        "alert_after": alert_after,
        "backoff_until": backoff_until,
        "recent": list(row.recent or []),
        "healthy": failures == 0,
        "alert": False,
        "alert_kind": None,
        "recovered": False,
    }


class DeskScheduler:
    """Owns the APScheduler instance and the per-source jobs."""

    def __init__(self, pipeline: Pipeline, statedb: StateDB, *, clock: Callable[[], datetime] = _now,
                 alert_after: int = 3, backoff_max: float = 3600.0, run_timeout: float = 300.0,
                 leases: Leases | None = None, renew_seconds: float | None = None) -> None:
        self.pipeline = pipeline
        self.statedb = statedb
        self.clock = clock
        self.alert_after = alert_after
        self.backoff_max = backoff_max
        self.run_timeout = run_timeout
        self.aps = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                     "misfire_grace_time": 60})
        self.collectors: dict[str, Collector] = {}
        self.source_listeners: list[SourceListener] = []
        self._run_locks: dict[str, threading.Lock] = {}  # held while a run (or its cut-off thread) is alive
        self.leases = leases  # None: this process runs every job
        self.singletons: set[str] = set()  # lease names of the jobs that run only where the lease is held
        if leases is not None:
            every = renew_seconds or leases.ttl.total_seconds() / 3
            self.aps.add_job(self.renew_leases, "interval", seconds=every, id="leases:renew", replace_existing=True)

    # -- collectors ------------------------------------------------------------------------------
    def add_collector(self, collector: Collector, start_now: bool = True) -> None:
        spec = collector.spec
        self.collectors[spec.name] = collector
        self._run_locks[spec.name] = threading.Lock()
        jitter = int(spec.jitter) if spec.jitter else None
        run: Callable[..., Any] = self.run_source
        if self.leases is not None:
            self.singletons.add(source_lease(spec.name))
            run = self._run_source_if_held
        self.aps.add_job(run, "interval", args=[spec.name], seconds=spec.cadence, jitter=jitter,
                         id=f"source:{spec.name}", replace_existing=True,
                         next_run_time=self.clock() if start_now else None)

    def _run_source_if_held(self, name: str) -> dict[str, Any] | None:
        return self.run_source(name) if self.holds(source_lease(name)) else None

    def alert_after_for(self, name: str) -> int:
        c = self.collectors.get(name)
        return (c.spec.alert_after if c is not None and c.spec.alert_after else None) or self.alert_after

    def health(self, name: str) -> dict[str, Any] | None:
        """The persisted health of one source (None when it never ran)."""
        with self.statedb.session_scope() as s:
            row = s.get(SourceState, name)
            if row is None:
                return None
            c = self.collectors.get(name)
            return source_health(row, self.alert_after_for(name), c.spec.cadence if c else None, self.backoff_max)

    def _collect(self, collector: Collector, cursor: dict[str, Any], lock: threading.Lock) -> Any:
        """collect() in a worker thread, cut off after ``run_timeout``. A cut-off thread releases ``lock``
        itself when it finally ends (so the source is not run twice at once); otherwise the caller does."""
        box: dict[str, Any] = {}
        guard = threading.Lock()

        def work() -> None:
            try:
                box["result"] = collector.collect(cursor)
            except BaseException as e:  # noqa: BLE001  (handed to the scheduler thread)
                box["error"] = e
            finally:
                with guard:
                    box["finished"] = True
                    if box.get("abandoned"):
                        lock.release()
                        log.info("cut-off run of %s ended; its result was thrown away", collector.name)

        t = threading.Thread(target=work, name=f"collect-{collector.name}", daemon=True)
        t.start()
        t.join(self.run_timeout)
        with guard:
            if not box.get("finished"):
                box["abandoned"] = True
                raise _CutOff(f"source '{collector.name}': no answer within {self.run_timeout:g}s; run cut off")
        if "error" in box:
            raise box["error"]
        return box["result"]

    def run_once(self, collector: Collector) -> dict[str, Any]:
        """Run ``collector`` once now, ignoring its backoff (``opinion-desk sources run``), without scheduling it."""
        name = collector.spec.name
        self.collectors[name] = collector
        self._run_locks.setdefault(name, threading.Lock())
        return self.run_source(name, force=True)

    def run_source(self, name: str, force: bool = False) -> dict[str, Any]:
        """Run one source once: collect from its cursor, pass the posts through the pipeline, then persist the
        new cursor and its health. A failure is recorded, never raised. Skipped (nothing recorded) while the
        previous run is still alive or the source is backing off, unless ``force``."""
        collector = self.collectors[name]
        lock = self._run_locks[name]
        cadence = collector.spec.cadence
        alert_after = self.alert_after_for(name)
        if not lock.acquire(blocking=False):
            h = self.health(name) or {"name": name}
            h["skipped"] = "上一次运行尚未结束"
            return h
        handed_over = False
        try:
            with self.statedb.session_scope() as s:
                row = s.get(SourceState, name)
                cursor = dict(row.cursor or {}) if row else {}
                prev_failures = (row.failures_in_row or 0) if row else 0
                prev_kind = row.last_error_kind if row else None
                last_err_at = _aware(row.last_error_at) if row else None
            started = self.clock()
            if not force and prev_failures and last_err_at is not None:
                wait = backoff_delay(prev_failures, cadence, self.backoff_max)
                if started < last_err_at + timedelta(seconds=wait * 0.95):
                    h = self.health(name) or {"name": name}
                    h["skipped"] = "退避等待中"
                    return h
            t0 = time.monotonic()
            error: str | None = None
            kind: str | None = None
            n = 0
            notes: list[str] = []
            try:
                result = self._collect(collector, cursor, lock)
                n = len(result.posts)
                notes = list(getattr(result, "notes", []) or [])[:20]
                if result.posts:
                    self.pipeline.process(result.posts)
                cursor = result.cursor
            except SourceAuthError as e:
                error, kind = str(e), "auth"
            except CollectorError as e:
                error, kind = str(e), "error"
            except _CutOff as e:
                handed_over = True  # the cut-off worker thread releases the lock when it ends
                error, kind = str(e), "timeout"
            except Exception as e:  # a bug in one collector must not stop the rest
                log.exception("source %s crashed", name)
                error, kind = f"source '{name}': {type(e).__name__}: {e}", "error"
            seconds = round(time.monotonic() - t0, 3)
            with self.statedb.session_scope() as s:
                row = s.get(SourceState, name)
                if row is None:
                    row = SourceState(name=name, cursor={}, failures_in_row=0, last_items=0, total_items=0,
                                      recent=[], last_notes=[])
                    s.add(row)
                row.last_run = started
                row.last_duration = seconds
                row.recent = [*(row.recent or []), {"at": started.isoformat(), "items": n if error is None else 0,
                                                   "error": error, "seconds": seconds}][-RECENT_KEEP:]
                if error is None:
                    row.cursor = cursor
                    row.last_success = started
                    row.last_items = n
                    row.total_items = (row.total_items or 0) + n
                    row.failures_in_row = 0
                    row.last_error_kind = None
                    row.last_notes = notes
                else:
                    log.warning("%s", error)
                    row.last_error = error
                    row.last_error_kind = kind
                    row.last_error_at = started
                    row.failures_in_row = (row.failures_in_row or 0) + 1
                    row.last_items = 0
                health = source_health(row, alert_after, cadence, self.backoff_max)
        finally:
            if not handed_over:
                lock.release()
        health["type"] = collector.spec.type
        if error is not None:
            if kind == "auth" and prev_kind != "auth":
                health.update(alert=True, alert_kind="auth")
            elif health["failures_in_row"] == alert_after:
                health.update(alert=True, alert_kind="failing")
        elif prev_failures >= alert_after or prev_kind == "auth":
            health["recovered"] = True
        self._announce(name, health)
        return health

    def _announce(self, name: str, health: dict[str, Any]) -> None:
        try:
            broadcast.source(health)
        except Exception:
            log.exception("broadcasting the health of %s failed", name)
        for listener in list(self.source_listeners):
            try:
                listener(name, health)
            except Exception:
                log.exception("source listener failed")

    # -- other jobs ------------------------------------------------------------------------------
    def add_interval_job(self, job_id: str, func: Callable[[], Any], seconds: float) -> None:
        """A periodic job whose failure is logged and retried at its next time."""

        def guarded() -> None:
            try:
                func()
            except Exception:
                log.exception("job %s failed", job_id)

        if seconds <= POLL_SECONDS:
            _OVERRUNS.quiet.add(job_id)
        self.aps.add_job(guarded, "interval", seconds=seconds, id=job_id, name=job_id, replace_existing=True)

    def add_singleton_job(self, job_id: str, func: Callable[[], Any], seconds: float) -> None:
        """A periodic job that runs only in the process holding the lease ``job_id`` (every process, without
        leases); failures are logged and retried at its next time."""
        if self.leases is None:
            self.add_interval_job(job_id, func, seconds)
            return
        self.singletons.add(job_id)

        def if_held() -> None:
            if self.holds(job_id):
                func()

        self.add_interval_job(job_id, if_held, seconds)

    # -- leases ------------------------------------------------------------------------------------
    def holds(self, lease: str) -> bool:
        """Whether this process may run the singleton ``lease`` now: held (renewed in time), or taken now
        because it was free or expired. Always True without leases."""
        if self.leases is None or self.leases.holds(lease):
            return True
        try:
            return self.leases.acquire(lease)
        except Exception:  # the state database is away: not ours until it answers
            log.exception("taking the lease %s failed", lease)
            return False

    def renew_leases(self) -> set[str]:
        """Renew the leases held and try to take the singletons' others; returns the names held."""
        if self.leases is None:
            return set()
        try:
            held = self.leases.renew()
            for name in sorted(self.singletons - held):
                if self.leases.acquire(name):
                    log.info("took over %s (holder %s)", name, self.leases.holder)
            return self.leases.held()
        except Exception:  # the leases lapse by themselves (holds() turns False after the TTL)
            log.exception("renewing leases failed")
            return self.leases.held()

    def run_at(self, job_id: str, func: Callable[[], Any], when: datetime) -> None:
        """A one-shot job at ``when`` (replacing an earlier one of the same id); failures are logged."""

        def guarded() -> None:
            try:
                func()
            except Exception:
                log.exception("job %s failed", job_id)

        self.aps.add_job(guarded, "date", run_date=when, id=job_id, replace_existing=True,
                         misfire_grace_time=None)

    def start(self) -> None:
        if not self.aps.running:
            self.aps.start()

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self.leases is not None:
            try:
                self.leases.release()  # the other workers take the singletons at their next renewal
            except Exception:
                log.exception("releasing leases failed")
        for c in self.collectors.values():
            try:
                c.close()
            except Exception:
                log.exception("closing %s", c.name)
