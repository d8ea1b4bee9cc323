"""``change``: the ``compare_key`` value of the same ``query_key`` changes (ElastAlert's change): an account whose
IP region (属地) or type changes, a topic that moves to another region. The last value is forgotten after
``timeframe`` without a post (a value seen again after that is not a change). ``compare_key`` may list several
fields (any of them changing is a change); ``ignore_null`` (default true) skips posts without the field. A post
older than the last one seen for its key is not compared (a late arrival does not fake a change back)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...models import Post
from ..durations import format_duration
from ..rule import Match, RuleSpec
from .base import RuleType, key_label, ts
from .fields import VALUE_FIELDS, label, rule_error, values

MAX_KEYS = 100_000  # keys remembered; the oldest are forgotten first


class ChangeRule(RuleType):
    name = "change"
    summary = "值变化：同一对象（query_key）的指定字段取值发生变化（如账号 IP 属地变化）"
    OPTIONS = {
        "compare_key": {"anyOf": [{"enum": sorted(VALUE_FIELDS)},
                                  {"type": "array", "items": {"enum": sorted(VALUE_FIELDS)}, "minItems": 1,
                                   "maxItems": 4, "uniqueItems": True}],
                        "description": "the field (or fields) watched for a change"},
        "ignore_null": {"type": "boolean", "description": "posts without the field are not compared (default true)"},
    }
    REQUIRED = ("compare_key",)
    DEFAULTS = {"ignore_null": True}
    MATCH_FIELDS = ("old_value", "new_value", "compare_key")

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        if spec.query_key in ("none", None):
            raise rule_error(spec, "query_key", "change 规则需要 query_key（比较谁的取值变化）")
        ck = self.o["compare_key"]
        self.fields: list[str] = [ck] if isinstance(ck, str) else list(ck)
        self.last: dict[str, tuple[str, float, str]] = {}  # key -> (value, time, post id)
        self._changed: set[str] = set()  # keys whose last value changed since the last save (saved as rows)

    def value(self, post: Post) -> str | None:
        parts = ["、".join(values(post, f)) for f in self.fields]
        if self.o["ignore_null"] and not all(parts):
            return None
        return " / ".join(p or "（空）" for p in parts)

    def on_post(self, post: Post, keys: list[str], now: datetime) -> list[Match]:
        v = self.value(post)
        if v is None:
            return []
        t = ts(post.created_at)
        out = []
        for k in keys:
            old = self.last.get(k)
            if old is not None and t < old[1]:
                continue
            self.last[k] = (v, t, post.id)
            self._changed.add(k)
            if old is None or old[0] == v or t - old[1] > self.spec.timeframe.total_seconds():
                continue
            what = " / ".join(label(f) for f in self.fields)
            out.append(self.match(k, post.created_at, f"{key_label(k)}{what}由「{old[0]}」变为「{v}」"
                                  f"（间隔不超过{format_duration(self.spec.timeframe)}）", [post.id, old[2]], None,
                                  old_value=old[0], new_value=v, compare_key=what))
        if len(self.last) > MAX_KEYS:
            for k, _ in sorted(self.last.items(), key=lambda kv: kv[1][1])[: len(self.last) - MAX_KEYS]:
                del self.last[k]
                self._changed.add(k)
        return out

    def touched_keys(self, post: Post, keys: list[str]) -> list[str]:
        return []  # a change is found in on_post; there is no window condition to check

    def prune(self, now: datetime) -> bool:
        cut = ts(now) - self.spec.timeframe.total_seconds()
        gone = [k for k, v in self.last.items() if v[1] < cut]
        for k in gone:
            del self.last[k]
        self._changed.update(gone)
        return bool(gone)

    def state(self) -> dict[str, Any]:
        return {**self.base_state(), "last": {k: list(v) for k, v in self.last.items()}}

    def load_state(self, data: dict[str, Any]) -> None:
        self.load_base_state(data)
        for k, v in (data.get("last") or {}).items():
            self.last[k] = (str(v[0]), float(v[1]), str(v[2]))
            self._changed.add(k)

    # one row per key, saved as changes (an author-keyed rule remembers many accounts)
    def saved_state(self) -> dict[str, Any]:
        return self.base_state()

    def row_changes(self) -> tuple[dict[str, Any], set[str]]:
        changed = {k: list(self.last[k]) for k in self._changed if k in self.last}
        removed = {k for k in self._changed if k not in self.last}
        self._changed = set()
        return changed, removed

    def load_rows(self, rows: dict[str, Any]) -> None:
        for k, v in rows.items():
            if k not in self.last and isinstance(v, list) and len(v) == 3:
                self.last[k] = (str(v[0]), float(v[1]), str(v[2]))

