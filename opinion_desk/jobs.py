"""The background jobs of a desk process, by role (:meth:`opinion_desk.root.Desk.start` calls :func:`add_all`).

Each area's jobs are one function here, reading top to bottom what runs and how often:

- pipeline: replay of the inbox a killed desk left, the spool drain, retention, the analyzer's learned state;
- collectors: the demo feed, one job per enabled source, evidence retention;
- rules: window rules on a short tick (rule files are re-read there when they change);
- alerting: the outbox;
- incidents: deadlines and escalation, verification of published answers, 持续发布 reminders, answer re-checks;
- briefings: made (and mailed) when due;
- audit: the configuration at start, rule and source file changes, the daily digest.

A ``web`` process runs none of them; ``worker`` and ``all`` run all. Jobs that must run in one process at a time
(a source, the rules, the deadline clock, briefings, retention, the audit digest) are added as singletons: in a
worker they run only while it holds the job's lease (:class:`~opinion_desk.state.leases.Leases`); in ``all``
there are no leases and they simply run. The ``analysis`` lease holder drains the ingest queue (one analyzer
clusters every post) and the ``rules`` lease holder feeds the engine from the rule feed; every worker delivers the
outbox (claims keep each row to one of them).
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .root import Desk

log = logging.getLogger(__name__)

RETENTION_EVERY = 6 * 3600.0  # seconds between two passes of post retention
EVIDENCE_RETENTION_EVERY = 3600.0  # seconds between two evidence retention passes (a pass only lists folders)
ANALYZER_STATE_EVERY = 300.0
SPOOL_DRAIN_EVERY = 15.0
BRIEFINGS_EVERY = 300.0
AUDIT_DIGEST_EVERY = 3600.0
QUEUE_DRAIN_EVERY = 1.0  # a worker looks for posts the web processes queued
RULE_FEED_EVERY = 1.0  # the rules lease holder reads the rule feed
# how long a worker's claim on a batch of queued posts lasts: a killed worker's batch is taken again after this
# (was QueueDrain's 300 s: its posts, and their alerts, came 5 minutes late); a batch of 200 takes seconds, and one
# that outlasts its claim is only done twice, harmlessly (stable post ids)
QUEUE_CLAIM_SECONDS = 60.0
# how far back a start or a rules takeover looks for alerts whose robot/email message was held in the memory of a
# process that died (group_wait): beyond the wait, the lease's time-out and a margin
RECOVER_MARGIN = timedelta(minutes=10)


def add_all(desk: "Desk") -> None:
    if desk.role == "web":
        return
    pipeline_jobs(desk)
    if desk.role == "worker":
        worker_jobs(desk)
    collector_jobs(desk)
    rule_jobs(desk)
    alerting_jobs(desk)
    incident_jobs(desk)
    briefing_jobs(desk)
    audit_jobs(desk)


def pipeline_jobs(desk: "Desk") -> None:
    from .models import utcnow

    sched, pipeline, store = desk.scheduler, desk.pipeline, desk.store
    keep = timedelta(days=desk.cfg["store"]["retention_days"])
    pipeline.recover(everything=True)  # posts a killed desk had accepted (202) but not yet stored
    sched.add_interval_job("spool-drain", pipeline.drain_spool, SPOOL_DRAIN_EVERY)
    if keep.days > 0:  # retention_days = 0 keeps every post, as evidence_days = 0 keeps every payload
        sched.add_singleton_job("retention", lambda: store.drop_before(utcnow() - keep), RETENTION_EVERY)
    if desk.role == "all":  # a worker saves it while it holds the analysis lease (AnalysisHolder)
        sched.add_interval_job("analyzer-state", pipeline.save_analyzer_state, ANALYZER_STATE_EVERY)


def collector_jobs(desk: "Desk") -> None:
    from .collectors import SourceSpec
    from .collectors.service import prune_evidence, schedule

    cfg = desk.cfg
    days = int(cfg["collectors"]["evidence_days"])
    archive = desk.evidence
    if archive is not None and days > 0:
        desk.scheduler.add_interval_job("evidence-retention", lambda: prune_evidence(archive, days),
                                        EVIDENCE_RETENTION_EVERY)
    if cfg["desk"]["demo"]:
        spec = SourceSpec(name="demo", type="replay", cadence=float(cfg["desk"]["demo_interval"]),
                          options={"file": cfg["collectors"]["demo_file"] or None, "batch": 2})
        schedule(desk.scheduler, spec)
    for spec in desk.sources.specs:
        if spec.enabled:
            schedule(desk.scheduler, spec)


def worker_jobs(desk: "Desk") -> None:
    """Several processes: the holder of the analysis lease drains the ingest queue (every pushed and collected
    post: topics and events are clustered by one analyzer); the rules lease holder feeds the engine from the rule
    feed (see :func:`rule_jobs`). The other workers stand by for both and share the collectors and the outbox."""
    from .root import ANALYSIS_LEASE

    desk.scheduler.add_singleton_job(ANALYSIS_LEASE, AnalysisHolder(desk), QUEUE_DRAIN_EVERY)


class AnalysisHolder:
    """The analysis job of a worker, run while it holds the ``analysis`` lease: on taking it (first run, or a new
    fencing epoch) the analyzer is built again from the state the last holder saved; then the ingest queue is
    drained (analyse, store, rule feed) and the analyzer's state saved every few minutes."""

    def __init__(self, desk: "Desk") -> None:
        from .ingest_worker import QueueDrain

        assert desk.queue is not None and desk.leases is not None
        self.pipeline, self.leases = desk.pipeline, desk.leases
        self.drain = QueueDrain(desk.queue, desk.pipeline, desk.feed, desk.leases.holder,
                                lease_seconds=QUEUE_CLAIM_SECONDS)
        self.epoch: int | None = None
        self.saved = 0.0

    def __call__(self) -> None:
        import time

        from .root import ANALYSIS_LEASE

        epoch = self.leases.token(ANALYSIS_LEASE)
        if epoch != self.epoch:
            if self.epoch is not None or self.pipeline.analyzer_loaded():
                log.info("analysis lease taken (epoch %s): the analyzer continues from its saved state", epoch)
                self.pipeline.reload_analyzer()
            self.epoch = epoch
            self.saved = time.monotonic()
        self.drain.drain()
        if time.monotonic() - self.saved >= ANALYZER_STATE_EVERY:
            self.saved = time.monotonic()
            self.pipeline.save_analyzer_state()


