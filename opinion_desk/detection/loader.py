"""Load rule files: YAML (never code) -> schema check -> durations and regexes -> a :class:`LoadedRule`.

Every error is a :class:`~opinion_desk.errors.RuleError` naming the file, the line and the field; one bad file
never stops the others (:func:`load_dir` returns the good rules and the list of errors).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from ..errors import RuleError
from ..safe_yaml import Limits, YAMLLimitError, load_file, loads
from . import message
from .durations import parse_duration
from .regex import compile_rule_regex
from .rule import QUERY_KEYS, PostFilter, RuleSpec
from .schema import base_schema, schema_for
from .types import RULE_TYPES
from .types.base import RuleType

DURATION_FIELDS = ("timeframe", "realert", "aggregation", "resolve_after", "exponential_realert")
DEFAULT_TIMEFRAME = timedelta(minutes=10)
LIMITS = Limits(max_bytes=64 * 1024, max_depth=20, max_aliases=50, max_nodes=20_000)  # a rule is a page of YAML
log = logging.getLogger(__name__)


@dataclass
class LoadedRule:
    spec: RuleSpec
    rtype: RuleType
    path: str
    digest: str


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Field path (keys and list indices) -> 1-based line, from the YAML node marks."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            out[path + (key,)] = k.start_mark.line + 1
            _line_map(v, path + (key,), out)
            out[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_map(v, path + (i,), out)
    return out


def _dotted(path: tuple) -> str:
    s = ""
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else (("." if s else "") + str(p))
    return s


_TYPES_ZH = {"integer": "整数", "number": "数字", "string": "文字", "boolean": "true/false", "array": "列表",
             "object": "映射", "null": "空"}


def _schema_message(err: Any) -> str:
    """A schema error in Chinese (field names and allowed values as written in the rule file)."""
    v, val, inst = err.validator, err.validator_value, err.instance
    if v == "additionalProperties":
        extra = sorted(set(inst) - set(err.schema.get("properties", {})))
        return f"未知字段 {', '.join(repr(e) for e in extra)}"
    if v == "type":
        wants = [val] if isinstance(val, str) else list(val)
        want = " 或 ".join(f"{w}（{_TYPES_ZH.get(w, w)}）" for w in wants)
        return f"应为 {want}，实际是 {type(inst).__name__} {inst!r}"
    if v == "enum":
        return f"{inst!r} 不是可选值之一（{', '.join(map(str, val))}）"
    if v == "anyOf" and tuple(err.absolute_path)[-1:] == ("query_key",):
        return f"query_key 取值 {inst!r} 无效：应为一个字段或字段列表（至多 4 个），可用字段：{'、'.join(QUERY_KEYS)}"
    if v == "required":
        missing = [r for r in val if isinstance(inst, dict) and r not in inst]
        return f"缺少必填字段 {', '.join(repr(m) for m in missing)}"
    zh = {"minimum": f"不能小于 {val}", "maximum": f"不能大于 {val}", "exclusiveMinimum": f"须大于 {val}",
          "exclusiveMaximum": f"须小于 {val}", "minLength": f"不能为空（至少 {val} 个字）", "maxLength": f"过长（至多 {val} 个字）",
          "minItems": f"至少要有 {val} 项", "maxItems": f"至多 {val} 项", "uniqueItems": "列表中有重复项",
          "minProperties": f"至少要写 {val} 个字段"}
    if v in zh:
        return f"{inst!r} {zh[v]}" if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") else zh[v]
    return err.message


def parse_rule(text: str, file: str) -> RuleSpec:
    """Parse and check one rule file's text; raises :class:`RuleError`."""
    try:
        data, node = loads(text, file, LIMITS)
    except YAMLLimitError as e:
        raise RuleError(file, e.reason, e.line) from None
    return _check(data, node, file)


