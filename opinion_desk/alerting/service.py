"""The alerting settings: channels from ``[alerting]`` (and ``channels_file``) and the grouping wait. The desk
(:mod:`opinion_desk.root`) builds the outbox and the dispatcher from them."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from .channels import build_channels

log = logging.getLogger(__name__)


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


def build_channels_from(cfg: Any) -> dict[str, Any]:
    """The configured channels by name, with the audit digest's mail channel when ``[audit] digest_recipients``
    names leaders; each rejected definition is logged with its name and reason and left out."""
    settings = cfg["alerting"]
    defs, problems = channel_definitions(settings)
    recipients = cfg["audit"]["digest_recipients"]
    if recipients:  # the daily signed audit digest goes to named leaders (incidents/audit_digest.py)
        from ..incidents.audit_digest import CHANNEL

        defs = {**defs, CHANNEL: {"type": "email", "to": list(recipients)}}
    channels, more = build_channels(defs, settings)
    for p in problems + more:
        log.error("alert channel rejected: %s", p)
    return channels
