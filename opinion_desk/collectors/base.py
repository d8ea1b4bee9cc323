"""The collector contract: one class per source kind, one file each, one registry (``__init__.py``).

A collector is built from a :class:`SourceSpec` (a validated entry of ``sources/*.yaml``) and asked to
``collect(cursor)``: it returns the new posts and the cursor to persist (last id/time), so that a restart
neither re-floods nor misses. It raises :class:`~opinion_desk.errors.CollectorError` (naming the source) for a
failed run, or :class:`~opinion_desk.errors.SourceAuthError` when its login expired; a run either returns
every post it parsed or fails as a whole: nothing half-parsed is returned.

Each kind declares its options (``options = {name: Option(...)}``); :meth:`Collector.check_options` validates a
source's options against them (unknown keys, types, choices, required ones), so ``opinion-desk sources check``
names the file, line and field of every mistake before anything runs.

Each post's ``raw`` is the payload exactly as collected (the Weibo ``mblog``, the feed entry, the CSV row...):
evidence of what was said, kept in the store and in the evidence archive (:mod:`.evidence`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..models import Post
from .people import AuthorTyper


@dataclass
class SourceSpec:
    name: str
    type: str
    cadence: float = 300.0  # seconds between runs
    jitter: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # file:line of the declaration, for error messages
    enabled: bool = True
    alert_after: int | None = None  # failures in a row that raise an alert (None: the collectors default)
    timeout: float | None = None  # seconds one run may take (None: the collectors default)
    credentials: dict[str, str] = field(default_factory=dict)  # resolved secrets (cookie, token ...)
    description: str = ""
    title: str = ""  # the name a person reads (``title:`` or ``display_name:`` in the YAML), e.g. 青山发布微博
    #: ``[collectors] accounts``: account name or platform id -> author type (gov, media, person, verified)
    accounts: dict[str, str] = field(default_factory=dict)


@dataclass
class CollectResult:
    posts: list[Post]
    cursor: dict[str, Any]
    #: things worth showing on the health page that did not fail the run (an expired WeChat link ...)
    notes: list[str] = field(default_factory=list)


#: the values an ``author_type`` option accepts (``person`` is stored as ``user``)
AUTHOR_TYPE_CHOICES = ("", "gov", "media", "verified", "user", "person")


@dataclass(frozen=True)
class Option:
    """One option a collector kind accepts in its YAML entry."""

    type: type | tuple[type, ...]
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "文本", int: "整数", float: "数字", bool: "true/false", list: "列表", dict: "映射"}
    ts = t if isinstance(t, tuple) else (t,)
    return "或".join(names.get(x, x.__name__) for x in ts)


class Collector(ABC):
    kind: ClassVar[str]
    #: option names this kind requires (kept for kinds that declare no ``options``)
    required: ClassVar[tuple[str, ...]] = ()
    #: the options this kind accepts; ``None`` accepts anything (only ``required`` is checked)
    options: ClassVar[dict[str, Option] | None] = None
    #: credentials this kind needs (names after resolution, e.g. "cookie")
    needs_credentials: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        #: the author type of a post by name/id and platform flags (see :mod:`.people`)
        self.typer = AuthorTyper(spec.accounts, str(spec.options.get("author_type") or ""))

    @property
    def name(self) -> str:
        return self.spec.name

    def opt(self, key: str) -> Any:
        """The option's value, or its declared default."""
        if key in self.spec.options:
            return self.spec.options[key]
        decl = (self.options or {}).get(key)
        return decl.default if decl is not None else None

    @classmethod
    def check_options(cls, options: dict[str, Any], credentials: dict[str, str] | None) -> list[tuple[str, str]]:
        """(field, reason) for each problem in a source's options; ``credentials`` None = not resolved."""
        probs: list[tuple[str, str]] = []
        for k in cls.required:
            if k not in options:
                probs.append((k, f"类型 {cls.kind!r} 必须填写此项"))
        if cls.options is not None:
            for k, v in options.items():
                decl = cls.options.get(k)
                if decl is None:
                    probs.append((k, f"类型 {cls.kind!r} 没有这个选项；可用：{', '.join(sorted(cls.options))}"))
                    continue
                ts = decl.type if isinstance(decl.type, tuple) else (decl.type,)
                if (isinstance(v, bool) and bool not in ts) or not isinstance(v, ts):
                    probs.append((k, f"应为{_type_name(decl.type)}，收到 {v!r}"))
                elif decl.choices and v not in decl.choices:
                    probs.append((k, f"{v!r} 不是可选值之一（可选：{', '.join(map(str, decl.choices))}）"))
            for k, decl in cls.options.items():
                if decl.required and k not in options:
                    probs.append((k, f"类型 {cls.kind!r} 必须填写此项：{decl.doc}"))
        if credentials is not None:
            for c in cls.needs_credentials:
                if not credentials.get(c):
                    probs.append(("credentials", f"类型 {cls.kind!r} 需要 '{c}'（如 credentials: {{{c}_env: VAR}}）"))
        probs.extend(cls.check_extra(options))
        return probs

    @classmethod
    def check_extra(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        """Kind-specific cross-field checks (override)."""
        return []

    @abstractmethod
    def collect(self, cursor: dict[str, Any]) -> CollectResult: ...

    def close(self) -> None:
        """Release sessions and files."""