def recover_held_alerts(desk: "Desk") -> int:
    """Alerts whose grouped message a stopped process still held (see Dispatcher.recover): sent again."""
    from .models import utcnow

    return desk.dispatcher.recover(utcnow() - desk.dispatcher.group_wait - RECOVER_MARGIN)


def rule_jobs(desk: "Desk") -> None:
    tick = float(desk.cfg["rules"]["tick_seconds"])
    if desk.feed is None:  # one process: the pipeline's hook feeds the engine
        recover_held_alerts(desk)
        desk.scheduler.add_interval_job("rules-tick", desk.engine.tick, tick)
        return
    desk.scheduler.add_singleton_job("rules", RulesHolder(desk, tick), RULE_FEED_EVERY)


class RulesHolder:
    """The rules job of a worker, run while it holds the ``rules`` lease: on taking the lease (first run, or a new
    fencing epoch: another worker held it meanwhile) the engine re-reads what the last holder saved; then it reads
    the rule feed from the committed cursor and evaluates the window rules every ``tick`` seconds."""

    def __init__(self, desk: "Desk", tick: float) -> None:
        from .detection.feed_reader import FeedReader

        assert desk.feed is not None and desk.leases is not None
        self.desk = desk
        self.engine, self.leases = desk.engine, desk.leases
        self.reader = FeedReader(desk.feed, desk.engine)
        self.tick = tick
        self.epoch: int | None = None
        self.ticked = 0.0

    def __call__(self) -> None:
        import time

        epoch = self.leases.token("rules")
        if epoch != self.epoch:
            log.info("rules lease taken (epoch %s): restoring the rule state", epoch)
            self.engine.restore_all()
            recover_held_alerts(self.desk)  # the last holder's held groups died with it
            self.epoch = epoch
        self.reader.catch_up()
        if time.monotonic() - self.ticked >= self.tick:
            self.ticked = time.monotonic()
            self.engine.tick()


def alerting_jobs(desk: "Desk") -> None:
    desk.scheduler.add_interval_job("alert-outbox", desk.outbox.deliver_due,
                                    float(desk.cfg["alerting"]["outbox_seconds"]))
    desk.outbox.kick()  # deliveries left pending before a restart


def incident_jobs(desk: "Desk") -> None:
    from .incidents.service import deadline_job
    from .incidents.publishing import remind, verify_pending
    from .incidents.verification import recheck
    from .web.auth import ensure_demo_admin

    inc, sched = desk.incidents, desk.scheduler
    creds = ensure_demo_admin(desk.cfg, desk.state)
    if creds is not None:
        msg = f"演示账号（demo）：用户名 {creds[0]}  密码 {creds[1]}  （用 `opinion-desk users passwd {creds[0]}` 修改）"
        print(msg, file=sys.stderr, flush=True)
        log.warning("%s", msg)
    every = float(desk.cfg["incidents"]["tick_seconds"])
    sched.add_singleton_job("incident-deadlines", deadline_job(inc, sched), every)
    sched.add_singleton_job("incident-verify", lambda: verify_pending(inc), every)
    sched.add_singleton_job("incident-remind", lambda: remind(inc), every)
    sched.add_singleton_job("incident-recheck", lambda: recheck(inc), every)  # 官方回应失效 when an answer vanishes


def briefing_jobs(desk: "Desk") -> None:
    if desk.briefings.settings["daily_at"]:
        desk.scheduler.add_singleton_job("briefings", desk.briefings.tick, BRIEFINGS_EVERY)


def audit_jobs(desk: "Desk") -> None:
    from .incidents import audit_digest
    from .incidents.audit_service import record_start, watches

    cfg, db, sched = desk.cfg, desk.state, desk.scheduler
    record_start(cfg, db)
    for w in watches(cfg, db):
        if desk.role == "all":
            w.check()
        sched.add_singleton_job(f"audit-{w.kind}", w.check, float(cfg["rules"]["tick_seconds"]))
    kick = desk.outbox.kick
    if desk.role == "all":
        audit_digest.run_if_due(cfg, db, kick)
    sched.add_singleton_job("audit-digest", lambda: audit_digest.run_if_due(cfg, db, kick), AUDIT_DIGEST_EVERY)
