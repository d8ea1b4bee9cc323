"""Building posts and rules for detection tests (posts carry analyzer fields set directly)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from opinion_desk.detection.loader import LoadedRule, build, parse_rule
from opinion_desk.models import Post

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=timezone.utc)
_ids = itertools.count()


def post(minute: float, text: str = "帖子", **kw) -> Post:
    kw.setdefault("tokens", [text])
    kw.setdefault("source", "weibo")
    return Post(source_id=str(next(_ids)), text=text, created_at=T0 + timedelta(minutes=minute), **kw)


def rule(yaml_text: str, file: str = "rules/t.yaml") -> LoadedRule:
    spec = parse_rule(yaml_text, file)
    return LoadedRule(spec=spec, rtype=build(spec), path=file, digest="x")
