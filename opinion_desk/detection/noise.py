"""Noise control between a rule's matches and the duty officer: silences, ``realert`` folding, aggregation and
the resolved notice. A match of a key whose alert is still open folds into it (count, value, reason, samples);
an ``update`` (a firing window that grew) does too, and re-notifies once ``realert`` has passed since the last
notice; a plain match after ``realert`` opens a new alert. Turns :class:`Match` es into :class:`~opinion_desk.state.alerts.Alert` rows and tells the
listeners (alert channels, incidents) about new and resolved alerts.

One match is one alert: an alert carries the :func:`match_key` of the match that opened it under a UNIQUE index,
so the same match recorded twice (by two processes, or replayed after a crash) inserts once; the second insert's
``IntegrityError`` means "already recorded" and its listeners are not called again. The same match arriving again
while its alert is open does not fold into it either.

A fold that is not told again (within ``realert``, silenced, or still aggregating) is a quiet update: the
``update_listeners`` hear the grown alert (the desk's pages change its row in place, no beep). Within
:meth:`AlertBook.batch` (one batch of posts, one tick) each alert's quiet update is heard once, at the end, with its
last count; an alert told again in the same batch is not also updated (its notice carries the newer figures)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..state import StateDB
from ..state.alerts import Alert, Silence, aware, new_alert_id
from .clock import Clock
from . import message, realert
from .rule import Match, RuleSpec

log = logging.getLogger(__name__)

AlertListener = Callable[[Alert], None]
MAX_SAMPLES = 50


def match_key(m: Match) -> str:
    """What identifies one match: its rule, query-key value and event time (a window rule's match time is the
    time of the post that crossed the threshold, a tick rule's the tick), as 64 hex digits."""
    t = m.time.astimezone(timezone.utc).isoformat() if m.time.tzinfo else m.time.isoformat()
    return hashlib.sha256("\x1f".join((m.rule, m.key, t)).encode("utf-8")).hexdigest()


class AlertBook:
    """Records alerts in the state database and calls ``alert_listeners`` / ``resolve_listeners``."""

    def __init__(self, statedb: StateDB, clock: Clock, alert_listeners: list[AlertListener],
                 resolve_listeners: list[AlertListener], tz: tzinfo = timezone.utc,
                 update_listeners: list[AlertListener] | None = None) -> None:
        self.db = statedb
        self.tz = tz  # the desk's zone: alert ids carry its date and time
        self.clock = clock
        self.alert_listeners = alert_listeners
        self.resolve_listeners = resolve_listeners
        self.update_listeners = update_listeners if update_listeners is not None else []
        self._batch = threading.local()  # the quiet updates held by this thread's batch() (pipeline, scheduler)
        self._silences: list[Silence] = []
        self._silences_at: datetime | None = None

    # -- silences --------------------------------------------------------------------------------
    def silenced(self, rule: str, key: str, now: datetime) -> bool:
        if self._silences_at is None or now - self._silences_at > timedelta(seconds=5) or now < self._silences_at:
            with self.db.session_scope() as s:
                self._silences = list(s.scalars(select(Silence)))
            self._silences_at = now
        return any(x.covers(rule, key, now) for x in self._silences)

    def silences_changed(self) -> None:
        self._silences_at = None

    # -- quiet updates -----------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the quiet updates of the matches handled within; each updated alert is heard once at the end."""
        if getattr(self._batch, "held", None) is not None:  # nested: the outer batch tells them
            yield
            return
        self._batch.held = {}
        try:
            yield
        finally:
            held, self._batch.held = self._batch.held, None
            for alert in held.values():
                self._call(self.update_listeners, alert)

    def _updated(self, alert: Alert) -> None:
        held = getattr(self._batch, "held", None)
        if held is None:
            self._call(self.update_listeners, alert)
        else:
            held[alert.id] = alert  # the latest fold's figures

    def _told(self, alert: Alert) -> None:
        """``alert`` is told again (an ``alert`` notice with its figures): an update held for it is not needed."""
        held = getattr(self._batch, "held", None)
        if held:
            held.pop(alert.id, None)

    # -- matches ---------------------------------------------------------------------------------
    def handle(self, m: Match, spec: RuleSpec) -> Alert | None:
        if m.kind == "resolved":
            return self.resolve(m, spec)
        now = self.clock()
        mkey = match_key(m)
        notify = quiet = None
        previous: tuple = (None, None)  # the key's last notice and its details (exponential_realert)
        with self.db.session_scope() as s:
            open_alert = s.scalars(select(Alert).where(Alert.rule == m.rule, Alert.key == m.key,
                                                       Alert.status.in_(("open", "silenced")))
                                   .order_by(Alert.created_at.desc()).limit(1)).first()
            if open_alert is not None and open_alert.match_key == mkey:
                return None  # the match that opened it, seen again (a replay): nothing new
            if open_alert is not None:
                since = aware(open_alert.notified_at or open_alert.created_at)
                previous = (since, dict(open_alert.details or {}))
                due = now - since >= realert.interval(spec, previous[1]) and not (open_alert.notified_at is None and spec.aggregation)
                if not due or m.kind == "update":
                    _fold(open_alert, m)
                    if not due or open_alert.status != "open":
                        quiet = open_alert
                    else:
                        open_alert.notified_at = now  # the grown alert is told again, as realert allows
                        open_alert.details = {**(open_alert.details or {}), "updated_at": now.isoformat(),
                                              **realert.details(spec, *previous, now)}
                        _render(open_alert, spec, self.tz)
                        notify = open_alert
        if quiet is not None:  # committed: the grown alert, told to no one but the desk's pages
            self._updated(quiet)
            return None
        if notify is not None:
            self._told(notify)
            self._call(self.alert_listeners, notify)
            return notify
        try:
            alert, notify = self._record(m, spec, now, mkey, previous)
        except IntegrityError:
            with self.db.session_scope() as s:
                if s.scalars(select(Alert.id).where(Alert.match_key == mkey)).first() is None:
                    raise  # not a match recorded twice (an id clash): let it be seen
            log.info("match of %s for %r at %s already recorded: one alert", m.rule, m.key, m.time)
            return None
        if notify is not None:
            self._call(self.alert_listeners, notify)
        return alert

    def _record(self, m: Match, spec: RuleSpec, now: datetime, mkey: str,
                previous: tuple) -> tuple[Alert, Alert | None]:
        """Insert the new alert of ``m`` (committed); returns it and, when it is to be told now, it again."""
        notify = None
        with self.db.session_scope() as s:
            status = "silenced" if self.silenced(m.rule, m.key, now) else "open"
            alert = Alert(id=new_alert_id(now, self.tz), rule=m.rule, rule_type=spec.type, key=m.key, match_key=mkey,
                          severity=m.details.get("severity") or spec.severity,  # the event's own (severity.py)
                          status=status, reason=m.reason, first_match=m.time, last_match=m.time, created_at=now,
                          count=1, value=m.value, post_ids=list(m.post_ids)[:MAX_SAMPLES], duty=dict(spec.duty),
                          description=spec.description, channels=list(spec.channels),
                          details=_jsonable({**m.details, "samples": list(m.samples),
                                             **realert.details(spec, *previous, now)}))
            _render(alert, spec, self.tz)
            if status == "open" and not spec.aggregation:
                alert.notified_at = now
                notify = alert
            s.add(alert)
        return alert, notify

    def resolve(self, m: Match, spec: RuleSpec) -> Alert | None:
        now = self.clock()
        with self.db.session_scope() as s:
            alert = s.scalars(select(Alert).where(Alert.rule == m.rule, Alert.key == m.key,
                                                  Alert.status.in_(("open", "silenced")))
                              .order_by(Alert.created_at.desc()).limit(1)).first()
            if alert is None:
                return None
            was_open = alert.status == "open" and alert.notified_at is not None
            alert.status = "resolved"
            alert.resolved_at = now
            # what resolved it (a rumour's official answer: details["answer"], the post linked) is kept with it
            alert.details = {**(alert.details or {}), **_jsonable(m.details), "resolved_reason": m.reason}
        if was_open:
            self._call(self.resolve_listeners, alert)
        return alert

    def tick(self, now: datetime, specs: dict[str, RuleSpec]) -> list[Alert]:
        """Send aggregated alerts whose aggregation window has passed."""
        due: list[Alert] = []
        with self.db.session_scope() as s:
            for alert in s.scalars(select(Alert).where(Alert.status == "open", Alert.notified_at.is_(None))):
                spec = specs.get(alert.rule)
                window = spec.aggregation if spec and spec.aggregation else timedelta(0)
                if now - aware(alert.created_at) >= window:
                    alert.notified_at = now
                    if spec is not None:
                        _render(alert, spec, self.tz)  # the message tells the count of the whole window
                    due.append(alert)
        for alert in due:
            self._call(self.alert_listeners, alert)
        return due

    def _call(self, listeners: list[AlertListener], alert: Alert) -> None:
        for fn in list(listeners):
            try:
                fn(alert)
            except Exception:  # one listener (a channel, incidents) failing never stops the others
                log.exception("alert listener %r failed for %s", fn, alert.id)


def _fold(alert: Alert, m: Match) -> None:
    """A later match of an open alert: one more match, its value, reason and newest samples."""
    alert.count += 1
    alert.last_match = m.time
    ids = list(alert.post_ids or [])
    alert.post_ids = (ids + [i for i in m.post_ids if i not in ids])[-MAX_SAMPLES:]
    alert.value = m.value
    if m.kind == "update":
        alert.reason = m.reason
    details = dict(alert.details or {})
    if m.samples:
        have = {d.get("id") for d in m.samples}
        details["samples"] = (list(m.samples) + [d for d in details.get("samples", []) if d.get("id") not in have])[:10]
    for k, v in _jsonable(m.details).items():
        details[k] = v
    alert.details = details


def _render(alert: Alert, spec: RuleSpec, tz: tzinfo) -> None:
    """The rule's own subject and text (alert_subject / alert_text), rendered into the alert's details."""
    if spec.message:
        d = alert.to_dict()
        alert.details = {**(alert.details or {}),
                         "message": message.for_alert(spec.message, d, list(d["details"].get("samples") or []), tz)}


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        out[k] = v.isoformat() if isinstance(v, datetime) else v
    return out
