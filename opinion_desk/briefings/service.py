"""The briefings part of the app: one :class:`~opinion_desk.briefings.desk.BriefingDesk` on the app's store,
state database and alerting outbox, and the schedule job that makes (and mails) each briefing when it falls due
(``[briefings] daily_at``, ``weekly_on``); a desk that was down at that time makes it when it comes back."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from ..errors import BriefingError, ConfigError
from .desk import BriefingDesk
from .period import WEEKDAYS, parse_clock

EXTENSION_KEY = "opinion_desk.briefings"
TICK_SECONDS = 300.0


def get_briefings(app: Flask | None = None) -> BriefingDesk:
    return (app or current_app).extensions[EXTENSION_KEY]


def check(cfg: Any) -> None:
    """A bad schedule is refused at start, naming the key."""
    b = cfg["briefings"]
    if b["daily_at"]:
        try:
            parse_clock(b["daily_at"])
        except BriefingError as e:
            raise ConfigError([f"[briefings] daily_at: {e.reason}"], cfg.file) from None
    if b["weekly_on"] not in ("", *WEEKDAYS):
        raise ConfigError([f"[briefings] weekly_on: 应为 {'、'.join(WEEKDAYS)} 之一或留空，收到 {b['weekly_on']!r}"], cfg.file)


def init_app(app: Flask) -> None:
    cfg = app.config["DESK"]
    check(cfg)
    app.extensions[EXTENSION_KEY] = BriefingDesk(cfg, app.extensions["opinion_desk.store"],
                                                 app.extensions["opinion_desk.state"],
                                                 app.extensions.get("opinion_desk.outbox"))


def start(app: Flask) -> None:
    desk = get_briefings(app)
    if desk.settings["daily_at"]:
        app.extensions["opinion_desk.scheduler"].add_interval_job("briefings", desk.tick, TICK_SECONDS)
