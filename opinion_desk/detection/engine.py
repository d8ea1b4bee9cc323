"""The rule engine: holds the loaded rules, evaluates them as posts arrive (:meth:`Engine.on_posts`, a pipeline
hook) and on a short tick (:meth:`Engine.tick`, a scheduler job), reloads rule files when they change, and keeps
each rule's window state in the state database so it survives a restart.

Which keys are firing is the engine's business, not the rule type's: a window condition that becomes true is a
match; while it stays true, a match that grows (more posts, a higher value) is sent as an ``update`` of the same
alert (the alert book folds it in and re-notifies by ``realert``); once it has stayed false for the rule's
``resolve_after`` (hold-down) the key is quiet again and a resolved notice (舆情平息) goes out, for every window
rule.

Time: windows count posts by their own time (``created_at``). A post up to ``lateness`` (``[rules]
allowed_lateness``) older than the clock is current: when the condition does not hold now, it is checked again
at the late posts' own time, so a slow crawler's burst still alerts, with its lateness in the reason. An older
post is history (an import, a replay of a month, a crawler catching up): it is counted (baselines, new_term's
known words) but raises nothing unless ``alert_history``.

Every match carries its sample posts (:func:`~.rule.sample_of`) from the engine's own recent posts, so a message
built before the store has made the posts searchable (Elasticsearch's refresh) still shows them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from ..errors import RuleError
from ..models import Post
from .applied import APPLIED_RULE, AppliedPosts
from .clock import Clock, system_clock
from .loader import LoadedRule, load_rule_file, rule_files
from .rule import Match, RuleSpec, sample_of

log = logging.getLogger(__name__)

MatchSink = Callable[[Match, RuleSpec], Any]
PRUNE_EVERY_POSTS = 2000  # on_posts prunes the windows this often, so an import (no ticks) stays bounded
PRUNE_EVERY_SECONDS = 60.0
SAMPLE_CACHE = 5000  # recent counted posts kept as samples for matches (text, author...: see rule.sample_of)
SAMPLES_PER_MATCH = 5
LATE_AFTER = timedelta(minutes=1)  # a post this much older than the clock is late: checked at its own time too
# (younger is a crawler's usual delay: checked at the clock only, and no "迟到" in the reason)
ROWS_PER_INSERT = 1000  # state rows written per statement (bounded memory for a save of many changed terms)
SAVE_EVERY_POSTS = 20_000  # on_posts saves the rule state this often when no tick did (an import): the changes
# waiting to be written (new_term's changed terms) would otherwise grow with every distinct word imported


class Engine:
    """Evaluate rules. ``sink`` receives every match (the :class:`AlertBook` in the app, a list in dry runs)."""

    def __init__(self, rules_dir: str | Path | None = None, clock: Clock = system_clock,
                 statedb: Any = None, sink: MatchSink | None = None, lateness: timedelta = timedelta(hours=2),
                 alert_history: bool = False, store: Any = None, record_alerts: bool = False,
                 tz: tzinfo = timezone.utc) -> None:
        """``record_alerts``: matches go to an :class:`~.noise.AlertBook` on ``statedb`` (alert ids in ``tz``),
        which calls :attr:`alert_listeners` / :attr:`resolve_listeners`; otherwise to ``sink``. ``store`` is
        where alerts find their sample posts."""
        self.lateness = lateness  # posts older than the clock by more than this are history
        self.alert_history = alert_history  # history raises alerts too (otherwise it only builds the windows)
        self._samples: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.rules_dir = Path(rules_dir) if rules_dir else None
        self.clock = clock
        self.statedb = statedb
        self.sink = sink
        self.book: Any = None  # the AlertBook (noise control) when alerts are recorded
        self.by_path: dict[str, LoadedRule] = {}
        self.errors: dict[str, RuleError] = {}
        self.active: dict[str, dict[str, dict[str, Any]]] = {}  # rule -> key -> {"since", "below"}
        self.alert_listeners: list[Callable[[Any], None]] = []  # called with each new Alert (channels, incidents)
        self.resolve_listeners: list[Callable[[Any], None]] = []  # called with each resolved Alert
        self.update_listeners: list[Callable[[Any], None]] = []  # an open Alert grown quietly (no new notice)
        self.reload_listeners: list[Callable[[list[str], list[RuleError]], None]] = []
        self.store: Any = store
        self._mtimes: dict[str, tuple[float, int]] = {}
        self._lock = threading.RLock()
        self._dirty: set[str] = set()
        self.posts_seen = 0
        self._pruned_at: tuple[int, float] = (0, 0.0)  # (posts_seen, monotonic time) of the last prune
        self._saved_at = 0  # posts_seen at the last save_state
        self._refreshed_at = float("-inf")  # time.monotonic() of the last refresh_from_saved
        self.applied = AppliedPosts()  # ids of the latest batches counted: a replay is not counted twice
        self._applied_loaded = statedb is None  # read from the state database at the first batch
        if record_alerts:
            from .noise import AlertBook

            self.book = AlertBook(statedb, self.clock, self.alert_listeners, self.resolve_listeners, tz=tz,
                                  update_listeners=self.update_listeners)
            self.sink = self.book.handle

    # -- rules -----------------------------------------------------------------------------------
    @property
    def rules(self) -> dict[str, LoadedRule]:
        return {lr.spec.name: lr for lr in self.by_path.values()}

    def add_rule(self, lr: LoadedRule) -> None:
        with self._lock:
            self.by_path[lr.path] = lr
            self._restore(lr)

    def restore_all(self) -> None:
        """Forget the in-memory windows and read every rule's state, and the applied-post memory, from the state
        database again: a worker that takes over the rules lease continues from what the last holder saved."""
        with self._lock:
            self.by_path.clear()
            self._mtimes.clear()
            self.active.clear()
            self._dirty.clear()
            self.applied = AppliedPosts()
            self._applied_loaded = self.statedb is None
        self.reload()

    def refresh_from_saved(self, max_age: float = 10.0) -> None:
        """In a process that shows the rules but does not run them (``--role web``): read the state the rules
        lease holder saved, at most every ``max_age`` seconds, so the rules page shows what is firing."""
        now = time.monotonic()
        if now - self._refreshed_at < max_age:
            return
        self._refreshed_at = now
        self.restore_all()

    def reload(self) -> tuple[list[str], list[RuleError]]:
        """Load new and changed rule files; a broken edit keeps the previous version running. Returns the names
        (re)loaded and the errors found."""
        if self.rules_dir is None:
            return [], []
        loaded: list[str] = []
        errors: list[RuleError] = []
        with self._lock:
            seen = set()
            for p in rule_files(self.rules_dir):
                path = str(p)
                seen.add(path)
                try:
                    st = p.stat()
                except OSError:
                    continue
                sig = (st.st_mtime, st.st_size)
                if self._mtimes.get(path) == sig:
                    continue
                self._mtimes[path] = sig
                try:
                    lr = load_rule_file(p)
                    clash = [o for o in self.by_path.values() if o.spec.name == lr.spec.name and o.path != path]
                    if clash:
                        raise RuleError(path, f"rule name {lr.spec.name!r} is already used by {clash[0].path}",
                                        lr.spec.lines.get("name", 1), "name")
                except Exception as e:  # load_rule_file raises RuleError only; anything else still gets listed
                    if not isinstance(e, RuleError):
                        e = RuleError(path, f"无法加载规则（{type(e).__name__}: {e}）", 1)
                    if path in self.by_path:
                        e = RuleError(e.file, e.reason + "（继续运行上一版本 / the previous version keeps running）",
                                      e.line, e.field)
                    self.errors[path] = e
                    errors.append(e)
                    log.warning("rule file rejected: %s", e)
                    continue
                self.errors.pop(path, None)
                old = self.by_path.get(path)
                if old is not None and old.digest == lr.digest:
                    continue
                if old is not None and old.spec.type == lr.spec.type:
                    try:
                        lr.rtype.load_state(old.rtype.state())  # whole state, rows included
                        self._dirty.add(lr.spec.name)
                    except Exception:
                        log.exception("carrying state of %s over failed; it starts afresh", lr.spec.name)
                    if old.spec.name == lr.spec.name:
                        self.by_path[path] = lr
                        loaded.append(lr.spec.name)
                        continue
                self.by_path[path] = lr
                self._restore(lr)
                loaded.append(lr.spec.name)
            for path in [p for p in self.by_path if p not in seen]:
                gone = self.by_path.pop(path)
                self.active.pop(gone.spec.name, None)
                self._mtimes.pop(path, None)
                log.info("rule %s removed (%s deleted)", gone.spec.name, path)
            for path in [p for p in self.errors if p not in seen]:
                self.errors.pop(path)
        for fn in list(self.reload_listeners):
            try:
                fn(loaded, errors)
            except Exception:
                log.exception("reload listener failed")
        return loaded, errors

    # -- evaluation ------------------------------------------------------------------------------
    def on_posts(self, posts: Iterable[Post]) -> list[Match]:
        """The pipeline hook: count each post in every rule that wants it; single-post matches and window
        conditions that became true (or grew) are sent at once. History (older than ``lateness``) is counted
        but raises nothing unless ``alert_history``."""
        posts = list(posts)
        out: list[Match] = []
        with self._lock:
            every = posts  # for types that keep one entry per post id (a re-collected post's latest figures)
            posts = self._not_applied(posts)  # a replay after a crash, a post sent twice: counted once
            now = self.clock()
            horizon = now - self.lateness
            self.posts_seen += len(posts)
            for lr in list(self.by_path.values()):
                spec, rt = lr.spec, lr.rtype
                if not spec.enabled:
                    continue
                touched: dict[str, datetime] = {}  # key -> latest own time of this batch's current posts
                counted = False
                for post in every if rt.keyed_by_post else posts:
                    if rt.windowed and post.time_unknown:
                        continue  # no date of its own (stamped when collected): counting it would fake a rate
                    try:  # one odd post (a title that is not text, say) costs only itself, never the batch
                        if not spec.filter.matches(post):
                            continue
                        keys = spec.keys_of(post)
                        found = rt.on_post(post, keys, now)
                        self._keep_sample(post)
                        counted = True
                        current = self.alert_history or post.created_at >= horizon
                        if current:
                            out.extend(found)
                            for m in found:  # a key the rule resolved itself (a rumour's official answer):
                                if m.kind == "resolved" and self.active.get(spec.name, {}).pop(m.key, None):
                                    self._dirty.add(spec.name)  # no longer 触发中, and no second 平息 later
                        if rt.windowed and current:
                            for k in rt.touched_keys(post, keys):
                                if k not in touched or touched[k] < post.created_at:
                                    touched[k] = post.created_at
                    except Exception:
                        log.exception("rule %s failed on post %s", spec.name, post.id)
                if counted and rt.windowed:
                    self._dirty.add(spec.name)
                if touched:
                    out.extend(self._check_touched(lr, touched, now))
            self._maybe_prune(now)
            for m in out:
                self._attach_samples(m)
        self._emit(out)
        if self.statedb is not None and self.posts_seen - self._saved_at >= SAVE_EVERY_POSTS:
            try:
                self.save_state()
            except Exception:  # the next save (or tick) writes these rules again
                log.exception("saving the rule state failed")
        return out

    def _not_applied(self, posts: list[Post]) -> list[Post]:
        if not self._applied_loaded:
            self._applied_loaded = True
            self.applied.load(self.statedb)
        return self.applied.fresh(posts)

    def _check_touched(self, lr: LoadedRule, touched: dict[str, datetime], now: datetime) -> list[Match]:
        """Check the keys a batch touched: at ``now``, else (a late batch) at the late posts' own time. A key
        that starts firing is a match; a firing key whose value grew is an ``update``."""
        spec, rt = lr.spec, lr.rtype
        act = self.active.setdefault(spec.name, {})
        out: list[Match] = []
        for key in sorted(touched):
            m = self._check(rt, key, now)
            t = touched[key]
            if m is None and not rt.absence and now - t >= LATE_AFTER:
                m = self._check(rt, key, t)
                if m is not None:
                    late = now - t
                    m.details["lateness_seconds"] = round(late.total_seconds())
                    m.reason += f"（迟到数据：晚到 {_fmt(late)}，按帖子发布时间计入窗口）"
            if m is None:
                continue
            st = act.get(key)
            if st is None:
                act[key] = {"since": now.isoformat(), "below": None, "value": m.value}
                out.append(m)
            elif st.get("value") is None:  # firing since before a restart (no value saved): the baseline of growth
                st["value"] = m.value
            elif m.value is not None and m.value > st["value"]:
                st["value"], st["below"] = m.value, None
                m.kind = "update"
                out.append(m)
        return out

    def _keep_sample(self, post: Post) -> None:
        if post.id in self._samples:
            self._samples.move_to_end(post.id)
            return
        self._samples[post.id] = sample_of(post)
        if len(self._samples) > SAMPLE_CACHE:
            self._samples.popitem(last=False)

    def _attach_samples(self, m: Match) -> None:
        if not m.samples:
            m.samples = [self._samples[pid] for pid in m.post_ids[:SAMPLES_PER_MATCH] if pid in self._samples]

    def _maybe_prune(self, now: datetime) -> None:
        """Prune every rule's windows every few thousand posts or a minute, as the tick does: an import runs
        no ticks, and its windows would otherwise grow with every post."""
        n, t = self._pruned_at
        if self.posts_seen - n < PRUNE_EVERY_POSTS and time.monotonic() - t < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = (self.posts_seen, time.monotonic())
        for lr in list(self.by_path.values()):
            self._prune(lr, now)

    def _prune(self, lr: LoadedRule, now: datetime) -> None:
        try:  # a window keeps ``lateness`` more than it needs, so a late post is still counted with its peers
            changed = lr.rtype.prune(now - self.lateness if lr.rtype.keeps_late else now)
        except Exception:
            log.exception("pruning %s failed", lr.spec.name)
            return
        if changed is None or changed:  # a type that does not say is saved as changed
            self._dirty.add(lr.spec.name)

    def tick(self, now: datetime | None = None) -> list[Match]:
        """Evaluate every window rule for every key at ``now``: new conditions, resolutions, pruning; then save
        the rule state. Rule files are re-read here when they changed."""
        if self.rules_dir is not None:
            self.reload()
        out: list[Match] = []
        with self._lock:
            now = now or self.clock()
            for lr in list(self.by_path.values()):
                spec, rt = lr.spec, lr.rtype
                if not spec.enabled or not rt.windowed:
                    continue
                act = self.active.setdefault(spec.name, {})
                before = repr(act)
                for key in set(rt.tracked_keys()) | set(act):
                    m = self._check(rt, key, now)
                    st = act.get(key)
                    if m is not None:
                        if st is None:
                            act[key] = {"since": now.isoformat(), "below": None, "value": m.value}
                            out.append(m)
                        else:
                            st["below"] = None
                    elif st is not None:
                        if st["below"] is None:
                            st["below"] = now.isoformat()
                        elif now - datetime.fromisoformat(st["below"]) >= spec.resolve_after:
                            del act[key]  # every window rule resolves (frequency, rumour... too)
                            out.append(Match(rule=spec.name, key=key, time=now, kind="resolved", reason=(
                                f"{('「' + key + '」') if key else ''}已连续{_fmt(spec.resolve_after)}低于阈值，舆情平息")))
                if repr(act) != before:
                    self._dirty.add(spec.name)
                self._prune(lr, now)  # saved only when something changed, not every rule every tick
            for m in out:
                self._attach_samples(m)
        self._emit(out)
        if self.book is not None:
            try:
                self.book.tick(now, {lr.spec.name: lr.spec for lr in self.by_path.values()})
            except Exception:
                log.exception("sending aggregated alerts failed")
        self.save_state()
        return out

    def _check(self, rt: Any, key: str, now: datetime) -> Match | None:
        try:
            return rt.check(key, now)
        except Exception:
            log.exception("rule %s failed checking %r", rt.spec.name, key)
            return None

    def _emit(self, matches: list[Match]) -> None:
        if self.sink is None:
            return
        specs = {lr.spec.name: lr.spec for lr in self.by_path.values()}
        with self.book.batch() if self.book is not None else nullcontext():  # one quiet update per alert
            for m in matches:
                try:
                    self.sink(m, specs[m.rule])
                except Exception:
                    log.exception("handling a match of %s failed", m.rule)

    # -- state -----------------------------------------------------------------------------------
    def save_state(self) -> None:
        """Save the rules whose state changed since the last save: each one's JSON state (without its rows),
        and, for a type with rows (new_term's terms), only the rows changed or removed."""
        if self.statedb is None or not self._dirty:
            return
        from ..state.alerts import RuleState

        with self._lock:
            self._saved_at = self.posts_seen
            dirty, self._dirty = self._dirty, set()
            rows = {lr.spec.name: (lr.spec.type, lr.rtype.saved_state(), lr.rtype.row_changes())
                    for lr in self.by_path.values() if lr.spec.name in dirty}
            active = {name: dict(self.active.get(name, {})) for name in rows}
            applied = self.applied.changes()
        now = self.clock()
        try:
            with self.statedb.session_scope() as s:
                table = RuleState.__table__  # Core: an ORM get would first decode the old JSON state
                for name, (rtype, state, (changed, removed)) in rows.items():
                    values = {"rule_type": rtype, "state": state, "active": active[name], "updated_at": now}
                    if not s.execute(table.update().where(table.c.rule == name).values(**values)).rowcount:
                        s.execute(table.insert().values(rule=name, **values))
                    _write_rows(s, name, changed, removed)
                _write_rows(s, APPLIED_RULE, *applied)  # in the same transaction as the counts they went into
        except Exception:
            with self._lock:  # nothing was written: the next save writes these rules whole, rows and all
                self.applied.unsaved(*applied)
                for lr in self.by_path.values():
                    if lr.spec.name in rows:
                        self._dirty.add(lr.spec.name)
                        lr.rtype.load_state(lr.rtype.state())
            raise

    def _restore(self, lr: LoadedRule) -> None:
        if self.statedb is None:
            self._prime(lr)
            return
        from ..state.alerts import RuleState

        from sqlalchemy import delete, select

        from ..state.alerts import RuleStateRow

        with self.statedb.session_scope() as s:
            row = s.get(RuleState, lr.spec.name)
            data = (row.rule_type, dict(row.state or {}), dict(row.active or {})) if row else None
            if data and data[0] == lr.spec.type:
                extra = dict(s.execute(select(RuleStateRow.key, RuleStateRow.value)
                                       .where(RuleStateRow.rule == lr.spec.name)).all())
            else:  # rows of another rule that had this name, or of none
                s.execute(delete(RuleStateRow).where(RuleStateRow.rule == lr.spec.name))
                extra = {}
        if data and data[0] == lr.spec.type:
            try:
                lr.rtype.load_state(data[1])
                lr.rtype.load_rows(extra)
                self.active[lr.spec.name] = data[2]
                return
            except Exception:
                log.exception("state of rule %s is unreadable; it starts afresh", lr.spec.name)
        self._prime(lr)

    def _prime(self, lr: LoadedRule) -> None:
        if self.store is None:
            return
        try:
            lr.rtype.prime(self.store, self.clock())
        except Exception:
            log.exception("priming rule %s from the store failed", lr.spec.name)

    def baseline(self, lr: LoadedRule, now: datetime) -> dict[str, Any] | None:
        """``None`` when the rule needs no baseline or has it; else how much history is still missing, said as
        the rules page says it ("基线数据不足，还需 2小时")."""
        try:
            missing = lr.rtype.baseline_missing(now)
        except Exception:
            log.exception("rule %s: baseline", lr.spec.name)
            return None
        if missing is None:
            return None
        missing = timedelta(minutes=-(-missing.total_seconds() // 60))  # whole minutes, rounded up
        return {"ready": False, "missing_seconds": round(missing.total_seconds()),
                "message": f"基线数据不足，还需 {_fmt(missing)}"}

    def status(self) -> dict[str, Any]:
        now = self.clock()
        with self._lock:
            return {
                "rules": [{"name": lr.spec.name, "type": lr.spec.type, "file": os.path.basename(lr.path),
                           "severity": lr.spec.severity, "channels": lr.spec.channels, "enabled": lr.spec.enabled,
                           "firing": sorted(self.active.get(lr.spec.name, {})),
                           "baseline": self.baseline(lr, now)} for lr in self.by_path.values()],
                "errors": [{"file": e.file, "line": e.line, "field": e.field, "reason": e.reason,
                            "message": str(RuleError(os.path.basename(e.file), e.reason, e.line, e.field))}
                           for e in self.errors.values()],
            }


def _write_rows(session: Any, rule: str, changed: dict[str, Any], removed: set[str]) -> None:
    """Apply one rule's row changes: delete the removed and the changed keys, insert the changed ones."""
    from ..state.alerts import RuleStateRow

    table = RuleStateRow.__table__  # Core statements: the ORM's bulk path costs more than the rows themselves
    keys = list(removed | set(changed))
    for i in range(0, len(keys), 500):
        session.execute(table.delete().where(table.c.rule == rule, table.c.key.in_(keys[i:i + 500])))
    items = list(changed.items())
    for i in range(0, len(items), ROWS_PER_INSERT):  # in slices: one insert of 90k rows peaked at +63 MB
        part = items[i:i + ROWS_PER_INSERT]
        session.execute(table.insert(), [{"rule": rule, "key": k, "value": v} for k, v in part])


def _fmt(td: Any) -> str:
    from .durations import format_duration

    return format_duration(td)
