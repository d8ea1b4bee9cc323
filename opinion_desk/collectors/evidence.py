"""The evidence archive: the raw payload of every collected post, kept on disk as it was collected.

Posts get deleted within hours, and an incident needs proof of what was said. The raw payload lives in two
places on purpose:

- ``Post.raw`` in the post store (both backends keep it): what the desk shows next to the post;
- this archive: append-only gzip JSONL, one file per source per day (UTC) under ``data_dir/evidence``::

      evidence/<source>/<YYYY-MM-DD>.jsonl.gz

  one line per post: ``{"post_id", "source", "source_id", "url", "created_at", "collected_at", "sha256", "raw"}``
  where ``sha256`` is the hash of the canonical JSON of ``raw`` (sorted keys, UTF-8, no spaces), so a copy
  handed to someone can be checked against the archive (:func:`verify_file`). Each write appends one gzip member
  (concatenated members are one valid gzip file), so a crash loses at most the batch being written. The archive
  does not depend on the store: it is written even while Elasticsearch is down. Old days are removed by the
  office's own retention (plain files; ``find -mtime``).

The pipeline calls :meth:`EvidenceArchive.hook` for every batch that reached the store or the spool, so pushed
and imported posts are archived like collected ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..models import Post

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")


def canonical(raw: Any) -> bytes:
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def digest(raw: Any) -> str:
    return hashlib.sha256(canonical(raw)).hexdigest()


class EvidenceArchive:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def path_for(self, source: str, day: str) -> Path:
        return self.root / SAFE_NAME.sub("_", source) / f"{day}.jsonl.gz"

    def write(self, posts: Sequence[Post]) -> int:
        """Append the posts' raw payloads; returns how many lines were written."""
        groups: dict[Path, list[bytes]] = defaultdict(list)
        for p in posts:
            raw = p.raw if p.raw is not None else p.to_dict()
            rec = {"post_id": p.id, "source": p.source, "source_id": p.source_id, "url": p.url,
                   "created_at": p.created_at.isoformat(), "collected_at": p.collected_at.isoformat(),
                   "sha256": digest(raw), "raw": raw}
            line = json.dumps(rec, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
            groups[self.path_for(p.source, p.collected_at.strftime("%Y-%m-%d"))].append(line)
        with self._lock:
            for path, lines in groups.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                with gzip.open(path, "ab", compresslevel=6) as f:
                    f.write(b"".join(lines))
        return sum(len(v) for v in groups.values())

    def hook(self, posts: list[Post]) -> None:
        """Pipeline hook (runs after the store or the spool took the batch)."""
        self.write(posts)

    def records(self, source: str | None = None) -> Iterator[dict[str, Any]]:
        dirs = [self.root / SAFE_NAME.sub("_", source)] if source else sorted(self.root.glob("*"))
        for d in dirs:
            for f in sorted(d.glob("*.jsonl.gz")):
                yield from read_file(f)

    def find(self, post_id: str) -> list[dict[str, Any]]:
        """Every archived capture of one post (a post collected twice has two, maybe different)."""
        return [r for r in self.records() if r.get("post_id") == post_id]


def read_file(path: str | Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rb") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def verify_file(path: str | Path) -> list[str]:
    """Lines whose raw payload no longer matches its sha256 (empty list: the file is intact)."""
    bad = []
    for n, rec in enumerate(read_file(path), 1):
        if digest(rec.get("raw")) != rec.get("sha256"):
            bad.append(f"{path}:{n}: post {rec.get('post_id')} does not match its sha256")
    return bad
