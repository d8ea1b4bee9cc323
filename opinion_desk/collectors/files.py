"""Files dropped by other tools (JSONL or CSV), read incrementally, with a field mapping.

Example: a crawler writes ``/data/crawl/*.csv`` with columns 编号,内容,发布时间,作者::

    - name: county-forum-export
      type: files
      path: /data/crawl/*.csv
      encoding: gbk                 # default utf-8-sig (a BOM is dropped)
      mapping: {source_id: 编号, text: 内容, created_at: 发布时间, author: 作者}

or the crawlers' own files as they are: ``item_format: weibo-crawler`` / ``mediacrawler`` (see :mod:`.push`).

Cursor: per file, the bytes (JSONL) or rows (CSV) already read, so a file that grows is read from where the last
run stopped; a file that shrank was replaced and is read again. A JSONL line without its newline is still being
written and waits for the next run. A bad line is skipped and noted (file:line, field, reason); a file where
every line is bad fails the run.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from typing import Any

from ..errors import CollectorError, InputError
from ..models import Post
from .base import CollectResult, Collector, Option
from .push import FORMATS


class FileCollector(Collector):
    kind = "files"
    options = {
        "path": Option(str, "file or glob pattern (e.g. /data/crawl/*.jsonl)", required=True),
        "format": Option(str, "jsonl or csv (default: from the file's extension)", choices=("jsonl", "csv")),
        "item_format": Option(str, "shape of each item: desk, weibo-crawler, mediacrawler", default="desk",
                              choices=tuple(FORMATS)),
        "mapping": Option(dict, "desk field -> column/key in the file (e.g. {text: 内容, created_at: 发布时间})",
                          default={}),
        "encoding": Option(str, "file encoding", default="utf-8-sig"),
        "delimiter": Option(str, "CSV delimiter", default=","),
        "platform": Option(str, "platform label of the posts", default=""),
        "max_items": Option(int, "most items read per run (the rest next run)", default=5000),
    }

    def _convert(self, item: dict[str, Any], where: str) -> Post:
        mapping = self.opt("mapping") or {}
        item2 = {k: item.get(col) for k, col in mapping.items()} if mapping else item
        post = FORMATS[self.opt("item_format")](item2, where, self.name)
        post.raw = item
        if self.opt("platform") and not post.platform:
            post.platform = self.opt("platform")
        return post

    def _read(self, path: str, state: dict[str, Any], budget: int) -> tuple[list[Post], dict[str, Any], list[str]]:
        fmt = self.opt("format") or ("csv" if path.lower().endswith(".csv") else "jsonl")
        size = os.path.getsize(path)
        pos = int(state.get("offset", 0)) if state.get("size", 0) <= size else 0
        rows_done = int(state.get("rows", 0)) if state.get("size", 0) <= size else 0
        posts: list[Post] = []
        notes: list[str] = []
        enc = self.opt("encoding")
        bad = 0
        if fmt == "jsonl":
            with open(path, "rb") as f:
                f.seek(pos)
                lineno = int(state.get("line", 0)) if pos else 0
                while len(posts) + bad < budget:
                    raw = f.readline()
                    if not raw or not raw.endswith(b"\n"):
                        break  # end, or a line still being written
                    pos += len(raw)
                    lineno += 1
                    if not raw.strip():
                        continue
                    where = f"{path}:{lineno}"
                    try:
                        try:
                            item = json.loads(raw.decode(enc))
                        except (UnicodeDecodeError, json.JSONDecodeError) as e:
                            raise InputError(where, None, f"not JSON in {enc}: {e}") from None
                        if not isinstance(item, dict):
                            raise InputError(where, None, "expected a JSON object")
                        posts.append(self._convert(item, where))
                    except InputError as e:
                        bad += 1
                        notes.append(str(e))
            new_state = {"size": size, "offset": pos, "line": lineno}
        else:
            with open(path, encoding=enc, newline="", errors="strict") as f:
                try:
                    text = f.read()
                except UnicodeDecodeError as e:
                    raise CollectorError(self.name, f"{path}: not {enc} ({e.reason} at byte {e.start}); "
                                                    "set 'encoding' (e.g. gbk)") from None
            reader = csv.DictReader(io.StringIO(text), delimiter=self.opt("delimiter"))
            n = 0
            for n, row in enumerate(reader, 1):
                if n <= rows_done:
                    continue
                if len(posts) + bad >= budget:
                    n -= 1
                    break
                row = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
                where = f"{path}:{reader.line_num}"
                try:
                    posts.append(self._convert(row, where))
                except InputError as e:
                    bad += 1
                    notes.append(str(e))
            new_state = {"size": size, "rows": max(n, rows_done)}
        if bad and not posts:
            raise CollectorError(self.name, f"{path}: every new line is bad; first: {notes[0]}")
        return posts, new_state, notes

    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        files_state = dict(cursor.get("files") or {})
        paths = sorted(glob.glob(os.path.expanduser(self.opt("path"))))
        posts: list[Post] = []
        notes: list[str] = []
        budget = int(self.opt("max_items"))
        for p in paths:
            if budget <= 0:
                break
            got, st, nn = self._read(p, files_state.get(p, {}), budget)
            posts.extend(got)
            notes.extend(nn)
            budget -= len(got) + len(nn)
            files_state[p] = st
        return CollectResult(posts=posts, cursor={"files": files_state}, notes=notes[:20])
