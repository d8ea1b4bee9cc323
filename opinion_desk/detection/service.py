"""The engine's settings from the config, shared by the live desk (:mod:`opinion_desk.root`) and ``rules test``."""

from __future__ import annotations

from typing import Any


def engine_options(cfg: Any) -> dict[str, Any]:
    """The engine's time settings from ``[rules]``: the live desk and ``rules test`` use the same."""
    from .durations import parse_duration

    return {"lateness": parse_duration(cfg["rules"]["allowed_lateness"]),
            "alert_history": bool(cfg["rules"]["alert_history"])}
