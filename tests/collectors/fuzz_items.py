"""A seeded generator of ingest items, good and bad, for the fuzz tests of the push API and the file import.

Every bad item carries exactly one known defect and the field the desk must name for it (None where the item is
not an object or cannot be read at all). Good items are unique by id and always acceptable.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

WORDS = ["青山县", "暴雨", "积水", "人民路", "学校", "食堂", "化工厂", "爆炸", "官方", "通报", "网友", "视频", "😀", "救援",
         "交通", "管制", "医院", "停电", "谣言", "辟谣", "ABC", "123", "#话题#", "@某人", "\u200b", "é", "𠀋"]


def good_item(rng: random.Random, n: int) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    item: dict[str, Any] = {"id": f"good-{n}", "text": "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))),
                            "created_at": (now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))).isoformat()}
    if rng.random() < 0.5:
        item["title"] = "".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8)))
    if rng.random() < 0.5:
        item["author"] = rng.choice(["网友甲", "青山发布", "", "a" * 200])
    if rng.random() < 0.3:
        item["reposts"] = rng.choice([0, 1, 2**31 - 1, "12"])
    if rng.random() < 0.3:
        item["raw"] = {"k": [1, 2.5, None, True, {"深": "值"}], "s": "原文😀"}
    if rng.random() < 0.2:
        item["created_at"] = int((now - timedelta(days=rng.randint(0, 300))).timestamp())
    return item


def _deep(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = [v]
    return v


# defect -> (field the error must name, function of the item that introduces it)
DEFECTS: list[tuple[str | None, Any]] = [
    ("text", lambda it: it.pop("text")),
    ("text", lambda it: it.update(text="")),
    ("text", lambda it: it.update(text=123)),
    ("text", lambda it: it.update(text="x\ud800y")),
    ("text", lambda it: it.update(text="a" * 2_000_001)),  # a 2 MB unbroken token
    ("created_at", lambda it: it.update(created_at="0001-01-01T00:00:00")),
    ("created_at", lambda it: it.update(created_at="0999-12-31T00:00:00Z")),
    ("created_at", lambda it: it.update(created_at="3000-01-01T00:00:00Z")),
    ("created_at", lambda it: it.update(created_at=(datetime.now(timezone.utc) + timedelta(days=70)).isoformat())),
    ("created_at", lambda it: it.update(created_at="1999-12-01T00:00:00Z")),
    ("created_at", lambda it: it.update(created_at=float("inf"))),
    ("created_at", lambda it: it.update(created_at=float("nan"))),
    ("created_at", lambda it: it.update(created_at=10**20)),
    ("created_at", lambda it: it.update(created_at=-1e20)),
    ("created_at", lambda it: it.update(created_at="下午三点")),
    ("created_at", lambda it: it.update(created_at={"t": 1})),
    ("reposts", lambda it: it.update(reposts=3_000_000_000)),
    ("reposts", lambda it: it.update(reposts=-5)),
    ("likes", lambda it: it.update(likes="很多")),
    ("comments", lambda it: it.update(comments=float("inf"))),
    ("comments", lambda it: it.update(comments=float("nan"))),
    ("likes", lambda it: it.update(likes=[1])),
    ("title", lambda it: it.update(title=123)),
    ("title", lambda it: it.update(title=["a"])),
    ("title", lambda it: it.update(title="题" * 5000)),
    ("title", lambda it: it.update(title="\udfff")),
    ("author", lambda it: it.update(author={"a": 1})),
    ("author", lambda it: it.update(author="长" * 40_000)),
    ("author", lambda it: it.update(author="\ud83d")),
    ("url", lambda it: it.update(url="http://x/" + "u" * 40_000)),
    ("url", lambda it: it.update(url=5)),
    ("source_id", lambda it: it.update(id="\ud800")),
    ("source_id", lambda it: it.update(id={"x": 1})),
    ("source_id", lambda it: it.update(id=True)),
    ("source_id", lambda it: it.update(id="i" * 600)),
    ("source", lambda it: it.update(source="\udc00src")),
    ("source", lambda it: it.update(source=123)),
    ("raw", lambda it: it.update(raw="not an object")),
    ("raw", lambda it: it.update(raw=[1, 2])),
    ("raw", lambda it: it.update(raw={"deep": _deep(100)})),
    ("raw", lambda it: it.update(raw={"bad\ud800key": 1})),
    ("raw", lambda it: it.update(raw={"v": "\udfff"})),
    ("raw", lambda it: it.update(raw={"n": float("nan")})),
    ("raw", lambda it: it.update(raw={"n": 10**30})),
    ("collected_at", lambda it: it.update(collected_at="3000-01-01T00:00:00Z")),
    ("region", lambda it: it.update(region=["北京"])),
    ("platform", lambda it: it.update(platform={"p": 1})),
]
NOT_OBJECTS: list[Any] = [5, "字符串", None, [], [{"text": "x"}], 1.5, True]


def bad_item(rng: random.Random, n: int) -> tuple[Any, str | None, str]:
    """(item, field the error must name, label of the defect)."""
    if rng.random() < 0.1:
        v = rng.choice(NOT_OBJECTS)
        return v, None, f"not an object: {v!r}"
    i = rng.randrange(len(DEFECTS))
    field, defect = DEFECTS[i]
    item = good_item(rng, n)
    item["id"] = f"bad-{n}"
    defect(item)
    return item, field, f"defect #{i} ({field})"


def batch(rng: random.Random, start: int, size: int, bad_share: float = 0.4
          ) -> tuple[list[Any], dict[int, tuple[str | None, str]], list[str]]:
    """A mixed batch: the items, index -> (field, label) of the bad ones, and the good items' ids."""
    items: list[Any] = []
    bad: dict[int, tuple[str | None, str]] = {}
    good: list[str] = []
    for k in range(size):
        n = start + k
        if rng.random() < bad_share:
            item, field, label = bad_item(rng, n)
            bad[len(items)] = (field, label)
        else:
            item = good_item(rng, n)
            good.append(item["id"])
        items.append(item)
    return items, bad, good


def dumps(obj: Any) -> str:
    """JSON as a crawler might send it: NaN/Infinity literals allowed, lone surrogates as \\u escapes."""
    return json.dumps(obj, ensure_ascii=True, allow_nan=True)
