"""Sources declared in ``sources/*.yaml``: loaded, validated (errors name file, line and field), built.

A file holds one source (a mapping with ``name`` and ``type``) or several (``sources: [ ... ]``)::

    sources:
      - name: weibo-county            # unique across all files; posts carry it as their ``source``
        type: weibo                   # one of the collector kinds (REGISTRY)
        title: 县域微博关键词         # the name people read on pages and in the CLI (or display_name:)
        cadence: 5m                   # seconds, or "90s" / "5m" / "2h"
        jitter: 30s                   # random delay added to each run (spreads the load)
        enabled: true
        mode: search                  # options of the kind (each kind declares its own)
        keywords: [县医院, 化工厂]
        credentials:
          cookie_env: WEIBO_COOKIE    # secrets come from the environment or a file, not the YAML
        alert_after: 3                # alert when this many runs in a row fail (default: collectors.alert_after)

Common keys are checked here; each kind's own options are checked against its ``options`` declaration
(:class:`~opinion_desk.collectors.base.Option`). Credentials (``cookie``, ``cookie_env``, ``cookie_file``, ``token``...)
are resolved at build time so that ``sources check`` can say which one is missing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..safe_yaml import YAMLLimitError, load_file
from .base import SourceSpec

COMMON_KEYS = {"name", "type", "cadence", "jitter", "enabled", "alert_after", "credentials", "timeout",
               "description", "title", "display_name"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class SourceProblem:
    file: str
    line: int | None
    field: str | None
    reason: str
    source: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" source '{self.source}'" if self.source else ""
        f = f" field '{self.field}':" if self.field else ""
        return f"{where}:{who}{f} {self.reason}"


@dataclass
class SourceSet:
    """What the sources directory declares: the valid specs and every problem found."""

    specs: list[SourceSpec] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def get(self, name: str) -> SourceSpec | None:
        return next((s for s in self.specs if s.name == name), None)


def parse_duration(value: Any) -> float:
    """``300``, ``"90s"``, ``"5m"``, ``"2h"`` -> seconds. Raises ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 300, '90s', '5m', '2h', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"must not be negative: {value!r}")
        return float(value)
    if isinstance(value, str):
        m = DURATION_RE.match(value)
        if m:
            return float(m.group(1)) * UNITS[m.group(2)]
    raise ValueError(f"expected a duration like 300, '90s', '5m', '2h', got {value!r}")


def _line_map(node: yaml.Node) -> dict[str, int]:
    """Line (1-based) of each key of a mapping node, plus '' for the mapping itself."""
    out = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                out[str(k.value)] = k.start_mark.line + 1
                if isinstance(v, yaml.MappingNode):  # nested keys: "credentials.cookie_env"
                    for kk, _vv in v.value:
                        if isinstance(kk, yaml.ScalarNode):
                            out[f"{k.value}.{kk.value}"] = kk.start_mark.line + 1
    return out


def _entries(path: Path) -> tuple[list[tuple[dict[str, Any], dict[str, int]]], list[SourceProblem]]:
    """The source mappings of one file, each with its key -> line map."""
    f = str(path)
    try:  # bounded: size, depth, aliases (opinion_desk.safe_yaml)
        data, root, _raw = load_file(path)
    except YAMLLimitError as e:
        return [], [SourceProblem(f, e.line, None, e.reason)]
    if root is None or data is None:
        return [], []
    if isinstance(data, dict) and "sources" in data:
        items = data["sources"]
        node = next(v for k, v in root.value if getattr(k, "value", None) == "sources")
        if not isinstance(items, list):
            return [], [SourceProblem(f, node.start_mark.line + 1, "sources", "应为信息源列表")]
        extra = sorted(set(data) - {"sources"})
        problems = [SourceProblem(f, root.start_mark.line + 1, k, "未知的顶层键（只能是 'sources'）")
                    for k in extra]
        return [(it, _line_map(n)) for it, n in zip(items, node.value)], problems
    if isinstance(data, dict):
        return [(data, _line_map(root))], []
    return [], [SourceProblem(f, 1, None, "应为一个信息源（映射）或 'sources: [...]'")]


