"""From a new or resolved alert to outbox rows: the payload every channel renders (the alert, a few of its posts,
the desk's address) and the channels it goes to (the rule's channels; the dashboard always).

One event, one message per channel (Alertmanager's ``group_by``/``group_wait``): alerts of several rules that
share a post (or an event id) within ``group_wait`` of the first are held and sent together as one message per
channel, titled by the most severe of them, with a summary of what matched (``payload["group"]``). The dashboard
hears each alert at once (the desk lists alerts, not messages); an alert without posts (a source failing) is
never held; ``group_wait`` 0 sends every alert at once. Held groups live in memory; a process that dies within
the wait would lose their robot/email messages, so :meth:`Dispatcher.recover` (at start, and when a worker takes
over the rules) holds again every recent open alert that has no outbox row on one of its channels yet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from ..state.alerts import Alert, OutboxRow
from .channels.dashboard import DashboardChannel
from .outbox import Outbox

log = logging.getLogger(__name__)
POST_FIELDS = ("id", "source", "platform", "author", "title", "url", "sentiment_label", "rumour_score")
SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}
GROUP_LINES = 10  # alerts listed in a grouped message; the rest are counted (robots cut a message at 4096 bytes,
# which took the desk link at its end with it when a burst folded hundreds of alerts into one message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Group:
    due: datetime
    keys: set[str] = field(default_factory=set)
    items: list[tuple[Alert, dict[str, Any], list[str]]] = field(default_factory=list)  # alert, payload, channels


class Dispatcher:
    def __init__(self, outbox: Outbox, store: Any = None, desk_url: str = "", tz: str = "",
                 group_wait: timedelta = timedelta(0), clock: Callable[[], datetime] = _now,
                 timers: bool = True) -> None:
        self.outbox = outbox
        self.tz = tz  # the desk's zone ([desk] timezone): messages show times in it
        self.store = store
        self.desk_url = desk_url.rstrip("/")
        self.group_wait = group_wait
        self.clock = clock
        self.timers = timers  # False: only flush_due() calls send held groups (tests on a manual clock)
        self._warned: set[str] = set()
        self._groups: list[_Group] = []
        self._lock = threading.Lock()

    def payload(self, alert: Alert, kind: str) -> dict[str, Any]:
        """The message payload. Sample posts come with the alert (taken by the engine when it counted them: on
        Elasticsearch the alert is built before the index refresh); the store fills in any the alert lacks."""
        posts = []
        carried = {d.get("id"): d for d in (alert.details or {}).get("samples") or [] if isinstance(d, dict)}
        for pid in list(alert.post_ids or [])[:3]:
            if pid in carried:
                posts.append(dict(carried[pid]))
                continue
            if self.store is None:
                continue
            try:
                p = self.store.get(pid)
            except Exception:
                p = None
            if p is not None:
                d = {k: getattr(p, k) for k in POST_FIELDS if k != "id"}
                d.update(id=p.id, text=p.text[:300], created_at=p.created_at.isoformat())
                posts.append(d)
        # a grown alert keeps its first post ids but carries its latest samples: when the store cannot give the
        # first ones yet (Elasticsearch before its refresh), the message shows the carried ones instead of none
        shown = {d.get("id") for d in posts}
        posts += [dict(d) for pid, d in carried.items() if pid not in shown][:max(0, 3 - len(posts))]
        url = f"{self.desk_url}/alerts#{alert.id}" if self.desk_url else ""
        return {"alert": alert.to_dict(), "kind": kind, "posts": posts, "desk_url": url, "tz": self.tz}

    def channels_for(self, alert: Alert) -> list[str]:
        names = ["dashboard"] + [c for c in (alert.channels or []) if c != "dashboard"]
        out = []
        for n in names:
            if n in self.outbox.channels:
                out.append(n)
            elif n not in self._warned:
                self._warned.add(n)
                log.warning("rule %s names channel %r, which is not defined ([alerting] channels)", alert.rule, n)
        return out

    def on_alert(self, alert: Alert) -> None:
        names = self.channels_for(alert)
        payload = self.payload(alert, "alert")
        keys = _group_keys(alert, payload)
        if not self.group_wait or not keys:
            self.outbox.enqueue(alert.id, names, "alert", payload)
            return
        now = [n for n in names if n == "dashboard"]
        if now:
            self.outbox.enqueue(alert.id, now, "alert", payload)
        held = [n for n in names if n != "dashboard"]
        if held:
            self._hold(alert, payload, held, keys)

    def _hold(self, alert: Alert, payload: dict[str, Any], held: list[str], keys: set[str]) -> None:
        with self._lock:
            g = next((g for g in self._groups if g.keys & keys), None)
            if g is None:
                g = _Group(due=self.clock() + self.group_wait)
                self._groups.append(g)
                if self.timers:  # the group goes out when its wait has passed
                    t = threading.Timer(self.group_wait.total_seconds(), self.flush_due)
                    t.daemon = True
                    t.start()
            g.keys |= keys
            g.items.append((alert, payload, held))

    def recover(self, since: datetime) -> int:
        """Open alerts raised since ``since`` with a channel (other than the dashboard) that has no outbox row
        for them, alone or in a group: their group was held in the memory of a process that died. Each is held
        again (or sent at once without ``group_wait``). Returns how many alerts were recovered."""
        db = self.outbox.db
        with db.session_scope() as s:
            alerts = list(s.scalars(select(Alert).where(Alert.created_at >= since, Alert.status == "open")))
            rows = s.execute(select(OutboxRow.alert_id, OutboxRow.channel, OutboxRow.payload)
                             .where(OutboxRow.created_at >= since, OutboxRow.kind == "alert")).all()
            s.expunge_all()
        sent = set()
        for alert_id, channel, payload in rows:
            sent.add((channel, alert_id))
            for g in (payload or {}).get("group") or []:
                sent.add((channel, g.get("id")))
        n = 0
        for a in alerts:
            missing = [ch for ch in self.channels_for(a) if ch != "dashboard" and (ch, a.id) not in sent]
            if not missing:
                continue
            n += 1
            payload = self.payload(a, "alert")
            keys = _group_keys(a, payload)
            if self.group_wait and keys:
                self._hold(a, payload, missing, keys)
            else:
                self.outbox.enqueue(a.id, missing, "alert", payload)
            log.warning("alert %s had not reached %s (held by a process that stopped): sent again",
                        a.id, "、".join(missing))
        return n

    def on_updated(self, alert: Alert) -> None:
        """An open alert grown by a repeat match that tells no one (within ``realert``, silenced, aggregating): the
        dashboard channel sends its new figures and newest samples to the desk's pages at once (``alert_updated``).
        Not an outbox delivery: no person is messaged, nothing waits or is retried; a page that missed it gets it
        in the live feed's replay, or reloads its alerts on ``resync``. Never reads the store (a burst folds often)."""
        channel = self.outbox.channels.get("dashboard")
        if not isinstance(channel, DashboardChannel):
            return
        samples = [dict(d) for d in (alert.details or {}).get("samples") or [] if isinstance(d, dict)][:3]
        channel.update({"alert": alert.to_dict(), "kind": "updated", "posts": samples, "tz": self.tz})

    def on_resolved(self, alert: Alert) -> None:
        with self._lock:  # an alert still held goes out first, so the calm notice never precedes it
            first = [g for g in self._groups if any(a.id == alert.id for a, _, _ in g.items)]
            self._groups = [g for g in self._groups if g not in first]
        for g in first:
            self._send(g)
        self.outbox.enqueue(alert.id, self.channels_for(alert), "resolved", self.payload(alert, "resolved"))

    def flush_due(self, now: datetime | None = None) -> int:
        """Send the groups whose wait has passed (each group's timer calls this); returns how many."""
        now = (now or self.clock()) + timedelta(milliseconds=50)  # a timer may wake a hair early
        with self._lock:
            due = [g for g in self._groups if g.due <= now]
            self._groups = [g for g in self._groups if g.due > now]
        for g in due:
            self._send(g)
        return len(due)

    def _send(self, g: _Group) -> None:
        """One message per channel: the alerts of the group that go to it, folded into one payload."""
        channels: list[str] = []
        for _, _, names in g.items:
            channels += [n for n in names if n not in channels]
        for ch in channels:
            items = [(a, p) for a, p, names in g.items if ch in names]
            try:
                alert_id, payload = _fold(items)
                self.outbox.enqueue(alert_id, [ch], "alert", payload)
            except Exception:
                log.exception("sending the grouped alerts to %s failed", ch)


