"""Files dropped by other tools (JSONL or CSV), read incrementally, with a field mapping.

Example: a crawler writes ``/data/crawl/*.csv`` with columns 编号,内容,发布时间,作者::

    - name: county-forum-export
      type: files
      path: /data/crawl/*.csv
      encoding: gbk                 # default utf-8-sig (a BOM is dropped)
      mapping: {source_id: 编号, text: 内容, created_at: 发布时间, author: 作者}

or the crawlers' own files as they are: ``item_format: weibo-crawler`` / ``mediacrawler`` / ``jsonfeed`` (see
:mod:`.formats`). weibo-crawler keeps the account only in the path, ``weibo/<昵称>/<uid>.csv``: the folder and file
names become the posts' author and author id. ``constants`` sets fields every item of the source shares
(``{author: 县12345热线, author_type: gov}``); ``author`` / ``author_type`` are shorthands for the same.
``format: json`` reads a whole JSON file (MediaCrawler's JSON array, a JSON Feed, weibo-crawler's ``<uid>.json``)
again whenever it changes, taking only the items after those already read.

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
from .base import AUTHOR_TYPE_CHOICES, CollectResult, Collector, Option
from .formats import FORMATS, feed_items


class FileCollector(Collector):
    kind = "files"
    options = {
        "path": Option(str, "file or glob pattern (e.g. /data/crawl/*.jsonl)", required=True),
        "format": Option(str, "jsonl, csv or json (default: from the file's extension)",
                         choices=("jsonl", "csv", "json")),
        "item_format": Option(str, "shape of each item: desk, weibo-crawler, mediacrawler", default="desk",
                              choices=tuple(FORMATS)),
        "mapping": Option(dict, "desk field -> column/key in the file (e.g. {text: 内容, created_at: 发布时间})",
                          default={}),
        "encoding": Option(str, "file encoding", default="utf-8-sig"),
        "delimiter": Option(str, "CSV delimiter", default=","),
        "constants": Option(dict, "fields every item shares (e.g. {author: 县12345热线, region: 某某县})", default={}),
        "author": Option(str, "author of items that name none (e.g. the office that exports the file)"),
        "author_type": Option(str, "author type of items whose author is not in the account list", default="",
                              choices=AUTHOR_TYPE_CHOICES),
        "platform": Option(str, "platform label of the posts", default=""),
        "max_items": Option(int, "most items read per run (the rest next run)", default=5000),
    }

    @classmethod
    def check_extra(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        from ..models import _post_fields

        out = []
        for opt in ("constants", "mapping"):
            value = options.get(opt)
            for k in value if isinstance(value, dict) else {}:
                if k not in _post_fields():
                    out.append((opt, f"'{k}' 不是帖子字段；可用：{', '.join(_post_fields())}"))
        return out

    def _path_context(self, path: str) -> dict[str, Any]:
        """What the path says about its items: weibo-crawler's ``weibo/<昵称>/<uid>.csv`` names the account."""
        if self.opt("item_format") != "weibo-crawler":
            return {}
        stem = os.path.splitext(os.path.basename(path))[0]
        folder = os.path.basename(os.path.dirname(path))
        if not stem.isdigit():
            return {}
        ctx: dict[str, Any] = {"user_id": stem}
        if folder and folder != stem and folder != "weibo":
            ctx["screen_name"] = folder
        return ctx

    def _convert(self, item: dict[str, Any], where: str, context: dict[str, Any] | None = None) -> Post:
        mapping = self.opt("mapping") or {}
        item2 = {k: item.get(col) for k, col in mapping.items()} if mapping else dict(item)
        constants = dict(self.opt("constants") or {})
        for k in ("author", "author_type"):
            if self.opt(k) and k not in constants:
                constants[k] = self.opt(k)
        if self.opt("item_format") == "desk":
            item2 = {**constants, **{k: v for k, v in item2.items() if v not in (None, "")}}
        elif context:
            item2 = {**context, **item2}
        post = FORMATS[self.opt("item_format")](item2, where, self.name)
        if self.opt("item_format") != "desk":
            for k, v in constants.items():
                if not getattr(post, k, None):
                    setattr(post, k, v)
        post.raw = item
        if self.opt("platform") and not post.platform:
            post.platform = self.opt("platform")
        return self.typer.apply(post)

    def _read(self, path: str, state: dict[str, Any], budget: int) -> tuple[list[Post], dict[str, Any], list[str]]:
        lower = path.lower()
        fmt = self.opt("format") or ("csv" if lower.endswith(".csv") else "json" if lower.endswith(".json")
                                     else "jsonl")
        size = os.path.getsize(path)
        fresh = state.get("size", 0) <= size  # a file that shrank was replaced: read it again
        reader = {"jsonl": self._read_jsonl, "csv": self._read_csv, "json": self._read_json}[fmt]
        posts, new_state, notes, bad = reader(path, state if fresh else {}, budget, self._path_context(path))
        new_state["size"] = size
        if bad and not posts:
            raise CollectorError(self.name, f"{path}: every new line is bad; first: {notes[0]}")
        return posts, new_state, notes

    def _take(self, item: Any, where: str, ctx: dict[str, Any], posts: list[Post], notes: list[str]) -> int:
        """Convert one item into ``posts``; 1 when it was bad (noted), else 0."""
        try:
            if not isinstance(item, dict):
                raise InputError(where, None, "expected a JSON object")
            posts.append(self._convert(item, where, ctx))
            return 0
        except InputError as e:
            notes.append(str(e))
            return 1

    def _read_jsonl(self, path: str, state: dict[str, Any], budget: int,
                    ctx: dict[str, Any]) -> tuple[list[Post], dict[str, Any], list[str], int]:
        posts: list[Post] = []
        notes: list[str] = []
        enc = self.opt("encoding")
        bad = 0
        pos = int(state.get("offset", 0))
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
                    item = json.loads(raw.decode(enc))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    bad += 1
                    notes.append(str(InputError(where, None, f"not JSON in {enc}: {e}")))
                    continue
                bad += self._take(item, where, ctx, posts, notes)
        return posts, {"offset": pos, "line": lineno}, notes, bad

    def _read_csv(self, path: str, state: dict[str, Any], budget: int,
                  ctx: dict[str, Any]) -> tuple[list[Post], dict[str, Any], list[str], int]:
        enc = self.opt("encoding")
        rows_done = int(state.get("rows", 0))
        posts: list[Post] = []
        notes: list[str] = []
        bad = 0
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
            # ragged rows (weibo-crawler's reposts are 2 cells short, originals stop early): missing cells are None
            row = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
            bad += self._take(row, f"{path}:{reader.line_num}", ctx, posts, notes)
        return posts, {"rows": max(n, rows_done)}, notes, bad

    def _read_json(self, path: str, state: dict[str, Any], budget: int,
                   ctx: dict[str, Any]) -> tuple[list[Post], dict[str, Any], list[str], int]:
        """A whole JSON file: an array of items, a JSON Feed, or weibo-crawler's ``{"user", "weibo"}``. A file
        caught half-written (MediaCrawler rewrites its array on every item) waits for the next run."""
        done = int(state.get("items", 0))
        try:
            with open(path, encoding=self.opt("encoding")) as f:
                data = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return [], {"items": done, "size": 0}, [f"{path}: not (yet) a whole JSON file: {e}"], 0
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            items = feed_items(data, path)
        elif isinstance(data, dict) and isinstance(data.get("weibo"), list):
            user = data.get("user") if isinstance(data.get("user"), dict) else {}
            ctx = {**ctx, "user_id": user.get("id"), "screen_name": user.get("screen_name"),
                   "_user_verified": user.get("verified"), "_user_verified_type": user.get("verified_type")}
            items = data["weibo"]
        elif isinstance(data, list):
            items = data
        else:
            raise CollectorError(self.name, f"{path}: expected a JSON array of items, a JSON Feed or "
                                            "weibo-crawler's {\"user\", \"weibo\"}")
        posts: list[Post] = []
        notes: list[str] = []
        bad = 0
        end = min(len(items), done + budget)
        for i in range(done, end):
            bad += self._take(items[i], f"{path}: item {i + 1}", ctx, posts, notes)
        return posts, {"items": max(done, end)}, notes, bad

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
