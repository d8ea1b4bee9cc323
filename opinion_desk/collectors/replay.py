"""Replays a JSONL file of posts, a few at a time: the demo feed and a stand-in for a live source.

Each run emits the next ``batch`` lines, restamped to now with a fresh id per loop through the file (its
``mid``, ``repost_of`` and ``reply_to`` too), so the dashboard's live feed moves. Cursor: ``{"line": N, "loop": K}``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import CollectorError, InputError
from ..models import Post, utcnow
from .base import CollectResult, Collector

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "posts.jsonl"


class ReplayCollector(Collector):
    kind = "replay"

    def __init__(self, spec):  # noqa: ANN001
        super().__init__(spec)
        self.path = Path(spec.options.get("file") or DEMO_FILE)
        self.batch = int(spec.options.get("batch", 2))
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise CollectorError(spec.name, f"cannot read {self.path}: {e}") from None
        self.items: list[tuple[int, dict[str, Any]]] = []
        for n, line in enumerate(lines, 1):
            if line.strip():
                try:
                    self.items.append((n, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise CollectorError(spec.name, f"{self.path}:{n}: not JSON: {e.msg}") from None
        if not self.items:
            raise CollectorError(spec.name, f"{self.path} holds no posts")

    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        i = int(cursor.get("line", 0))
        loop = int(cursor.get("loop", 0))
        now = utcnow()
        posts: list[Post] = []
        for k in range(self.batch):
            if i >= len(self.items):
                i, loop = 0, loop + 1
            n, item = self.items[i]
            i += 1
            data = dict(item)
            data["created_at"] = (now - timedelta(seconds=self.batch - k)).isoformat()
            data["source_id"] = f"{data.get('source_id', data.get('id', n))}-{loop}"
            for ref in ("mid", "repost_of", "reply_to"):  # each loop's reposts point at that loop's original
                if data.get(ref):
                    data[ref] = f"{data[ref]}-{loop}"
            data.pop("id", None)
            data.setdefault("source", self.name)
            try:
                posts.append(Post.from_dict(data, where=f"{self.path}:{n}", default_source=self.name))
            except InputError as e:
                raise CollectorError(self.name, str(e)) from None
        return CollectResult(posts=posts, cursor={"line": i, "loop": loop})
