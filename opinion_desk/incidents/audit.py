"""The append-only audit log: every incident action and every security-relevant action of the desk, hash-chained
so that a changed or removed entry shows.

What is written (``action``; ``incident_id`` only for incident actions):

- incidents: every step of :mod:`opinion_desk.incidents.lifecycle` (open, acknowledge, draft, approve, publish...);
- people: ``login``, ``login_failed``, ``login_refused`` (rate limit), ``logout``, ``password_change``,
  ``user_add``, ``user_passwd``, ``token_add``, ``token_revoke`` (web and ``opinion-desk users``);
- silences (the obvious way to withhold an alert): ``silence_add``, ``silence_remove`` (web and CLI);
- files: ``rules_changed`` / ``sources_changed`` (each file added, changed or removed, with its sha256, as seen
  at start and at every reload);
- ``desk_start``: the effective configuration, secrets redacted (:func:`opinion_desk.config.redacted`).

Anchoring: a chain kept only in the database can be rewritten whole (change a row, recompute every hash after
it). :mod:`opinion_desk.incidents.audit_digest` writes the chain head out of the database once a day, signed, to
``data_dir/audit-digests.jsonl`` and by mail to named leaders; ``opinion-desk audit verify`` checks the chain
against those digests.

Entry ``n`` stores ``prev_hash`` (entry ``n-1``'s hash; 64 zeros for the first) and
``hash = sha256(prev_hash + canonical JSON of {seq, at, actor, action, incident_id, payload})`` where canonical
JSON has sorted keys, no spaces and UTF-8 text. :func:`verify_chain` recomputes every hash in order and names
the first entry that does not match (``opinion-desk audit verify``).

Appends are serialised by :data:`WRITE_LOCK` (the incident service holds it for the whole transaction, so the
sequence has no gaps and no forks in this process).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..state import StateDB
from ..state.incidents import AuditEntry

GENESIS = "0" * 64
WRITE_LOCK = threading.RLock()


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, incident_id: int | None,
               payload: dict[str, Any]) -> str:
    body = canonical({"seq": seq, "at": at, "actor": actor, "action": action, "incident_id": incident_id,
                      "payload": payload})
    # surrogatepass: text with a lone surrogate (possible in a JSON body) still hashes; every other text as UTF-8
    return hashlib.sha256((prev_hash + body).encode("utf-8", "surrogatepass")).hexdigest()


def append(s: Session, actor: str, action: str, incident_id: int | None, payload: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add one entry in the caller's transaction (hold :data:`WRITE_LOCK` until it commits)."""
    payload = json.loads(canonical(payload or {}))  # what is stored is exactly what was hashed
    with WRITE_LOCK:
        last = s.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()
        e = AuditEntry(seq=seq, at=when, actor=actor, action=action, incident_id=incident_id, payload=payload,
                       prev_hash=prev, hash=entry_hash(prev, seq, when, actor, action, incident_id, payload))
        s.add(e)
        s.flush()
    return e


@dataclass
class ChainResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(s: Session) -> ChainResult:
    """Recompute the chain; the first entry whose link or hash is wrong (or a missing sequence number)."""
    prev = GENESIS
    expect = 1
    n = 0
    for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(500):
        if e.seq != expect:
            return ChainResult(False, n, expect, f"第 {expect} 条记录缺失")
        if e.prev_hash != prev:
            return ChainResult(False, n, e.seq, "与上一条记录的链接不符（prev_hash）")
        if entry_hash(prev, e.seq, e.at, e.actor, e.action, e.incident_id, e.payload or {}) != e.hash:
            return ChainResult(False, n, e.seq, "记录内容与哈希不符（被改动）")
        prev = e.hash
        expect += 1
        n += 1
    return ChainResult(True, n)


def record(db: StateDB, actor: str, action: str, payload: dict[str, Any] | None = None,
           incident_id: int | None = None, tries: int = 5) -> int:
    """Append one entry in its own transaction; returns its sequence number. Another process (a CLI command
    beside the running desk) may take the same sequence number first: the primary key refuses the second and it
    is tried again on the new head."""
    for attempt in range(tries):
        try:
            with WRITE_LOCK, db.session_scope() as s:
                return append(s, actor, action, incident_id, payload).seq
        except IntegrityError:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def head(s: Session) -> AuditEntry | None:
    """The last entry of the chain (None while it is empty)."""
    return s.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))


def entries(s: Session, incident_id: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.incident_id == incident_id).order_by(AuditEntry.seq)))


def count(s: Session) -> int:
    return s.scalar(select(func.count(AuditEntry.seq))) or 0
