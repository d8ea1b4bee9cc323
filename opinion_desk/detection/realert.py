"""``exponential_realert`` (ElastAlert): while a rule keeps firing for a key, the time before it may notify again
doubles with each notice, up to ``exponential_realert``; after a quiet spell (no notice within twice the current
interval) it is back to ``realert``. The interval in force is kept in the alert's details (``realert_seconds``),
so it survives a restart with the alert."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .rule import RuleSpec

FIELD = "realert_seconds"


def interval(spec: RuleSpec, details: dict[str, Any] | None) -> timedelta:
    """The realert in force for an alert with these details."""
    if spec.exponential_realert and details and details.get(FIELD):
        try:
            return timedelta(seconds=float(details[FIELD]))
        except (TypeError, ValueError):
            pass
    return spec.realert


def next_interval(spec: RuleSpec, previous_notice: datetime | None, previous_details: dict[str, Any] | None,
                  now: datetime) -> timedelta:
    """The realert of a notice sent at ``now``, after the key's previous notice (None: there was none)."""
    if not spec.exponential_realert:
        return spec.realert
    cur = interval(spec, previous_details)
    if previous_notice is not None and now - previous_notice < 2 * cur:
        return min(cur * 2, spec.exponential_realert)
    return spec.realert


def details(spec: RuleSpec, previous_notice: datetime | None, previous_details: dict[str, Any] | None,
            now: datetime) -> dict[str, Any]:
    """What a new alert's details carry for exponential realert (nothing when the rule has none)."""
    if not spec.exponential_realert:
        return {}
    return {FIELD: next_interval(spec, previous_notice, previous_details, now).total_seconds()}
