"""Per-rule message templates, as ElastAlert2's ``alert_subject`` / ``alert_text`` with ``*_args``.

A template is ``str.format`` text: ``{0}`` ``{1}`` take the rule's ``alert_text_args`` (or ``alert_subject_args``)
in order, and a name in braces takes that field of the match directly: ``{count}`` ``{key}`` ``{rule}``
``{samples[0].text}``. It is never handed to :meth:`str.format`: :func:`parse` reads it with
:class:`string.Formatter` and every field is looked up here, in plain dicts and lists of the match (no attribute
access, no ``!r`` conversions; a format spec only of the ``>8`` / ``.1f`` / ``.0%`` kind), so a rule file cannot
reach into objects or ask for a ten-million-character padding. Unknown fields are refused when the rule loads
(:func:`check`, the error names the file, line and field); a field the match lacks renders as ``<缺失>`` (ElastAlert's
``<MISSING VALUE>``). The rendered text is escaped and defanged by each channel exactly like the default text.
"""

from __future__ import annotations

import re
import string
from typing import Any

MISSING = "<缺失>"
MAX_VALUE = 300  # characters of one rendered field
MAX_SUBJECT = 200
MAX_TEXT = 2000
SAMPLES = 3  # posts a message carries (alerting/dispatch.py fetches the first three)
# the fields of every match; a rule type adds its own (``MATCH_FIELDS``, e.g. metric_value, old_value)
COMMON_FIELDS = {
    "rule": "规则名", "key": "query_key 的取值", "count": "并入本告警的匹配次数", "value": "触发值",
    "reason": "默认告警说明", "severity": "级别（中文）", "type": "规则类型", "time": "首次匹配时间",
    "last_time": "最近匹配时间", "description": "规则说明", "samples": "样例帖子（samples[0] ~ samples[2]）",
}
POST_FIELDS = ("id", "text", "title", "author", "source", "platform", "url", "sentiment_label", "rumour_score",
               "created_at")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\[\d{1,3}\]|\.[A-Za-z_][A-Za-z0-9_]*")
_SPEC = re.compile(r"(?:[<>^]?\d{1,2})?(?:\.\d)?[fd%]?")
PAIRS = (("alert_subject", "alert_subject_args"), ("alert_text", "alert_text_args"))
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")


def _steps(path: str) -> list[str | int]:
    """``samples[0].text`` -> ``["samples", 0, "text"]``; ValueError when it is not a plain path."""
    parts = _PATH.findall(path)
    if not path or "".join(parts) != path or parts[0].startswith(("[", ".")):
        raise ValueError(f"字段 {path!r} 写法无效（只能是名称、.名称 与 [序号]，如 samples[0].text）")
    return [int(p[1:-1]) if p.startswith("[") else p.lstrip(".") for p in parts]


def check_path(path: str, fields: set[str]) -> None:
    """A field path the match can have: a known name, and under ``samples[i]`` a post field."""
    steps = _steps(path)
    root = steps[0]
    if root not in fields:
        raise ValueError(f"未知字段 {root!r}（可用：{'、'.join(sorted(fields))}）")
    if root == "samples":
        if len(steps) != 3 or not isinstance(steps[1], int) or not isinstance(steps[2], str):
            raise ValueError(f"样例帖子的写法是 samples[序号].字段，如 samples[0].text（{path!r}）")
        if steps[1] >= SAMPLES:
            raise ValueError(f"消息只带前 {SAMPLES} 条样例帖子：samples[{steps[1]}] 超出范围")
        if steps[2] not in POST_FIELDS:
            raise ValueError(f"帖子没有字段 {steps[2]!r}（可用：{'、'.join(POST_FIELDS)}）")
    elif len(steps) > 1:
        raise ValueError(f"字段 {root!r} 没有下级字段（{path!r}）")


def parse(template: str) -> list[tuple[str, str | None, str]]:
    """(literal text, field name or None, format spec) pieces; ValueError (Chinese) on a refused form."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"模板格式错误：{e}（字面的花括号请写成 {{{{ 和 }}}}）") from None
    out = []
    for literal, name, spec, conv in pieces:
        if name is not None:
            if conv:
                raise ValueError(f"不支持转换 !{conv}（{{{name}!{conv}}}）")
            if spec and not _SPEC.fullmatch(spec):
                raise ValueError(f"不支持的格式 {spec!r}（{{{name}:{spec}}}；可用如 >8、.1f、.0%）")
            if "{" in (spec or ""):
                raise ValueError(f"格式中不能再嵌套字段（{{{name}:{spec}}}）")
        out.append((literal, name, spec or ""))
    return out


def check(data: dict[str, Any], type_fields: tuple[str, ...] = ()) -> list[tuple[tuple, str]]:
    """The problems of a rule's templates as (field path in the rule file, Chinese reason)."""
    fields = set(COMMON_FIELDS) | set(type_fields)
    problems: list[tuple[tuple, str]] = []
    for tkey, akey in PAIRS:
        args = list(data.get(akey) or [])
        for i, a in enumerate(args):
            try:
                check_path(a, fields)
            except ValueError as e:
                problems.append(((akey, i), str(e)))
        if akey in data and tkey not in data:
            problems.append(((akey,), f"有 {akey} 却没有 {tkey}"))
        if tkey not in data:
            continue
        try:
            pieces = parse(data[tkey])
        except ValueError as e:
            problems.append(((tkey,), str(e)))
            continue
        auto = 0
        for _lit, name, _spec in pieces:
            if name is None:
                continue
            if name == "" or name.isdigit():
                idx = auto if name == "" else int(name)
                auto += name == ""
                if idx >= len(args):
                    problems.append(((tkey,), f"{{{name}}} 需要 {akey} 至少 {idx + 1} 项（现有 {len(args)} 项）"))
                continue
            try:
                check_path(name, fields)
            except ValueError as e:
                problems.append(((tkey,), str(e)))
    return problems


