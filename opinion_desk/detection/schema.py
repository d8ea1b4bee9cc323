"""The JSON Schema of a rule file, built from the common fields and each rule type's ``OPTIONS``.

:func:`rule_schema` is the whole published schema (``rules/schema.json``, for editors and reviewers);
:func:`schema_for` is the schema of one type (the loader validates against it, so an unknown field is named).
``opinion-desk rules schema`` writes the published file; a test keeps it in step with the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .rule import MAX_QUERY_KEYS, QUERY_KEYS, SEVERITIES
from .types import RULE_TYPES
from .types.base import DURATION

STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}

FILTER = {
    "type": "object",
    "additionalProperties": False,
    "description": "which posts the rule looks at; every given condition must hold, a list means any of",
    "properties": {
        "keywords": {**STRINGS, "description": "any of these words (jieba-aware)"},
        "all_keywords": {**STRINGS, "description": "all of these words"},
        "exclude": {**STRINGS, "description": "none of these words"},
        "regex": {**STRINGS, "description": "any of these regular expressions over title and text"},
        "sources": {**STRINGS, "description": "source names"},
        "platforms": {**STRINGS, "description": "weibo, wechat, news, web ..."},
        "topics": {**STRINGS, "description": "topic ids or labels"},
        "regions": {**STRINGS, "description": "regions"},
        "author_types": {"type": "array", "items": {"enum": ["gov", "media", "verified", "user", ""]}},
        "sentiment": {"type": "array", "items": {"enum": ["neg", "neutral", "pos"]}},
        "min_rumour_score": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

COMMON: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "description": "the rule's name, shown in every alert"},
    "type": {"enum": sorted(RULE_TYPES), "description": "rule type"},
    "description": {"type": "string"},
    "enabled": {"type": "boolean"},
    "severity": {"enum": list(SEVERITIES), "description": "low 一般 / medium 较大 / high 重大 / critical 特别重大"},
    "channels": {**STRINGS, "description": "channel names (dashboard, and those defined by the admin)"},
    "query_key": {"anyOf": [{"enum": list(QUERY_KEYS)},
                            {"type": "array", "items": {"enum": list(QUERY_KEYS)}, "minItems": 1,
                             "maxItems": MAX_QUERY_KEYS, "uniqueItems": True}],
                  "description": "count separately per this post field, or per combination of a list of fields"},
    "timeframe": DURATION,
    "realert": DURATION,
    "exponential_realert": {**DURATION, "description": "while the rule keeps firing, realert doubles up to this"},
    "alert_subject": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "message title; {0} {1} from alert_subject_args, or {count} {key} {rule} ..."},
    "alert_subject_args": {**STRINGS, "maxItems": 10, "description": "match fields for {0} {1} ... of alert_subject"},
    "alert_text": {"type": "string", "minLength": 1, "maxLength": 2000,
                   "description": "message text (replaces the reason); {0} from alert_text_args, or named fields"},
    "alert_text_args": {**STRINGS, "maxItems": 10, "description": "match fields for {0} {1} ... of alert_text"},
    "aggregation": DURATION,
    "resolve_after": DURATION,
    "filter": FILTER,
    "duty": {
        "type": "object",
        "description": "free text for the duty officer: what to check, who owns it",
        "properties": {"check": {"type": "string"}, "owner": {"type": "string"}, "contact": {"type": "string"},
                       "notes": {"type": "string"}},
        "additionalProperties": {"type": "string"},
    },
}
REQUIRED = ["name", "type"]


def schema_for(type_name: str) -> dict[str, Any]:
    cls = RULE_TYPES[type_name]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {**COMMON, **cls.OPTIONS},
        "required": REQUIRED + list(cls.REQUIRED),
        "additionalProperties": False,
    }


def base_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {"name": COMMON["name"], "type": COMMON["type"]}, "required": REQUIRED}


def rule_schema() -> dict[str, Any]:
    """The published schema: the common fields, then each type's own fields under ``if type == ...``."""
    every = set(COMMON)
    for cls in RULE_TYPES.values():
        every |= set(cls.OPTIONS)
    branches = []
    for name, cls in sorted(RULE_TYPES.items()):
        branches.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"description": cls.summary, "properties": dict(cls.OPTIONS),
                     "required": list(cls.REQUIRED),
                     "propertyNames": {"enum": sorted(set(COMMON) | set(cls.OPTIONS))}},
        })
    props: dict[str, Any] = dict(COMMON)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://opinion-desk.example/rules/schema.json",
        "title": "舆情值班台 rule file",
        "type": "object",
        "properties": props,
        "required": REQUIRED,
        "propertyNames": {"enum": sorted(every)},
        "allOf": branches,
    }


def write_schema(path: str | Path) -> Path:
    p = Path(path)
    p.write_text(json.dumps(rule_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return p