def resolve_credentials(creds: dict[str, Any], base_dir: Path) -> dict[str, str]:
    """``X_env: VAR`` -> the environment variable, ``X_file: path`` -> the file's text, ``X: value`` as is.

    Raises KeyError(field, reason) naming the missing one."""
    out: dict[str, str] = {}
    for k, v in creds.items():
        if k.endswith("_env"):
            val = os.environ.get(str(v))
            if val is None:
                raise KeyError(f"credentials.{k}", f"environment variable {v} is not set")
            out[k[:-4]] = val.strip()
        elif k.endswith("_file"):
            p = Path(os.path.expanduser(str(v)))
            if not p.is_absolute():
                p = base_dir / p
            try:
                out[k[:-5]] = p.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise KeyError(f"credentials.{k}", f"cannot read {p}: {e.strerror or e}") from None
        else:
            out[k] = str(v)
    return out


def check_entry(item: Any, lines: dict[str, int], file: str, base_dir: Path,
                resolve: bool = True) -> tuple[SourceSpec | None, list[SourceProblem]]:
    """Validate one source mapping; returns the spec (None when invalid) and its problems."""
    from . import REGISTRY, collector_class

    line = lines.get("")
    if not isinstance(item, dict):
        return None, [SourceProblem(file, line, None, f"应为映射，收到 {type(item).__name__}")]
    name = item.get("name")
    probs: list[SourceProblem] = []

    def bad(fld: str | None, reason: str) -> None:
        probs.append(SourceProblem(file, lines.get(fld or "", line), fld,
                                   reason, name if isinstance(name, str) else None))

    if not isinstance(name, str) or not NAME_RE.match(name):
        bad("name", f"缺少名称或名称不合法 {name!r}（只能用字母、数字、'-'、'_'、'.'）")
    kind = item.get("type")
    cls = None
    if not isinstance(kind, str) or kind not in REGISTRY:
        bad("type", f"缺少类型或类型未知 {kind!r}；可选：{', '.join(sorted(REGISTRY))}")
    else:
        cls = collector_class(kind)
    durations: dict[str, float] = {}
    for key, default in (("cadence", 300.0), ("jitter", 0.0), ("timeout", 0.0)):
        try:
            durations[key] = parse_duration(item[key]) if key in item else default
        except ValueError as e:
            bad(key, str(e))
    if "cadence" in durations and durations["cadence"] < 10 and item.get("type") != "replay":
        bad("cadence", f"{durations['cadence']:g} 秒对真实网站太频繁（至少 10 秒）")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", f"应为 true 或 false，收到 {enabled!r}")
    alert_after = item.get("alert_after")
    if alert_after is not None and (not isinstance(alert_after, int) or isinstance(alert_after, bool)
                                    or alert_after < 1):
        bad("alert_after", f"应为不小于 1 的整数，收到 {alert_after!r}")
    creds_raw = item.get("credentials") or {}
    creds: dict[str, str] = {}
    if not isinstance(creds_raw, dict):
        bad("credentials", "应为映射，如 {cookie_env: WEIBO_COOKIE}")
    elif resolve and enabled is not False:  # a disabled source may lack its secrets
        try:
            creds = resolve_credentials(creds_raw, base_dir)
        except KeyError as e:
            bad(e.args[0], e.args[1])
    options = {k: v for k, v in item.items() if k not in COMMON_KEYS}
    if cls is not None:
        for fld, reason in cls.check_options(options, creds if resolve and enabled is not False else None):
            bad(fld, reason)
    if probs:
        return None, probs
    spec = SourceSpec(name=name, type=kind, cadence=durations["cadence"], jitter=durations["jitter"],
                      options=options, where=f"{file}:{line}", enabled=enabled, alert_after=alert_after,
                      timeout=durations["timeout"] or None, credentials=creds,
                      description=str(item.get("description") or ""),
                      title=str(item.get("title") or item.get("display_name") or ""))
    return spec, []


def load_sources(sources_dir: str | Path, resolve: bool = True) -> SourceSet:
    """Read every ``*.yaml``/``*.yml`` in ``sources_dir`` (sorted); names must be unique across files."""
    d = Path(sources_dir)
    out = SourceSet()
    if not d.is_dir():
        return out
    files = sorted([*d.glob("*.yaml"), *d.glob("*.yml")])
    seen: dict[str, str] = {}
    for path in files:
        out.files.append(str(path))
        entries, probs = _entries(path)
        out.problems.extend(probs)
        for item, lines in entries:
            spec, probs = check_entry(item, lines, str(path), path.parent, resolve=resolve)
            out.problems.extend(probs)
            if spec is None:
                continue
            if spec.name in seen:
                out.problems.append(SourceProblem(str(path), lines.get("name"), "name",
                                                  f"名称重复（首次声明于 {seen[spec.name]}）",
                                                  spec.name))
                continue
            seen[spec.name] = spec.where
            out.specs.append(spec)
    return out
