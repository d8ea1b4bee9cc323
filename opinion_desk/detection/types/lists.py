"""What ``blacklist`` and ``whitelist`` share: the ``compare_key`` field and a list of values, written in the
rule or kept in a file beside it (``blacklist_file`` / ``whitelist_file``, one value per line, ``#`` comments).

The file is read when the rule loads, and again when it changes (looked at every few seconds as posts arrive; a
broken edit keeps the previous list): only a file inside the rules directory (no absolute path, no ``..`` out
of it), UTF-8 text of at most :data:`MAX_FILE_BYTES` and :data:`MAX_VALUES` values. A problem is a
:class:`RuleError` naming the rule file, the line of the field and the line of the list file.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ...errors import RuleError
from ...models import Post
from ..rule import Match, RuleSpec
from .base import RuleType, key_label
from .fields import VALUE_FIELDS, label, rule_error, values

MAX_FILE_BYTES = 1024 * 1024
RECHECK_SECONDS = 10.0  # how often a list file is looked at for changes
log = logging.getLogger(__name__)
MAX_VALUES = 50_000
COMPARE_KEY = {"enum": sorted(VALUE_FIELDS), "description": "the post field compared with the list"}


def list_options(kind: str) -> dict[str, Any]:
    return {
        "compare_key": COMPARE_KEY,
        kind: {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": MAX_VALUES,
               "description": f"the {kind} values"},
        f"{kind}_file": {"type": "string", "minLength": 1, "maxLength": 200,
                         "description": "a file of values, one per line, relative to the rules directory"},
    }


def read_values(spec: RuleSpec, field: str) -> set[str]:
    """The values of the list file named by ``spec.options[field]``."""
    name = str(spec.options[field])
    line = spec.lines.get(field, 1)

    def fail(reason: str) -> RuleError:
        return RuleError(spec.file, reason, line, field)

    base = Path(spec.file).resolve().parent
    if Path(name).is_absolute():
        raise fail(f"名单文件须写相对规则目录的路径，不能是绝对路径：{name}")
    path = (base / name).resolve()
    if base not in path.parents:
        raise fail(f"名单文件须在规则目录内：{name}")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise fail(f"名单文件不是普通文件：{name}")
        if size > MAX_FILE_BYTES:
            raise fail(f"名单文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）：{name}")
        raw = path.read_bytes()[:MAX_FILE_BYTES]
    except OSError as e:
        raise fail(f"无法读取名单文件 {name}：{e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        row = raw[: e.start].count(b"\n") + 1
        raise fail(f"名单文件 {name} 第 {row} 行不是 UTF-8 文本") from None
    out: set[str] = set()
    for row, ln in enumerate(text.splitlines(), 1):
        v = ln.split("#", 1)[0].strip() if not ln.lstrip().startswith("#") else ""
        if not v:
            continue
        if len(v) > 300:
            raise fail(f"名单文件 {name} 第 {row} 行过长（{len(v)} 字，上限 300）")
        out.add(v)
        if len(out) > MAX_VALUES:
            raise fail(f"名单文件 {name} 超过 {MAX_VALUES} 个值（第 {row} 行）")
    return out


class ListRule(RuleType):
    """Compare ``compare_key`` with a list; each post that :meth:`hit` s is a match at once. The alert's key is
    the rule's ``query_key`` value, or the compared value when the rule has none (one alert per listed account)."""

    kind: ClassVar[str] = ""
    windowed = False

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        if self.kind not in self.o and f"{self.kind}_file" not in self.o:
            raise rule_error(spec, self.kind, f"{self.kind} 规则需要 {self.kind}（值列表）或 {self.kind}_file（名单文件）")
        self.inline: set[str] = {str(v).strip() for v in self.o.get(self.kind) or []}
        self.values = set(self.inline)
        self._file_sig: tuple[float, int] | None = None
        self._checked = time.monotonic()
        if f"{self.kind}_file" in self.o:
            self._file_sig = self._sig()
            self.values |= read_values(spec, f"{self.kind}_file")
        self.field = self.o["compare_key"]

    def _sig(self) -> tuple[float, int] | None:
        try:
            st = (Path(self.spec.file).resolve().parent / str(self.o[f"{self.kind}_file"])).stat()
            return (st.st_mtime, st.st_size)
        except OSError:
            return None

    def refresh(self) -> None:
        """Re-read the list file when it changed (checked at most every :data:`RECHECK_SECONDS`); a broken edit
        keeps the previous list and is logged."""
        if self._file_sig is None and f"{self.kind}_file" not in self.o:
            return
        if time.monotonic() - self._checked < RECHECK_SECONDS:
            return
        self._checked = time.monotonic()
        sig = self._sig()
        if sig == self._file_sig:
            return
        self._file_sig = sig
        try:
            self.values = self.inline | read_values(self.spec, f"{self.kind}_file")
            log.info("rule %s: %s reloaded (%d values)", self.spec.name, self.o[f"{self.kind}_file"], len(self.values))
        except RuleError as e:
            log.warning("名单文件有误，继续使用上一版本：%s", e)

    def hit(self, found: list[str]) -> list[str]:
        """The compared values that make the post a match (none: no match)."""
        raise NotImplementedError

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        self.refresh()
        hits = self.hit(values(post, self.field))
        if not hits:
            return []
        shown = "、".join(hits[:5])
        reason = f"{label(self.field)}「{shown}」{self.verb}"
        keyed = keys if self.spec.query_key not in ("none", None) else [hits[0]]
        return [self.match(k, post.created_at, f"{key_label(k) if k != hits[0] else ''}{reason}", [post.id], 1,
                           compare_key=self.field, compare_value=shown) for k in keyed]

    verb: ClassVar[str] = ""
