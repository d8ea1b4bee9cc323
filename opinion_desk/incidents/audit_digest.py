"""The audit chain anchored outside the database: a daily signed digest of its head, kept in a file and mailed.

A hash chain inside the database shows a changed entry only while nobody recomputes the hashes after it; whoever
can write the database can rewrite the chain whole. So once a day (Beijing time; the desk checks hourly, and at
start) the chain head is written out of the database:

- appended to ``data_dir/audit-digests.jsonl`` (fsync'd), one line per digest::

      {"v": 1, "at": "2026-11-25T16:00:03+00:00", "day": "2026-11-26", "seq": 1532, "hash": "…", "sig": "…"}

  ``sig`` = hex HMAC-SHA256 over the canonical JSON of the other fields, keyed by ``[audit] key_file``
  (default ``data_dir/audit.key``, made on first use, mode 0600; keep a copy elsewhere and out of backups of the
  database);
- mailed to the leaders named in ``[audit] digest_recipients`` (the email outbox, channel :data:`CHANNEL`), so a
  copy lives where a database administrator cannot reach it.

``opinion-desk audit verify`` (:func:`verify`) recomputes the chain and then checks every digest: its signature,
and that the entry it names still has the hash it recorded. A rewritten chain (one row changed, every hash after
it recomputed) passes the first check and fails the second; a chain cut short misses the entries the digests name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..errors import ConfigError
from ..state import StateDB
from ..state.incidents import AuditEntry
from ..timefmt import zone
from . import audit

log = logging.getLogger(__name__)
DIGEST_FILE = "audit-digests.jsonl"
CHANNEL = "审计摘要"  # the email channel built from [audit] digest_recipients


def key_path(cfg: Any) -> Path:
    p = Path(os.path.expanduser(cfg["audit"]["key_file"]))
    return p if p.is_absolute() else cfg.data_path(str(p))


def load_key(cfg: Any, create: bool = True) -> bytes | None:
    """The signing key (hex in the key file); made on first use when ``create``; None when absent."""
    path = key_path(cfg)
    if path.exists():
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise ConfigError([f"[audit] key_file: {path} 不是十六进制的签名密钥"], cfg.file) from None
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def digest_path(cfg: Any) -> Path:
    return cfg.data_path(DIGEST_FILE)


def sign(key: bytes, rec: dict[str, Any]) -> str:
    body = {k: v for k, v in rec.items() if k != "sig"}
    return hmac.new(key, audit.canonical(body).encode("utf-8"), hashlib.sha256).hexdigest()


def read_digests(path: Path) -> list[tuple[int, dict[str, Any] | None]]:
    """(line number, record) of every line; a line that is not a JSON object gives None."""
    if not path.exists():
        return []
    out: list[tuple[int, dict[str, Any] | None]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                rec = None
            out.append((n, rec if isinstance(rec, dict) else None))
    return out


def last_day(cfg: Any) -> str | None:
    recs = [r for _n, r in read_digests(digest_path(cfg)) if r]
    return recs[-1].get("day") if recs else None


def due(cfg: Any, now: datetime | None = None) -> bool:
    """No digest yet for today (in the desk's zone, Beijing time by default)."""
    now = now or datetime.now(timezone.utc)
    return last_day(cfg) != now.astimezone(zone(cfg)).date().isoformat()


def write_digest(cfg: Any, db: StateDB, now: datetime | None = None, mail: bool = True) -> dict[str, Any]:
    """Sign the chain head, append it to the digest file, and queue it for the leaders' mail."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    key = load_key(cfg)
    assert key is not None
    with db.session_scope() as s:
        h = audit.head(s)
        rec: dict[str, Any] = {"v": 1, "at": now.isoformat(), "day": now.astimezone(zone(cfg)).date().isoformat(),
                               "seq": h.seq if h else 0, "hash": h.hash if h else audit.GENESIS}
    rec["sig"] = sign(key, rec)
    path = digest_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    recipients = list(cfg["audit"]["digest_recipients"])
    if mail and recipients:
        _queue_mail(db, rec, now, cfg["desk"]["timezone"])
    return rec


def _queue_mail(db: StateDB, rec: dict[str, Any], now: datetime, tz: str = "") -> None:
    """One outbox row for the digest channel; the running desk's outbox delivers it (and retries)."""
    from ..state.alerts import OutboxRow

    payload = {"kind": "audit_digest", "digest": rec, "tz": tz,
               "subject": f"【审计摘要】{rec['day']} 第 {rec['seq']} 条 {rec['hash'][:16]}"}
    with db.session_scope() as s:
        s.add(OutboxRow(alert_id=f"D{rec['day']}-{rec['seq']}", channel=CHANNEL, kind="audit_digest",
                        payload=payload, attempts=0, next_try=now, status="pending", created_at=now))


def run_if_due(cfg: Any, db: StateDB, kick: Any = None) -> dict[str, Any] | None:
    """The desk's hourly job: write today's digest when there is none yet."""
    if not due(cfg):
        return None
    rec = write_digest(cfg, db)
    log.info("audit digest written: seq %s hash %s", rec["seq"], rec["hash"][:16])
    if kick is not None:
        kick()
    return rec


@dataclass
class Verdict:
    ok: bool
    entries: int
    digests: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def verify(cfg: Any, s: Session) -> Verdict:
    """The chain (:func:`audit.verify_chain`) and every digest against it. Problems are in Chinese and name the
    entry or the digest line."""
    chain = audit.verify_chain(s)
    problems: list[str] = []
    if not chain.ok:
        problems.append(f"审计链在第 {chain.broken_seq} 条记录处断开：{chain.reason}")
    path = digest_path(cfg)
    key = load_key(cfg, create=False)
    digests = read_digests(path)
    if digests and key is None:
        problems.append(f"找不到签名密钥 {key_path(cfg)}：无法确认摘要文件未被伪造")
    for n, rec in digests:
        where = f"{path.name} 第 {n} 行"
        if rec is None or not isinstance(rec.get("seq"), int) or not isinstance(rec.get("hash"), str):
            problems.append(f"{where}：不是有效的摘要记录")
            continue
        if key is not None and not hmac.compare_digest(str(rec.get("sig", "")), sign(key, rec)):
            problems.append(f"{where}：签名不符（摘要文件被改动，或密钥不对）")
            continue
        if rec["seq"] == 0:
            continue
        e = s.get(AuditEntry, rec["seq"])
        if e is None:
            problems.append(f"{where}（{rec.get('day')}）：第 {rec['seq']} 条记录已不存在，审计链被截断")
        elif e.hash != rec["hash"]:
            problems.append(f"{where}（{rec.get('day')}）：第 {rec['seq']} 条记录的哈希与当日摘要不符，"
                            f"审计链被改写（tampered）")
    warnings: list[str] = []
    anchored = max((r["seq"] for _n, r in digests if r and isinstance(r.get("seq"), int)), default=0)
    if not digests:
        warnings.append(f"还没有摘要（{path}）：审计链尚未在数据库之外留存，整链改写无法发现"
                        f"（`opinion-desk audit digest` 立即写一份）")
    elif chain.checked > anchored:
        warnings.append(f"最后一份摘要之后的 {chain.checked - anchored} 条记录尚未留存摘要（每天一次）")
    return Verdict(not problems, chain.checked, len(digests), problems, warnings)