def lookup(ctx: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in plain dicts and lists, or None."""
    try:
        steps = _steps(path)
    except ValueError:
        return None
    cur: Any = ctx
    for s in steps:
        if isinstance(s, int) and isinstance(cur, list) and 0 <= s < len(cur):
            cur = cur[s]
        elif isinstance(s, str) and isinstance(cur, dict) and s in cur:
            cur = cur[s]
        else:
            return None
    return cur


def _text(value: Any, spec: str) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        value = "是" if value else "否"
    if spec and isinstance(value, (int, float)):
        try:
            return format(value, spec)
        except ValueError:
            pass
    if isinstance(value, float) and not spec:
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        value = "、".join(str(v) for v in value)
    elif isinstance(value, dict):
        return MISSING
    s = str(value)[:MAX_VALUE]
    if spec and not spec[-1:] in ("f", "d", "%"):
        try:
            return format(s, spec)
        except ValueError:
            return s
    return s


def render(template: str, args: list[str], ctx: dict[str, Any], limit: int = MAX_TEXT) -> str:
    """The template filled from ``ctx``; a refused template (a rule checked before this can't have one) is
    returned as written."""
    try:
        pieces = parse(template)
    except ValueError:
        return template[:limit]
    out: list[str] = []
    auto = 0
    for literal, name, spec in pieces:
        out.append(literal)
        if name is None:
            continue
        if name == "" or name.isdigit():
            idx = auto if name == "" else int(name)
            auto += name == ""
            value = lookup(ctx, args[idx]) if idx < len(args) else None
        else:
            value = lookup(ctx, name)
        out.append(_text(value, spec))
    return "".join(out)[:limit]


def context(alert: dict[str, Any], posts: list[dict[str, Any]], when: Any = None) -> dict[str, Any]:
    """The fields a template reads, from an alert's dict (``Alert.to_dict``) and its sample posts.
    ``when`` formats a stored time for people (the desk's zone); the time is left as stored without it."""
    fmt = when or (lambda v: v)
    ctx: dict[str, Any] = {k: v for k, v in (alert.get("details") or {}).items() if isinstance(k, str)}
    ctx.update(rule=alert.get("rule"), key=alert.get("key"), count=alert.get("count"), value=alert.get("value"),
               reason=alert.get("reason"), severity=alert.get("severity_zh") or alert.get("severity"),
               type=alert.get("rule_type"), time=fmt(alert.get("first_match")), last_time=fmt(alert.get("last_match")),
               description=alert.get("description"),
               samples=[{f: p.get(f) for f in POST_FIELDS} for p in posts[:SAMPLES]])
    return ctx


def render_message(message: dict[str, Any], alert: dict[str, Any], posts: list[dict[str, Any]],
                   when: Any = None) -> dict[str, str]:
    """``{"subject": ..., "text": ...}`` for the templates a rule has (either may be absent)."""
    if not message:
        return {}
    ctx = context(alert, posts, when)
    out = {}
    if message.get("alert_subject"):
        subject = render(message["alert_subject"], list(message.get("alert_subject_args") or []), ctx, MAX_SUBJECT)
        out["subject"] = _CONTROL.sub(" ", subject)  # one line: an e-mail Subject refuses CR and LF
    if message.get("alert_text"):
        text = render(message["alert_text"], list(message.get("alert_text_args") or []), ctx, MAX_TEXT)
        out["text"] = _CONTROL_BUT_NEWLINE.sub(" ", text.replace("\r\n", "\n"))
    return out


def spec_message(data: dict[str, Any]) -> dict[str, Any]:
    """The template fields of a rule file's data."""
    return {k: data[k] for pair in PAIRS for k in pair if k in data}


def for_alert(message: dict[str, Any], alert: dict[str, Any], posts: list[dict[str, Any]], tz: Any) -> dict[str, str]:
    """The rendered subject and text of an alert (kept in its details as ``message``), times in the desk's zone."""
    if not message:
        return {}
    from .. import timefmt

    return render_message(message, alert, posts, lambda v: timefmt.fmt(v, tz, "%Y-%m-%d %H:%M", empty=""))
