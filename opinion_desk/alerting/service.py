"""The alerting part of the app: channels from ``[alerting]`` (and ``channels_file``), the outbox, and the
dispatcher subscribed to the rule engine's alert and resolve listeners."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app

from .channels import build_channels
from .dispatch import Dispatcher
from .outbox import Outbox

log = logging.getLogger(__name__)
EXTENSION_KEY = "opinion_desk.outbox"


def channel_definitions(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Channel definitions from ``[alerting] channels`` and the ``channels_file`` YAML (``channels: {...}``)."""
    defs: dict[str, Any] = dict(settings.get("channels") or {})
    problems: list[str] = []
    f = settings.get("channels_file")
    if f:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}
            defs.update((data.get("channels") if isinstance(data, dict) else None) or {})
        except (OSError, yaml.YAMLError) as e:
            problems.append(f"{f}: {e}")
    return defs, problems


def group_wait(settings: dict[str, Any]) -> timedelta:
    """``[alerting] group_wait`` ("30s"; "0s" or "0" sends every alert at once)."""
    from ..detection.durations import parse_duration

    v = str(settings.get("group_wait", "30s")).strip()
    return timedelta(0) if v in ("0", "0s", "") else parse_duration(v)


def get_outbox(app: Flask | None = None) -> Outbox:
    return (app or current_app).extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    settings = app.config["DESK"]["alerting"]
    defs, problems = channel_definitions(settings)
    recipients = app.config["DESK"]["audit"]["digest_recipients"]
    if recipients:  # the daily signed audit digest goes to named leaders (incidents/audit_digest.py)
        from ..incidents.audit_digest import CHANNEL

        defs = {**defs, CHANNEL: {"type": "email", "to": list(recipients)}}
    channels, more = build_channels(defs, settings)
    for p in problems + more:
        log.error("alert channel rejected: %s", p)
    outbox = Outbox(app.extensions["opinion_desk.state"], channels, settings["max_attempts"],
                    float(settings["retry_base_seconds"]))
    app.extensions[EXTENSION_KEY] = outbox
    dispatcher = Dispatcher(outbox, app.extensions.get("opinion_desk.store"), settings["desk_url"],
                            app.config["DESK"]["desk"]["timezone"], group_wait=group_wait(settings))
    app.extensions["opinion_desk.dispatcher"] = dispatcher
    engine = app.extensions.get("opinion_desk.engine")
    if engine is not None:
        engine.alert_listeners.append(dispatcher.on_alert)
        engine.resolve_listeners.append(dispatcher.on_resolved)


def start(app: Flask) -> None:
    outbox = get_outbox(app)
    app.extensions["opinion_desk.scheduler"].add_interval_job(
        "alert-outbox", outbox.deliver_due, float(app.config["DESK"]["alerting"]["outbox_seconds"]))
    outbox.kick()  # deliveries left pending before a restart
