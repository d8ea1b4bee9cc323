"""Collectors: the registry of source kinds. Adding a kind touches its file, one line here, and its test."""

from __future__ import annotations

from importlib import import_module

from ..errors import CollectorError
from .base import CollectResult, Collector, SourceSpec

# kind -> "module:Class", imported on first use
REGISTRY: dict[str, str] = {
    "replay": "opinion_desk.collectors.replay:ReplayCollector",
}


def collector_class(kind: str) -> type[Collector]:
    try:
        target = REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown source type {kind!r}; known: {', '.join(sorted(REGISTRY))}") from None
    mod, _, cls = target.partition(":")
    return getattr(import_module(mod), cls)


def build_collector(spec: SourceSpec) -> Collector:
    try:
        cls = collector_class(spec.type)
    except KeyError as e:
        raise CollectorError(spec.name, str(e.args[0])) from None
    missing = [o for o in cls.required if o not in spec.options]
    if missing:
        raise CollectorError(spec.name, f"missing option(s) {', '.join(missing)} for type {spec.type!r}")
    return cls(spec)


__all__ = ["CollectResult", "Collector", "SourceSpec", "REGISTRY", "build_collector", "collector_class"]
