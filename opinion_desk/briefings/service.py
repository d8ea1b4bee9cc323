"""The briefings' schedule check: a bad ``[briefings] daily_at`` / ``weekly_on`` is refused at start. The desk
(:mod:`opinion_desk.root`) builds one :class:`~opinion_desk.briefings.desk.BriefingDesk`, whose ``tick`` job makes
(and mails) each briefing when it falls due; a desk that was down at that time makes it when it comes back."""

from __future__ import annotations

from typing import Any

from ..errors import BriefingError, ConfigError
from .period import WEEKDAYS, parse_clock


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
