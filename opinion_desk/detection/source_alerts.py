"""Source health as alerts: a source failing ``alert_after`` runs in a row, or whose login expired, raises the
built-in alert 信息源异常 (key: the source's name) through the same alert book as the rules — so it is recorded,
silenced, shown on the dashboard and sent to channels like any rule's alert — and the first success after it
resolves it.

The scheduler reports each run to its ``source_listeners`` with the source's health (``alert`` is true once per
episode, ``alert_kind`` is ``"failing"`` or ``"auth"``; ``recovered`` on the first success after an alert).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..collectors.reasons import failure_reason
from .engine import Engine
from .rule import Match, RuleSpec

RULE_NAME = "信息源异常"


def source_rule(channels: list[str]) -> RuleSpec:
    return RuleSpec(name=RULE_NAME, type="source_health", file="(built in: opinion_desk/detection/source_alerts.py)",
                    timeframe=timedelta(0), severity="high", channels=["dashboard", *channels],
                    query_key="source", realert=timedelta(hours=6),
                    description="信息源连续采集失败或登录失效：在它恢复之前，这一来源的舆情看不到",
                    duty={"check": "打开「信息源」页查看失败原因；登录失效的请更新 Cookie，网站改版的请调整选择器",
                          "owner": "系统管理员"})


def on_source_health(engine: Engine, spec: RuleSpec, name: str, health: dict[str, Any]) -> None:
    """The scheduler's source listener: raise or resolve the source's alert."""
    now = engine.clock()
    if health.get("alert"):
        kind = health.get("alert_kind")
        reason = failure_reason(health.get("last_error"), health.get("last_error_kind") or kind)
        what = "登录已失效" if kind == "auth" else f"连续 {health.get('failures_in_row')} 次采集失败"
        engine.book.handle(Match(rule=RULE_NAME, key=name, time=now, reason=f"信息源「{name}」{what}：{reason}",
                                 details={"alert_kind": kind, "last_error": health.get("last_error")}), spec)
    elif health.get("recovered"):
        engine.book.handle(Match(rule=RULE_NAME, key=name, time=now, kind="resolved",
                                 reason=f"信息源「{name}」已恢复采集"), spec)


def attach(engine: Engine, scheduler: Any, channels: list[str]) -> None:
    spec = source_rule(channels)
    scheduler.source_listeners.append(lambda name, health: on_source_health(engine, spec, name, health))
