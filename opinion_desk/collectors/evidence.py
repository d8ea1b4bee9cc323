"""The evidence archive: the raw payload of every collected post, kept on disk as it was collected.

Posts get deleted within hours, and an incident needs proof of what was said. The raw payload lives in two
places on purpose:

- ``Post.raw`` in the post store (both backends keep it): what the desk shows next to the post;
- this archive: append-only gzip JSONL, one file per source per day (UTC) under ``data_dir/evidence``::

      evidence/<sha256 of the source name, 32 hex>/<YYYY-MM-DD>.jsonl.gz
      evidence/<sha256 of the source name, 32 hex>/SOURCE        (the name, for people browsing the folder)

  The folder is named by a hash of the source name, never by the name itself: a pushed ``"source": ".."`` or
  ``"../../etc"`` cannot leave the archive, and a 10,000-character name still makes a short folder. Archives
  written before (``evidence/<name with unsafe characters as _>/``) are still read, verified and pruned: a folder
  whose name is not 32 hex characters is looked up by that old rule, and only when it is one plain folder name
  inside the archive.

  one line per post: ``{"post_id", "source", "source_id", "url", "created_at", "collected_at", "sha256", "raw"}``
  where ``sha256`` is the hash of the canonical JSON of ``raw`` (sorted keys, UTF-8, no spaces), so a copy
  handed to someone can be checked against the archive (:func:`verify_file`). Each write appends one gzip member
  (concatenated members are one valid gzip file), so a crash loses at most the batch being written. The archive
  does not depend on the store: it is written even while Elasticsearch is down. Days older than
  ``[collectors] evidence_days`` are removed by :meth:`EvidenceArchive.prune` (an hourly job; 0 keeps everything).

Where each post's captures lie is kept in ``index.sqlite`` beside the folders (:mod:`.evidence_index`: post id ->
file, gzip member offset, line), so a capture is read without scanning the archive.

The duty officer reads it with ``opinion-desk evidence show POST_ID`` and checks it with ``opinion-desk evidence
verify`` (:func:`check_file` names the file and line of every payload that no longer matches its hash).

The pipeline calls :meth:`EvidenceArchive.hook` for every batch that reached the store or the spool, so pushed
and imported posts are archived like collected ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import threading
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..models import Post
from .evidence_index import EvidenceIndex

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")  # the old folder rule, used only to read archives written by it
DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl\.gz$")
NAME_FILE = "SOURCE"


def source_dir_name(source: str) -> str:
    """The archive folder of a source: 32 hex characters of the sha256 of its name."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _legacy_dir_name(source: str) -> str | None:
    """The folder the old rule gave ``source``, when that is one plain, harmless folder name."""
    name = SAFE_NAME.sub("_", source)
    if not name or name in (".", "..") or len(name.encode()) > 255:
        return None
    return name


def canonical(raw: Any) -> bytes:
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def digest(raw: Any) -> str:
    return hashlib.sha256(canonical(raw)).hexdigest()


