"""The audit part of the running desk (scheduled by :func:`opinion_desk.jobs.audit_jobs`): the configuration at start, rule and source file changes,
and the daily digest that anchors the chain outside the database (:mod:`.audit_digest`).

- ``desk_start``: the effective configuration with every secret redacted (:func:`opinion_desk.config.redacted`);
- ``rules_changed`` / ``sources_changed``: at start and on every look (``[rules] tick_seconds``), each YAML file of
  the rules and sources folders is hashed; any file added, changed or removed since the last entry of that kind
  (even while the desk was stopped) is written with its sha256 and mtime -- what the desk's hot reload will pick
  up. The full listing is kept in the entry so the next start compares against it;
- the digest job (hourly; writes once per Beijing day).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..state import StateDB
from ..state.incidents import AuditEntry
from . import audit

log = logging.getLogger(__name__)
ACTOR = "system"
PATTERNS = ("*.yaml", "*.yml")


def snapshot(directory: Path) -> dict[str, dict[str, Any]]:
    """{file name: {"sha256", "mtime"}} of the YAML files of ``directory`` (empty when it does not exist)."""
    out: dict[str, dict[str, Any]] = {}
    if not directory.is_dir():
        return out
    for pattern in PATTERNS:
        for f in sorted(directory.glob(pattern)):
            try:
                data = f.read_bytes()
                mtime = datetime.fromtimestamp(f.stat().st_mtime, timezone.utc).isoformat()
            except OSError:
                continue
            out[f.name] = {"sha256": hashlib.sha256(data).hexdigest(), "mtime": mtime}
    return out


class FileWatch:
    """Writes ``<kind>_changed`` when the YAML files of one folder differ from the last such entry."""

    def __init__(self, db: StateDB, kind: str, directory: Path) -> None:
        self.db = db
        self.kind = kind
        self.directory = directory
        self.action = f"{kind}_changed"
        self._known: dict[str, str] | None = None
        self._lock = threading.Lock()

    def _last_known(self) -> dict[str, str]:
        with self.db.session_scope() as s:
            e = s.scalar(select(AuditEntry).where(AuditEntry.action == self.action)
                         .order_by(AuditEntry.seq.desc()).limit(1))
            files = (e.payload or {}).get("files", {}) if e else {}
        return {name: v.get("sha256", "") for name, v in files.items() if isinstance(v, dict)}

    def check(self) -> dict[str, Any] | None:
        """Record a change when there is one; returns the entry's payload (None: nothing changed)."""
        with self._lock:
            if self._known is None:
                self._known = self._last_known()
            now = snapshot(self.directory)
            current = {name: v["sha256"] for name, v in now.items()}
            if current == self._known:
                return None
            before = self._known
            payload = {"dir": str(self.directory), "files": now,
                       "added": sorted(set(current) - set(before)),
                       "removed": sorted(set(before) - set(current)),
                       "changed": sorted(n for n in set(current) & set(before) if current[n] != before[n])}
            audit.record(self.db, ACTOR, self.action, payload)
            self._known = current
            return payload


def record_start(cfg: Any, db: StateDB) -> int:
    from ..config import redacted

    return audit.record(db, ACTOR, "desk_start", {"pid": os.getpid(), "config_file": cfg.file or "",
                                                   "config": redacted(cfg)})


def watches(cfg: Any, db: StateDB) -> list[FileWatch]:
    from ..collectors.service import sources_dir

    return [FileWatch(db, "rules", Path(os.path.expanduser(cfg["rules"]["dir"]))),
            FileWatch(db, "sources", sources_dir(cfg))]
