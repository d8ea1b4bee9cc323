"""舆情值班台 Opinion Desk.

:func:`create_app` builds the Flask app: config, extensions, resources, blueprints. Nothing runs at import,
and nothing runs in the background until :func:`start_background` (``opinion-desk run`` calls it).
"""

from __future__ import annotations

import logging
import secrets
import sys
from importlib import import_module
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
# a checkout (or editable install) has static/ beside the package; a wheel install has it under <prefix>/share
STATIC_DIR = ROOT / "static" if (ROOT / "static").is_dir() else Path(sys.prefix) / "share" / "opinion-desk" / "static"

log = logging.getLogger(__name__)

# Each area's service module: ``init_app(app)`` binds it in create_app (hooks, tables, outbox), ``start(app)``
# adds its background jobs in start_background. One line per area, in pipeline order.
SERVICES = [
    "opinion_desk.collectors.service",
    "opinion_desk.detection.service",
    "opinion_desk.alerting.service",
    "opinion_desk.incidents.service",
    "opinion_desk.briefings.service",  # 舆情简报: daily/weekly briefings, made and mailed on schedule
    "opinion_desk.incidents.audit_service",  # config at start, rule/source file changes, the daily digest
]


def _secret_key(cfg: Any) -> str:
    if cfg["desk"]["secret_key"]:
        return cfg["desk"]["secret_key"]
    path = cfg.data_path("secret_key")
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def default_analyzer_factory(cfg: Any) -> Callable[[], Any]:
    """A factory of the desk's analyzer, with the office's own dictionary and its learned state."""

    def make() -> Any:
        import analyzers

        # the learned IDF table and topic clusters persist in data_dir, so topic ids survive a restart
        return analyzers.Analyzer(user_dict=cfg["analysis"]["user_dict"] or None,
                                  state_path=str(cfg.data_path("analyzer_state.json.gz"))).load()

    return make


def create_app(test_config: dict[str, dict[str, Any]] | None = None, *, config: Any = None,
               analyzer_factory: Callable[[], Any] | None = None) -> Flask:
    """Build the app.

    ``test_config`` ({section: {key: value}}) replaces the config file and environment; ``config`` is an already
    loaded :class:`~opinion_desk.config.Config` (the CLI passes the one it resolved); otherwise the config file
    and environment are read.
    """
    from . import broadcast, livefeed, state, store, web
    from .config import load_config
    from .extensions import socketio
    from .pipeline import Pipeline
    from .scheduler import DeskScheduler

    if config is not None:
        cfg = config
    elif test_config is None:
        cfg = load_config()
    else:
        cfg = load_config(path=None, env={}, overrides=test_config)
    cfg.data_path().mkdir(parents=True, exist_ok=True)

    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static",
                template_folder="web/templates")
    app.config.update(
        DESK=cfg,
        SECRET_KEY=_secret_key(cfg),
        JSON_AS_ASCII=False,
        TESTING=test_config is not None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=cfg["ingest"]["max_body_bytes"],  # refused with 413 before any parsing
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    socketio.init_app(app, **livefeed.socketio_options(cfg))  # origin check, sequenced replay, message queue
    statedb = state.init_app(app)

    def segment(text: str) -> list[str]:  # queries are segmented like the posts: by the app's own analyzer
        return app.extensions["opinion_desk.pipeline"].analyzer.segmenter.segment(text)

    post_store = store.init_app(app, store.open_store(cfg, segment=segment))
    from .collectors.validate import PostChecks

    pipeline = Pipeline(post_store, analyzer_factory or default_analyzer_factory(cfg),
                        cfg.data_path(cfg["store"]["spool_dir"]), on_stored=[broadcast.posts],
                        checks=PostChecks.from_config(cfg))
    app.extensions["opinion_desk.pipeline"] = pipeline
    app.extensions["opinion_desk.scheduler"] = DeskScheduler(pipeline, statedb)
    for name in SERVICES:
        import_module(name).init_app(app)
    web.init_app(app)
    return app


def start_background(app: Flask) -> None:
    """Start the scheduler: spool drain, retention, analyzer state, and every area's jobs (collectors, rules,
    deadlines)."""
    from datetime import timedelta

    from .models import utcnow

    cfg = app.config["DESK"]
    sched = app.extensions["opinion_desk.scheduler"]
    pipeline = app.extensions["opinion_desk.pipeline"]
    store = app.extensions["opinion_desk.store"]
    keep = timedelta(days=cfg["store"]["retention_days"])
    pipeline.recover(everything=True)  # posts a killed desk had accepted (202) but not yet stored
    sched.add_interval_job("spool-drain", pipeline.drain_spool, 15)
    if keep.days > 0:  # retention_days = 0 keeps every post, as evidence_days = 0 keeps every payload
        sched.add_interval_job("retention", lambda: store.drop_before(utcnow() - keep), 6 * 3600)
    sched.add_interval_job("analyzer-state", pipeline.save_analyzer_state, 300)
    for name in SERVICES:
        import_module(name).start(app)
    sched.start()


def stop_background(app: Flask) -> None:
    app.extensions["opinion_desk.scheduler"].shutdown()
    pipeline = app.extensions["opinion_desk.pipeline"]
    pipeline.stop()
    pipeline.save_analyzer_state()
    outbox = app.extensions.get("opinion_desk.outbox")
    if outbox is not None:  # after the pipeline: its last alerts are queued; deliveries under way may finish
        outbox.stop()
