"""Which posts the rules have counted lately, so a replayed batch is not counted twice.

The pipeline deletes a batch's inbox file only after the rule engine counted its posts; a desk killed in between
replays that batch at its next start. The engine keeps the ids of its latest batches (:class:`AppliedPosts`) and
saves them in the same transaction as the rule state they went into: after a restart, a replayed post whose id is
among them is skipped, whatever window, term or key it was counted under. The same holds for a post sent twice
(a collector's overlap, a repeated API call) while its id is still kept.

Bounded: the last ``APPLIED_BATCHES`` batches, at most ``APPLIED_KEEP`` ids, but never fewer than the last 2
batches whole (the one being delivered when the desk died, and the one before it).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from ..models import Post

log = logging.getLogger(__name__)

APPLIED_BATCHES = 4
APPLIED_KEEP = 10_000
APPLIED_RULE = ""  # the state rows holding them belong to no rule (no rule has an empty name): one row per batch,
APPLIED_PREFIX = "applied:"  # key "applied:<batch number>", written once and deleted when the batch is dropped


class AppliedPosts:
    """The post ids of the latest batches counted; ``fresh`` filters a batch and records it."""

    def __init__(self, batches: int = APPLIED_BATCHES, keep: int = APPLIED_KEEP) -> None:
        self.batches, self.keep = max(2, batches), keep
        self._batches: deque[tuple[int, list[str]]] = deque()  # (batch number, ids)
        self._ids: set[str] = set()
        self._seq = 0
        self._added: dict[int, list[str]] = {}  # batches recorded and dropped since the last :meth:`changes`
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self._ids)

    def fresh(self, posts: list[Post]) -> list[Post]:
        """The posts not counted already (nor earlier in this batch); their ids are recorded as one batch."""
        out: list[Post] = []
        ids: list[str] = []
        for p in posts:
            try:
                pid = p.id
            except Exception:  # noqa: BLE001 - a post without a usable id is counted (the rules skip what they must)
                out.append(p)
                continue
            if pid in self._ids:
                continue
            self._ids.add(pid)
            ids.append(pid)
            out.append(p)
        if ids:
            self._seq += 1
            self._batches.append((self._seq, ids))
            self._added[self._seq] = ids
            self._trim()
        if len(out) < len(posts):
            log.info("%d posts already counted by the rules (a replay after a restart, or sent twice): skipped",
                     len(posts) - len(out))
        return out

    def _trim(self) -> None:
        total = sum(len(b) for _, b in self._batches)
        while len(self._batches) > 2 and (len(self._batches) > self.batches or total > self.keep):
            seq, gone = self._batches.popleft()
            total -= len(gone)
            self._ids.difference_update(gone)
            if self._added.pop(seq, None) is None:
                self._removed.add(seq)

    def changes(self) -> tuple[dict[str, list[str]], set[str]]:
        """State rows ``key -> ids`` to write and keys to delete since the last call (saved by the engine)."""
        added = {f"{APPLIED_PREFIX}{seq:012d}": ids for seq, ids in self._added.items()}
        removed = {f"{APPLIED_PREFIX}{seq:012d}" for seq in self._removed}
        self._added, self._removed = {}, set()
        return added, removed

    def unsaved(self, added: dict[str, list[str]], removed: set[str]) -> None:
        """Changes taken by :meth:`changes` whose write failed: written with the next ones."""
        live = {seq for seq, _ in self._batches}
        for key, ids in added.items():
            seq = int(key[len(APPLIED_PREFIX):])
            if seq in live:
                self._added[seq] = ids
            else:
                self._removed.add(seq)
        self._removed.update(int(k[len(APPLIED_PREFIX):]) for k in removed)

    def restore(self, rows: dict[str, Any]) -> None:
        """Load the saved rows (batches older than any recorded in this process)."""
        loaded = []
        for key, ids in rows.items():
            try:
                seq = int(str(key)[len(APPLIED_PREFIX):])
            except ValueError:
                continue
            if str(key).startswith(APPLIED_PREFIX) and isinstance(ids, list):
                loaded.append((seq, [str(i) for i in ids]))
        for seq, ids in sorted(loaded, reverse=True):
            ids = [i for i in ids if i not in self._ids]
            self._batches.appendleft((seq, ids))
            self._ids.update(ids)
            self._seq = max(self._seq, seq)
        self._trim()

    def load(self, statedb: Any) -> None:
        from sqlalchemy import select

        from ..state.alerts import RuleStateRow

        try:
            with statedb.session_scope() as s:
                rows = dict(s.execute(select(RuleStateRow.key, RuleStateRow.value)
                                      .where(RuleStateRow.rule == APPLIED_RULE)).all())
        except Exception:
            log.exception("reading the post ids the rules last counted failed; a replay may count some twice")
            return
        self.restore(rows)
