"""The detection part of the app: the rule engine on the pipeline (as posts arrive) and on the scheduler
(window rules every ``[rules] tick_seconds``; rule files are re-read there when they change)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from .. import timefmt
from . import source_alerts
from .engine import Engine
from .noise import AlertBook

log = logging.getLogger(__name__)
EXTENSION_KEY = "opinion_desk.engine"


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[EXTENSION_KEY]


def engine_options(cfg: dict) -> dict:
    """The engine's time settings from ``[rules]``: the live desk and ``rules test`` use the same."""
    from .durations import parse_duration

    return {"lateness": parse_duration(cfg["rules"]["allowed_lateness"]),
            "alert_history": bool(cfg["rules"]["alert_history"])}


def init_app(app: Flask) -> None:
    """Load the rules, restore their state and hook the engine onto the pipeline."""
    cfg = app.config["DESK"]
    statedb = app.extensions["opinion_desk.state"]
    engine = Engine(Path(cfg["rules"]["dir"]), statedb=statedb, **engine_options(cfg))
    engine.store = app.extensions.get("opinion_desk.store")
    engine.book = AlertBook(statedb, engine.clock, engine.alert_listeners, engine.resolve_listeners,
                            tz=timefmt.zone(cfg))
    engine.sink = engine.book.handle
    loaded, errors = engine.reload()
    for e in errors:
        log.error("rule file rejected: %s", e)
    log.info("rules loaded: %d (%d rejected) from %s", len(engine.by_path), len(errors), cfg["rules"]["dir"])
    app.extensions[EXTENSION_KEY] = engine
    app.extensions["opinion_desk.pipeline"].add_hook(engine.on_posts)
    source_alerts.attach(engine, app.extensions["opinion_desk.scheduler"], cfg["collectors"]["alert_channels"])


def start(app: Flask) -> None:
    """Evaluate window rules on a short tick."""
    engine = get_engine(app)
    app.extensions["opinion_desk.scheduler"].add_interval_job("rules-tick", engine.tick,
                                                              float(app.config["DESK"]["rules"]["tick_seconds"]))