def _group_keys(alert: Alert, payload: dict[str, Any]) -> set[str]:
    """What makes two alerts one event: a shared post, or a shared event id of their posts."""
    keys = {f"post:{pid}" for pid in alert.post_ids or []}
    keys |= {f"event:{p['event_id']}" for p in payload.get("posts", []) if p.get("event_id")}
    ev = (alert.details or {}).get("event_id")
    if ev:
        keys.add(f"event:{ev}")
    return keys


def _fold(items: list[tuple[Alert, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """The payload of several alerts: the most severe one's, titled with every rule, its reason a summary of
    each alert's, its posts the union (first three)."""
    if len(items) == 1:
        return items[0][0].id, items[0][1]
    ordered = sorted(items, key=lambda ap: -SEVERITY_ORDER.get(ap[0].severity, 0))
    head, payload = ordered[0][0], dict(ordered[0][1])
    alert = dict(payload["alert"])
    rules = []
    for a, _ in ordered:
        if a.rule not in rules:
            rules.append(a.rule)
    lines = [f"{i}. {a.rule}{('「' + a.key[:40] + '」') if a.key else ''}"
             f"（{p['alert'].get('severity_zh', a.severity)}）：{a.reason[:120]}"
             for i, (a, p) in enumerate(ordered[:GROUP_LINES], 1)]
    if len(ordered) > GROUP_LINES:
        lines.append(f"……另有 {len(ordered) - GROUP_LINES} 条，详见值班台")
    alert["rule"] = "、".join(rules)
    alert["key"] = head.key if all(a.key == head.key for a, _ in ordered) else ""
    alert["reason"] = f"同一事件命中 {len(ordered)} 条规则：\n" + "\n".join(lines)
    seen: set[str] = set()
    posts = []
    for _, p in ordered:
        for d in p.get("posts", []):
            if d.get("id") not in seen:
                seen.add(d.get("id"))
                posts.append(d)
    payload.update(alert=alert, posts=posts[:3],
                   group=[{"id": a.id, "rule": a.rule, "key": a.key, "severity": a.severity, "reason": a.reason}
                          for a, _ in ordered])
    return head.id, payload
