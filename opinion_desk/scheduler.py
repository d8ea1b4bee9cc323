"""APScheduler jobs: collectors, the spool drain, window rules, deadlines.

This is the one place that decides what a failing job does: it is logged, the source is marked unhealthy
(last error, failures in a row), and the job runs again at its next time, so one failure never stops the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from . import broadcast
from .collectors import Collector
from .errors import CollectorError
from .pipeline import Pipeline
from .state import StateDB
from .state.core import SourceState

log = logging.getLogger(__name__)

SourceListener = Callable[[str, dict[str, Any]], None]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def source_health(row: SourceState) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        if t is None:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return t.isoformat()

    return {
        "name": row.name,
        "last_run": iso(row.last_run),
        "last_success": iso(row.last_success),
        "last_error": row.last_error,
        "last_error_at": iso(row.last_error_at),
        "last_items": row.last_items,
        "total_items": row.total_items,
        "failures_in_row": row.failures_in_row,
        "healthy": row.failures_in_row == 0,
    }


class DeskScheduler:
    """Owns the APScheduler instance and the per-source jobs."""

    def __init__(self, pipeline: Pipeline, statedb: StateDB) -> None:
        self.pipeline = pipeline
        self.statedb = statedb
        self.aps = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                     "misfire_grace_time": 60})
        self.collectors: dict[str, Collector] = {}
        self.source_listeners: list[SourceListener] = []
        self._run_locks: dict[str, threading.Lock] = {}

    # -- collectors ------------------------------------------------------------------------------
    def add_collector(self, collector: Collector, start_now: bool = True) -> None:
        spec = collector.spec
        self.collectors[spec.name] = collector
        self._run_locks[spec.name] = threading.Lock()
        jitter = int(spec.jitter) if spec.jitter else None
        self.aps.add_job(self.run_source, "interval", args=[spec.name], seconds=spec.cadence, jitter=jitter,
                         id=f"source:{spec.name}", replace_existing=True,
                         next_run_time=_now() if start_now else None)

    def run_source(self, name: str) -> dict[str, Any]:
        """Run one source once: collect from its cursor, pass the posts through the pipeline, then persist the
        new cursor and its health. A failure is recorded, never raised."""
        collector = self.collectors[name]
        with self._run_locks[name]:
            with self.statedb.session_scope() as s:
                row = s.get(SourceState, name) or SourceState(name=name, cursor={}, failures_in_row=0,
                                                               last_items=0, total_items=0)
                cursor = dict(row.cursor or {})
            started = _now()
            error: str | None = None
            n = 0
            try:
                result = collector.collect(cursor)
                n = len(result.posts)
                if result.posts:
                    self.pipeline.process(result.posts)
                cursor = result.cursor
            except CollectorError as e:
                error = str(e)
            except Exception as e:  # a bug in one collector must not stop the rest
                log.exception("source %s crashed", name)
                error = f"source '{name}': {type(e).__name__}: {e}"
            with self.statedb.session_scope() as s:
                row = s.get(SourceState, name)
                if row is None:
                    row = SourceState(name=name, cursor={}, failures_in_row=0, last_items=0, total_items=0)
                    s.add(row)
                row.last_run = started
                if error is None:
                    row.cursor = cursor
                    row.last_success = started
                    row.last_items = n
                    row.total_items = (row.total_items or 0) + n
                    row.failures_in_row = 0
                else:
                    log.warning("%s", error)
                    row.last_error = error
                    row.last_error_at = started
                    row.failures_in_row = (row.failures_in_row or 0) + 1
                    row.last_items = 0
                health = source_health(row)
        broadcast.source(health)
        for listener in list(self.source_listeners):
            try:
                listener(name, health)
            except Exception:
                log.exception("source listener failed")
        return health

    # -- other jobs ------------------------------------------------------------------------------
    def add_interval_job(self, job_id: str, func: Callable[[], Any], seconds: float) -> None:
        """A periodic job whose failure is logged and retried at its next time."""

        def guarded() -> None:
            try:
                func()
            except Exception:
                log.exception("job %s failed", job_id)

        self.aps.add_job(guarded, "interval", seconds=seconds, id=job_id, replace_existing=True)

    def start(self) -> None:
        if not self.aps.running:
            self.aps.start()

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
        for c in self.collectors.values():
            try:
                c.close()
            except Exception:
                log.exception("closing %s", c.name)