class EvidenceArchive:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self.index = EvidenceIndex(self.root)

    def path_for(self, source: str, day: str) -> Path:
        return self.root / source_dir_name(source) / f"{parse_day(day)}.jsonl.gz"

    def source_dirs(self, source: str) -> list[Path]:
        """The folders holding ``source``'s archive: its hashed folder, and an old-style one if there is one."""
        dirs = [self.root / source_dir_name(source)]
        legacy = _legacy_dir_name(source)
        if legacy is not None:
            d = self.root / legacy
            if d.is_dir() and d.resolve().parent == self.root.resolve():
                dirs.append(d)
        return dirs

    def write(self, posts: Sequence[Post]) -> int:
        """Append the posts' raw payloads; returns how many lines were written."""
        groups: dict[tuple[str, Path], list[bytes]] = defaultdict(list)
        ids: dict[Path, list[str]] = defaultdict(list)
        for p in posts:
            raw = p.raw if p.raw is not None else p.to_dict()
            rec = {"post_id": p.id, "source": p.source, "source_id": p.source_id, "url": p.url,
                   "created_at": p.created_at.isoformat(), "collected_at": p.collected_at.isoformat(),
                   "sha256": digest(raw), "raw": raw}
            line = json.dumps(rec, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
            at = p.collected_at if p.collected_at.tzinfo is None else p.collected_at.astimezone(timezone.utc)
            day = at.date().isoformat()
            groups[(p.source, self.path_for(p.source, day))].append(line)
            ids[self.path_for(p.source, day)].append(p.id)
        with self._lock:
            self.index.ensure()
            for (source, path), lines in groups.items():
                if not path.parent.is_dir():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    (path.parent / NAME_FILE).write_text(source + "\n", encoding="utf-8", errors="surrogatepass")
                member = path.stat().st_size if path.exists() else 0
                with gzip.open(path, "ab", compresslevel=6) as f:
                    f.write(b"".join(lines))
                self.index.add(path, member, ids[path])
        return sum(len(v) for v in groups.values())

    def hook(self, posts: list[Post]) -> None:
        """Pipeline hook (runs after the store or the spool took the batch)."""
        self.write(posts)

    def files(self, source: str | None = None, day: str | None = None) -> list[Path]:
        """The archive's files, oldest day first within each source; ``source``/``day`` narrow the choice."""
        if source:
            dirs = self.source_dirs(source)
        else:
            dirs = sorted(d for d in self.root.glob("*") if d.is_dir())
        pattern = f"{parse_day(day)}.jsonl.gz" if day else "*.jsonl.gz"
        return [f for d in dirs for f in sorted(d.glob(pattern)) if DAY_FILE.match(f.name)]

    def records(self, source: str | None = None) -> Iterator[dict[str, Any]]:
        for f in self.files(source):
            yield from read_file(f)

    def locate(self, post_id: str, source: str | None = None) -> Iterator[tuple[Path, int, dict[str, Any]]]:
        """(file, line number, record) of every archived capture of one post, oldest first."""
        needle = post_id.encode("utf-8")
        for f in self.files(source):
            for n, line in _lines(f):
                if needle in line:  # cheap test before parsing: most lines are other posts
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("post_id") == post_id:
                        yield f, n, rec

    def captures(self, post_id: str) -> list[tuple[Path, int, dict[str, Any]]]:
        """(file, gzip member offset, record) of every capture of one post, found through the index."""
        return self.index.read(post_id)

    def find(self, post_id: str) -> list[dict[str, Any]]:
        """Every archived capture of one post (a post collected twice has two, maybe different)."""
        return [rec for _f, _n, rec in self.locate(post_id)]

    def prune(self, days: int, now: datetime | None = None) -> list[Path]:
        """Remove the day files older than ``days`` days (UTC) and emptied source folders; returns the removed
        files. ``days <= 0`` keeps everything."""
        if days <= 0 or not self.root.is_dir():
            return []
        cut = ((now or datetime.now(timezone.utc)).astimezone(timezone.utc).date() - timedelta(days=days)).isoformat()
        removed: list[Path] = []
        with self._lock:
            for d in sorted(x for x in self.root.iterdir() if x.is_dir()):
                for f in sorted(d.iterdir()):
                    m = DAY_FILE.match(f.name)
                    if m and m.group(1) < cut:
                        f.unlink()
                        removed.append(f)
                if not any(DAY_FILE.match(x.name) for x in d.iterdir()):
                    shutil.rmtree(d, ignore_errors=True)
        self.index.forget(removed)
        return removed


def parse_day(text: str) -> str:
    """``YYYY-MM-DD`` checked (ValueError naming the expected form otherwise)."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the form YYYY-MM-DD") from None


def _lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of the non-blank lines of one archive file."""
    with gzip.open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, line


def read_file(path: str | Path) -> Iterator[dict[str, Any]]:
    for _n, line in _lines(path):
        yield json.loads(line)


def check_file(path: str | Path) -> tuple[int, list[str]]:
    """(payloads checked, problems): each problem names ``file:line`` (a payload that no longer matches its
    sha256, a line that is not JSON) or the file (a damaged gzip stream, e.g. cut off by a crash)."""
    checked, bad = 0, []
    try:
        for n, line in _lines(path):
            try:
                rec = json.loads(line)
            except ValueError:
                bad.append(f"{path}:{n}: 不是 JSON 记录")
                continue
            checked += 1
            if not isinstance(rec, dict) or "sha256" not in rec:
                bad.append(f"{path}:{n}: 缺少 sha256 字段")
            elif digest(rec.get("raw")) != rec["sha256"]:
                bad.append(f"{path}:{n}: 帖子 {rec.get('post_id')} 的原始数据与其 sha256 {rec['sha256']} 不一致（内容已被改动）")
    except (OSError, EOFError, zlib.error) as e:
        bad.append(f"{path}: 第 {checked} 份原始数据之后 gzip 已损坏：{e}")
    return checked, bad


def verify_file(path: str | Path) -> list[str]:
    """Lines whose raw payload no longer matches its sha256 (empty list: the file is intact)."""
    return check_file(path)[1]
