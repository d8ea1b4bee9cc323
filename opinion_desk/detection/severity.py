"""Severity that means something (issue 13): an alert's level from its rule and from the size, speed and
sensitivity of the event, one function every rule type uses.

Levels are the rule severities (``low`` 一般, ``medium`` 较大, ``high`` 重大, ``critical`` 特别重大). The rule's
``severity`` is a ceiling an analyst sets; the event's figures decide how far below it the alert starts:

- size: posts on the event within the rule's window (a handful is 一般; hundreds are more);
- speed: posts per hour over the window;
- sensitivity: 0..1 (the rumour strength of the event, or how sensitive the watch words are); a complaint (诉求)
  or an event with an official answer is never above 较大.

A lone post or a small cluster is 一般 whatever the rule says; an alert reaches 重大 only when the event is
large *and* fast *and* sensitive, and 特别重大 only when a rule allows it and the event is an order of magnitude
beyond that. An incident opened from an alert starts at the alert's level except the major ones (重大, 特别重大):
those only an approver may set (:meth:`opinion_desk.incidents.desk.IncidentDesk.open` / ``set_level``).
"""

from __future__ import annotations

from dataclasses import dataclass

ORDER = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class EventFigures:
    """What the severity reads of an event."""

    size: int  # posts on the event within the window
    per_hour: float  # posts per hour over the window
    sensitivity: float = 0.0  # 0..1
    appeal: bool = False  # a 诉求 (complaint / request): answered, not escalated
    answered: bool = False  # an official post answered it


def score(fig: EventFigures) -> int:
    """0 (一般) .. 3 (特别重大) from the figures alone."""
    s = 0
    if fig.size >= 20 or fig.per_hour >= 20:
        s = 1
    if fig.size >= 100 and fig.per_hour >= 50 and fig.sensitivity >= 0.7:
        s = 2
    if fig.size >= 1000 and fig.per_hour >= 500 and fig.sensitivity >= 0.9:
        s = 3
    if fig.appeal or fig.answered:
        s = min(s, 1)
    return s


def severity(rule_severity: str, fig: EventFigures) -> str:
    """The alert's severity: the lower of the rule's ceiling and what the event's figures reach."""
    ceiling = ORDER.index(rule_severity) if rule_severity in ORDER else ORDER.index("high")
    return ORDER[min(ceiling, score(fig))]


def describe(fig: EventFigures) -> str:
    """The figures in the words of an alert: 规模 23 条，速度 46 条/小时，敏感度 0.82."""
    out = f"规模 {fig.size} 条，速度 {fig.per_hour:.0f} 条/小时，敏感度 {fig.sensitivity:.2f}"
    if fig.appeal:
        out += "，诉求类"
    if fig.answered:
        out += "，已有官方回应"
    return out
