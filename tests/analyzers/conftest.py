from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data" / "weibo"


@pytest.fixture(scope="session")
def analyzer():
    from analyzers import Analyzer

    return Analyzer().load()


@pytest.fixture(scope="session")
def fixture_posts():
    import json

    with open(HERE / "fixtures" / "posts.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def shared_file(name: str) -> Path:
    p = SHARED / name
    if not p.is_file():
        pytest.skip(f"shared data not present: {p}")
    return p
