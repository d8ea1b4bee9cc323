"""Time sources for the rule engine: wall time in production, a manual clock for replays and tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told: replays set it to each post's event time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, t: datetime) -> None:
        if t > self.now:
            self.now = t

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