def _check(data: Any, node: yaml.Node | None, file: str) -> RuleSpec:
    if node is None or not isinstance(data, dict):
        raise RuleError(file, "规则文件必须是 YAML 映射（name: ...、type: ...）", 1)
    lines = _line_map(node)

    def fail(path: tuple, reason: str) -> RuleError:
        p = path
        while p not in lines and p:
            p = p[:-1]
        return RuleError(file, reason, lines.get(p, 1), _dotted(path) or None)

    for err in Draft202012Validator(base_schema()).iter_errors(data):
        path = tuple(err.absolute_path)
        if err.validator == "enum" and path == ("type",):
            raise fail(path, f"未知的规则类型 {data.get('type')!r}（可用：{', '.join(sorted(RULE_TYPES))}）")
        raise fail(path, _schema_message(err))
    errors = sorted(Draft202012Validator(schema_for(data["type"])).iter_errors(data),
                    key=lambda e: lines.get(tuple(e.absolute_path), 0))
    if errors:
        err = errors[0]
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            path = path + (extra[0],)
        raise fail(path, _schema_message(err))

    durations: dict[str, timedelta | None] = {}
    cls = RULE_TYPES[data["type"]]
    for f in DURATION_FIELDS + cls.DURATION_OPTIONS:
        if f in data:
            try:
                durations[f] = parse_duration(data[f])
            except ValueError as e:
                raise fail((f,), str(e)) from None
    flt = dict(data.get("filter") or {})
    notes: list[str] = []
    for i, rx in enumerate(flt.get("regex") or []):
        try:
            notes += [str(fail(("filter", "regex", i), n)) for n in compile_rule_regex(rx)[1]]
        except ValueError as e:
            raise fail(("filter", "regex", i), str(e)) from None
    for path, reason in message.check(data, tuple(getattr(cls, "MATCH_FIELDS", ()))):
        raise fail(path, reason)
    realert = durations.get("realert") or timedelta(minutes=30)
    if "exponential_realert" in data and durations["exponential_realert"] < realert:
        raise fail(("exponential_realert",), "exponential_realert 是 realert 加倍的上限，不能小于 realert")
    options = {k: v for k, v in data.items() if k in cls.OPTIONS}
    spec = RuleSpec(
        name=data["name"], type=data["type"], file=file,
        timeframe=durations.get("timeframe") or DEFAULT_TIMEFRAME,
        severity=data.get("severity", "medium"),
        channels=list(data.get("channels") or ["dashboard"]),
        query_key=data.get("query_key", "none"),
        realert=durations.get("realert") or timedelta(minutes=30),
        exponential_realert=durations.get("exponential_realert"), message=message.spec_message(data),
        aggregation=durations.get("aggregation"),
        resolve_after=durations.get("resolve_after") or timedelta(minutes=30),
        description=data.get("description", ""),
        duty=dict(data.get("duty") or {}),
        enabled=data.get("enabled", True),
        filter=PostFilter(flt), options=options, raw=data,
        lines={_dotted(k): v for k, v in lines.items() if k}, notes=notes,
    )
    if spec.query_key == "keyword" and data["type"] != "keyword" and not spec.filter.keywords:
        pass  # counts under the post's own top keywords
    return spec


def build(spec: RuleSpec) -> RuleType:
    """The rule type instance of a spec; a type's own check failing is a :class:`RuleError` naming the file."""
    try:
        return RULE_TYPES[spec.type](spec)
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise RuleError(spec.file, f"无法建立 {spec.type} 规则：{e}", spec.lines.get("type", 1)) from None


def load_rule_file(path: str | Path) -> LoadedRule:
    """Load one rule file; every failure — whatever its cause — is a :class:`RuleError` naming the file."""
    p = Path(path)
    try:
        data, node, raw = load_file(p, LIMITS)
        spec = _check(data, node, str(p))
        return LoadedRule(spec=spec, rtype=build(spec), path=str(p), digest=hashlib.sha1(raw).hexdigest())
    except YAMLLimitError as e:
        raise RuleError(str(p), e.reason, e.line) from None
    except RuleError:
        raise
    except (RecursionError, MemoryError):
        raise RuleError(str(p), "规则文件过于复杂，拒绝加载", 1) from None
    except Exception as e:  # a check we lack must still name the file, never stop the desk with a traceback
        log.warning("rule file %s: unexpected %s: %s", p, type(e).__name__, e)
        raise RuleError(str(p), f"无法加载规则（{type(e).__name__}: {e}）", 1) from None


def rule_files(directory: str | Path) -> list[Path]:
    d = Path(directory)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith((".", "_")))


def load_dir(directory: str | Path) -> tuple[dict[str, LoadedRule], list[RuleError]]:
    """Every rule of a directory: the good ones by name, and one error per bad file (duplicate names too)."""
    rules: dict[str, LoadedRule] = {}
    errors: list[RuleError] = []
    for p in rule_files(directory):
        try:
            lr = load_rule_file(p)
        except RuleError as e:
            errors.append(e)
            continue
        if lr.spec.name in rules:
            errors.append(RuleError(str(p), f"规则名 {lr.spec.name!r} 已被 {rules[lr.spec.name].path} 使用",
                                    lr.spec.lines.get("name", 1), "name"))
            continue
        rules[lr.spec.name] = lr
    return rules, errors
