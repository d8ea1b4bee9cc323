"""A seeded generator of hostile YAML files, grown from real ones (the shipped rules and sources): values swapped
for extreme ones, keys dropped or invented, text cut and spliced, alias bombs and deep nesting."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

WEIRD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**40, 1e308, -1e-308, 0.5, "", " ", "a" * 5000,
    "999999999999d", "1e400", "5 minuts", "0s", "-5m", "1.5h", "5分钟", {"minutes": 5}, {"days": 1e300},
    {"weeks": -1}, {"bogus": 1}, [], [None], [[[]]], {"a": {"b": {"c": {}}}}, "\ud7ff\ue000\U0001f600",
    "(a+)+$", "(a)\\1", "(?=x)", "[", "\\w+", "\\u4e00", "x{1000}{1000}", "\x00", "\u202e", "..", "../../etc",
    ["爆炸", 123, None], {"keywords": "not a list"}, "2024-13-45", "spike", "new_term", "weibo", "replay", "rss",
]
SPLICE = ["[", "]", "{", "}", ": ", "- ", "&a ", "*a", "!!str ", "!!binary ", "\t", '"', "'", "\n", "# ", "%",
          "|", ">", "? ", ",", "<<: *a", "!!python/object:os.system ", "\\", "…", "\ufeff", "&", "*"]


def bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"[:levels + 1]
    for prev, cur in zip(names, names[1:]):
        lines.append(f"{cur}: &{cur} [{','.join('*' + prev for _ in range(9))}]")
    return "\n".join(lines) + "\n"


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _leaves(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _leaves(v, path + (i,))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return data


def _mutate_data(rng: random.Random, data: Any, extra_keys: list[str]) -> Any:
    import copy

    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        leaves = _leaves(data)
        path = rng.choice(leaves)
        r = rng.random()
        if r < 0.6:
            data = _set(data, path, copy.deepcopy(rng.choice(WEIRD_VALUES)))  # never share (or cycle) a value
        elif r < 0.8 and path and isinstance(data, (dict, list)):
            parent = data
            for p in path[:-1]:
                parent = parent[p]
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and parent:
                parent.pop(path[-1] if path[-1] < len(parent) else 0)
        elif isinstance(data, dict):
            data[rng.choice(extra_keys + ["bogus", "名字", ""])] = copy.deepcopy(rng.choice(WEIRD_VALUES))
    return data


def _mutate_text(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(text) + 1)
        r = rng.random()
        if r < 0.4:
            text = text[:i] + rng.choice(SPLICE) + text[i:]
        elif r < 0.6:
            text = text[:i] + text[i + rng.randint(1, 20):]
        elif r < 0.75:
            lines = text.splitlines(keepends=True)
            if lines:
                j = rng.randrange(len(lines))
                lines.insert(j, lines[rng.randrange(len(lines))])
                text = "".join(lines)
        elif r < 0.85:
            text = text[:i]
        else:
            text = text[:i] + rng.choice(["[" * rng.randint(20, 3000), "- " * rng.randint(20, 500), "{a: " * 100]) + text[i:]
    return text


def cases(seed_files: list[Path], n: int, seed: int, extra_keys: list[str]) -> Iterator[tuple[str, str]]:
    """``n`` (name, text) pairs: data-level and text-level mutations of the seeds, and a few bombs."""
    rng = random.Random(seed)
    seeds = [(p.name, p.read_text(encoding="utf-8")) for p in seed_files]
    parsed = [(name, yaml.safe_load(text)) for name, text in seeds]
    for i in range(n):
        name, text = rng.choice(seeds)
        r = rng.random()
        if r < 0.02:
            yield f"{i}-bomb.yaml", bomb(rng.randint(3, 9))
        elif r < 0.04:
            yield f"{i}-deep.yaml", "name: x\ntype: spike\nduty: " + "[" * rng.randint(30, 20000) + "\n"
        elif r < 0.5:
            pname, data = rng.choice(parsed)
            mutated = _mutate_data(rng, data, extra_keys)
            yield f"{i}-{pname}", yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False)
        elif r < 0.95:
            yield f"{i}-{name}", _mutate_text(rng, text)
        else:
            pname, data = rng.choice(parsed)
            yield f"{i}-{pname}", _mutate_text(rng, yaml.safe_dump(_mutate_data(rng, data, extra_keys),
                                                                    allow_unicode=True))
