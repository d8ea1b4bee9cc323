"""The collector contract: one class per source kind, one file each, one registry (``__init__.py``).

A collector is built from a :class:`SourceSpec` (a validated entry of the sources config) and asked to
``collect(cursor)``: it returns the new posts and the cursor to persist (last id/time), so that a restart
neither re-floods nor misses. It raises :class:`~opinion_desk.errors.CollectorError` (naming the source) for a
failed run; nothing half-parsed is returned.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..models import Post


@dataclass
class SourceSpec:
    name: str
    type: str
    cadence: float = 300.0  # seconds between runs
    jitter: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # file:line of the declaration, for error messages


@dataclass
class CollectResult:
    posts: list[Post]
    cursor: dict[str, Any]


class Collector(ABC):
    kind: ClassVar[str]
    #: option names this kind requires (checked before the collector is built)
    required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def collect(self, cursor: dict[str, Any]) -> CollectResult: ...

    def close(self) -> None:
        """Release sessions and files."""
