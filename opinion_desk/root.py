"""The composition root: :class:`Desk` builds every part of the desk from the config, once, with its
collaborators, and declares here who hears what. A post's whole path, and an alert's, read top to bottom in
:meth:`Desk.__init__`::

    collectors / ingest API / import -> pipeline (checks, inbox, analysis, store)
        post stored  -> evidence archive, rule engine, live feed
    rule engine -> alert book (state database)
        alert raised -> dispatcher (grouping -> outbox -> channels), incidents (link to an open incident)
        alert resolved -> dispatcher
    scheduler: source health -> source alert (信息源异常) through the engine

The Flask app is an adapter over a desk (:func:`opinion_desk.create_app`); the CLI commands build a desk, or only
the parts they need (listing sources reads the source files and the state database; it builds no web app).
:meth:`Desk.start` adds the background jobs of the process's role and starts the scheduler; :meth:`Desk.stop`
stops them in order.

Roles (``opinion-desk run --role``):

- ``all``: one process does everything (one office on one machine; the default).
- ``web``: pages, the API and Socket.IO. Pushed posts go to the state database's ingest queue, which the workers
  drain; nothing runs in the background but the session-free jobs a page needs.
- ``worker``: collectors, the pipeline, rules, the outbox, deadlines, briefings and the audit digest. Each
  singleton job (a source, the rules, the deadline clock, ...) runs in the one worker that holds its lease in the
  state database; another takes over within a lease time when it dies. Workers analyse and store in parallel; the
  lease holder of ``rules`` feeds the engine from the rule feed, every post once and in order.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from . import broadcast, timefmt
from .config import Config

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker"]
ANALYSIS_LEASE = "analysis"  # the worker that analyses every post (topics and events are clustered in one place)
ROLES: tuple[str, ...] = ("all", "web", "worker")


def default_analyzer_factory(cfg: Config) -> Callable[[], Any]:
    """A factory of the desk's analyzer, with the office's own dictionary and its learned state."""

    def make() -> Any:
        import analyzers

        # the learned IDF table and topic clusters persist in data_dir, so topic ids survive a restart
        return analyzers.Analyzer(user_dict=cfg["analysis"]["user_dict"] or None,
                                  state_path=str(cfg.data_path("analyzer_state.json.gz"))).load()

    return make


def secret_key(cfg: Config) -> str:
    """``[desk] secret_key``, or one made once and kept in ``data_dir/secret_key`` (0600)."""
    if cfg["desk"]["secret_key"]:
        return cfg["desk"]["secret_key"]
    path = cfg.data_path("secret_key")
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Desk:
    """Every part of one desk process, built from ``cfg`` for ``role``.

    Parts (attributes): ``state`` (state database), ``store`` (posts), ``sources`` (the checked source files),
    ``evidence`` (raw payload archive, or None), ``pipeline``, ``scheduler``, ``engine`` (rules and the alert book),
    ``outbox`` and ``dispatcher`` (alert delivery), ``incidents``, ``briefings``. ``live_feed``: stored posts go
    to the dashboards' live feed.
    """

    def __init__(self, cfg: Config, *, role: Role = "all", analyzer_factory: Callable[[], Any] | None = None,
                 live_feed: bool = True) -> None:
        from .alerting.dispatch import Dispatcher
        from .alerting.outbox import Outbox
        from .alerting.service import build_channels_from, group_wait
        from .briefings.desk import BriefingDesk
        from .briefings.service import check as check_briefings
        from .collectors.evidence import EvidenceArchive
        from .collectors.http import LIMITER
        from .collectors.service import load as load_sources
        from .collectors.validate import PostChecks
        from .detection import source_alerts
        from .detection.engine import Engine
        from .detection.service import engine_options
        from .incidents.desk import IncidentDesk
        from .pipeline import Pipeline
        from .scheduler import DeskScheduler
        from .ingest_worker import QueueIntake
        from .state import StateDB
        from .state.ingest_queue import IngestQueue
        from .state.leases import Leases
        from .state.rule_feed import RuleFeed
        from .store import open_store

        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {ROLES}")
        self.cfg = cfg
        self.role: Role = role
        cfg.data_path().mkdir(parents=True, exist_ok=True)
        check_briefings(cfg)
        self.secret_key = secret_key(cfg)
        c, a = cfg["collectors"], cfg["alerting"]

        # -- resources ---------------------------------------------------------------------------------
        self.state = StateDB(cfg.state_url())
        self.state.upgrade()  # the Alembic revisions up to head (a pre-migration database is checked and stamped)
        self.store = open_store(cfg, segment=self._segment)
        self.sources = load_sources(cfg)
        for p in self.sources.problems:
            log.error("sources: %s", p)
        LIMITER.interval = float(c["host_interval"])  # the one per-host politeness limiter of every collector
        self.evidence = EvidenceArchive(cfg.data_path(c["evidence_dir"])) if c["evidence"] else None

        # -- the parts, each with its collaborators --------------------------------------------------------
        # several processes share the work through the state database: singleton jobs under leases, posts pushed
        # to a web process through the ingest queue, and every stored post through the rule feed to the one engine
        # that holds the rules lease
        self.leases = Leases(self.state) if role == "worker" else None
        self.queue = IngestQueue(self.state) if role != "all" else None
        self.feed = RuleFeed(self.state) if role == "worker" else None
        self.pipeline = Pipeline(self.store, analyzer_factory or default_analyzer_factory(cfg),
                                 cfg.data_path(cfg["store"]["spool_dir"]), checks=PostChecks.from_config(cfg))
        # where the ingest API puts accepted posts: this process's pipeline, or (web) the queue the workers drain
        self.intake: Any = QueueIntake(self.queue) if role == "web" and self.queue is not None else self.pipeline
        # a worker's collectors queue their posts too: one worker (the analysis lease holder) clusters every post
        collected = QueueIntake(self.queue) if role == "worker" and self.queue is not None else self.pipeline
        self.scheduler = DeskScheduler(collected, self.state, alert_after=int(c["alert_after"]),  # type: ignore[arg-type]
                                       backoff_max=float(c["backoff_max"]), run_timeout=float(c["run_timeout"]),
                                       leases=self.leases)
        self.engine = Engine(Path(cfg["rules"]["dir"]), statedb=self.state, store=self.store, record_alerts=True,
                             tz=timefmt.zone(cfg), **engine_options(cfg))
        channels = build_channels_from(cfg)
        self.outbox = Outbox(self.state, channels, a["max_attempts"], float(a["retry_base_seconds"]))
        self.dispatcher = Dispatcher(self.outbox, self.store, a["desk_url"], cfg["desk"]["timezone"],
                                     group_wait=group_wait(a))
        self.incidents = IncidentDesk(cfg, self.state, self.store, outbox=self.outbox, engine=self.engine,
                                      secret=self.secret_key)
        self.briefings = BriefingDesk(cfg, self.store, self.state, self.outbox)

        # -- who hears what ------------------------------------------------------------------------------
        # post stored -> evidence, rules (here, or through the rule feed to the rules lease holder), live feed
        if self.evidence is not None:
            self.pipeline.add_hook(self.evidence.hook)
        if self.feed is not None:
            self.pipeline.add_hook(self.feed_posts)
        else:
            self.pipeline.add_hook(self.engine.on_posts)
        if live_feed:  # off where no browser can hear this process (an import without a message queue)
            self.pipeline.add_hook(broadcast.posts)
        # alert raised -> dispatch, incidents; alert grown quietly -> the desk's pages; alert resolved -> dispatch
        self.engine.alert_listeners.append(self.dispatcher.on_alert)
        self.engine.update_listeners.append(self.dispatcher.on_updated)
        self.engine.alert_listeners.append(_logged(self.incidents.link_alert, "incident alert listener"))
        self.engine.resolve_listeners.append(self.dispatcher.on_resolved)
        # source health -> source alert (信息源异常)
        source_alerts.attach(self.engine, self.scheduler, c["alert_channels"])

        loaded, errors = self.engine.reload()  # each rejected file is logged by the engine, with file, line and field
        log.info("rules loaded: %d (%d rejected) from %s", len(self.engine.by_path), len(errors), cfg["rules"]["dir"])
        self._started = False

    def feed_posts(self, posts: list[Any]) -> None:
        """Stored posts into the rule feed (a worker): the rules lease holder's engine reads them from there."""
        assert self.feed is not None
        self.feed.append([p.to_dict() for p in posts])

    def _segment(self, text: str) -> list[str]:
        """Queries are segmented like the posts: by the pipeline's own analyzer (loaded on first use)."""
        return self.pipeline.analyzer.segmenter.segment(text)

    # -- background work -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Add the background jobs of this process's role and start the scheduler."""
        from . import jobs

        jobs.add_all(self)
        self.scheduler.start()
        self._started = True

    def stop(self) -> None:
        """Stop the scheduler, then the pipeline (its queue is drained to the store), then the outbox."""
        # one writer of the analyzer's state, the process that analyses (never a web process: its analyzer only
        # explains posts and segments queries); asked before the scheduler lets the lease go
        analyses = self.role == "all" or (self.leases is not None and self.leases.holds(ANALYSIS_LEASE))
        self.scheduler.shutdown()
        self.pipeline.stop()
        if analyses:
            self.pipeline.save_analyzer_state()
        self.outbox.stop()  # after the pipeline: its last alerts are queued; deliveries under way may finish

    def close(self) -> None:
        self.store.close()
        self.state.dispose()


def _logged(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    """``fn`` with its exceptions logged instead of raised (one listener never stops the others)."""

    def call(*a: Any) -> Any:
        try:
            return fn(*a)
        except Exception:
            log.exception("%s failed", what)
            return None

    return call


def current_desk() -> Desk:
    """The desk of the app handling this request."""
    from flask import current_app

    return current_app.desk  # type: ignore[attr-defined]
