"""Collectors: the registry of source kinds. Adding a kind touches its file, one line here, and its test."""

from __future__ import annotations

from importlib import import_module

from ..errors import CollectorError
from .base import CollectResult, Collector, Option, SourceSpec

# kind -> "module:Class", imported on first use
REGISTRY: dict[str, str] = {
    "replay": "opinion_desk.collectors.replay:ReplayCollector",
    "rss": "opinion_desk.collectors.rss:RSSCollector",
    "weibo": "opinion_desk.collectors.weibo:WeiboCollector",
    "wechat": "opinion_desk.collectors.wechat:WeChatCollector",
    "web": "opinion_desk.collectors.web:WebListCollector",
    "files": "opinion_desk.collectors.files:FileCollector",
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
    problems = cls.check_options(spec.options, spec.credentials)
    if problems:
        raise CollectorError(spec.name, "; ".join(f"field '{f}': {r}" for f, r in problems))
    return cls(spec)


__all__ = ["CollectResult", "Collector", "Option", "SourceSpec", "REGISTRY", "build_collector", "collector_class"]
