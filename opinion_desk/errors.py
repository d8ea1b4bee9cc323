"""The desk's exception tree.

Every error the desk raises on purpose derives from :class:`DeskError` and carries what a person needs to
fix it (the file, line, field, source or rule by name)::

    DeskError
    ├── ConfigError           bad config file or environment override (names the file and the field)
    ├── InputError            one bad input item: a JSONL line, an ingest item, a CSV row (names line/index + field)
    ├── StateError            the state database cannot be used as it is (names the table and column)
    ├── StoreError            the post store failed
    │   └── StoreUnavailable  the store cannot be reached right now (posts go to the spool)
    ├── ESNodeError           the local Elasticsearch node could not be fetched, started or stopped
    ├── AnalysisError         a post could not be analysed (names the post and the reason)
    ├── CollectorError        a source failed (names the source); the other sources go on
    │   └── SourceAuthError   the source's login/cookie expired or was refused
    ├── RuleError             a rule file is invalid (names the file, line and field)
    ├── DeliveryError         an alert channel failed to deliver (names the channel)
    ├── BriefingError         a 舆情简报 cannot be made as asked (names the field: day, week, from, to, ...)
    └── IncidentError         an incident action was refused (wrong state, role, or a concurrent change)
        ├── ConflictError     someone else changed the incident first
        └── PublishError      a platform refused a publication, or the account is not connected
                              (opinion_desk/incidents/publish: the platform's code, a Chinese reason, an admin detail)
"""

from __future__ import annotations


class DeskError(Exception):
    """Base class of every error the desk raises on purpose."""


class ConfigError(DeskError):
    """The configuration is invalid. ``problems`` lists every problem found, each naming its field."""

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.problems))


class InputError(DeskError):
    """One input item is bad. ``where`` is e.g. ``"posts.jsonl:12"`` or ``"items[3]"``."""

    def __init__(self, where: str, field: str | None, reason: str) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        f = f" field '{field}':" if field else ""
        super().__init__(f"{where}:{f} {reason}")

    def to_dict(self) -> dict[str, str | None]:
        return {"where": self.where, "field": self.field, "reason": self.reason}


class StateError(DeskError):
    """The state database cannot be used as it is (e.g. an upgrade it cannot do by itself)."""


class StoreError(DeskError):
    """The post store failed."""


class StoreUnavailable(StoreError):
    """The post store cannot be reached right now; callers spool and retry."""


class ESNodeError(DeskError):
    """The local Elasticsearch node could not be fetched, started or stopped."""


class AnalysisError(DeskError):
    """A post could not be analysed."""


class CollectorError(DeskError):
    """A source failed; ``source`` names it."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"source '{source}': {reason}")


class SourceAuthError(CollectorError):
    """The source's login (cookie, token) expired or was refused."""


class RuleError(DeskError):
    """A rule file is invalid."""

    def __init__(self, file: str, reason: str, line: int | None = None, field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        where = file + (f":{line}" if line else "")
        f = f" field '{field}':" if field else ""
        super().__init__(f"{where}:{f} {reason}")


class DeliveryError(DeskError):
    """An alert channel failed to deliver."""

    def __init__(self, channel: str, reason: str, retryable: bool = True) -> None:
        self.channel = channel
        self.reason = reason
        self.retryable = retryable
        super().__init__(f"channel '{channel}': {reason}")


class BriefingError(DeskError):
    """A briefing cannot be made as asked; the message (Chinese) names the field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}：{reason}")


class IncidentError(DeskError):
    """An incident action was refused."""


class ConflictError(IncidentError):
    """Someone else changed the incident first."""
