"""The registry of rule types: one small class per file, one line here. ``type:`` in a rule names one of these."""

from __future__ import annotations

from .base import RuleType
from .cardinality import CardinalityRule
from .flatline import FlatlineRule
from .frequency import FrequencyRule
from .keyword import KeywordRule
from .new_term import NewTermRule
from .rumour import RumourRule
from .sentiment_surge import SentimentSurgeRule
from .spike import SpikeRule

RULE_TYPES: dict[str, type[RuleType]] = {
    "spike": SpikeRule,
    "frequency": FrequencyRule,
    "flatline": FlatlineRule,
    "new_term": NewTermRule,
    "keyword": KeywordRule,
    "sentiment_surge": SentimentSurgeRule,
    "rumour": RumourRule,
    "cardinality": CardinalityRule,
}

__all__ = ["RULE_TYPES", "RuleType"]
