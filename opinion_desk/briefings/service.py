"""The briefings part of the app: one :class:`~opinion_desk.briefings.desk.BriefingDesk` on the app's store,
state database and alerting outbox, and the schedule job that makes (and mails) each briefing when it falls due
(``[briefings] daily_at``, ``weekly_on``); a desk that was down at that time makes it when it comes back."""

from __future__ import annotations

from flask import Flask, current_app

from .desk import BriefingDesk
from .period import parse_clock

EXTENSION_KEY = "opinion_desk.briefings"
TICK_SECONDS = 300.0


def get_briefings(app: Flask | None = None) -> BriefingDesk:
    return (app or current_app).extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    cfg = app.config["DESK"]
    if cfg["briefings"]["daily_at"]:
        parse_clock(cfg["briefings"]["daily_at"])  # a bad time is refused at start, naming the key
    app.extensions[EXTENSION_KEY] = BriefingDesk(cfg, app.extensions["opinion_desk.store"],
                                                 app.extensions["opinion_desk.state"],
                                                 app.extensions.get("opinion_desk.outbox"))


def start(app: Flask) -> None:
    desk = get_briefings(app)
    if desk.settings["daily_at"]:
        app.extensions["opinion_desk.scheduler"].add_interval_job("briefings", desk.tick, TICK_SECONDS)
