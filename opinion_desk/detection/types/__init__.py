"""The registry of rule types: one small class per file, one line here. ``type:`` in a rule names one of these."""

from __future__ import annotations

from .base import RuleType
from .blacklist import BlacklistRule
from .cardinality import CardinalityRule
from .change import ChangeRule
from .flatline import FlatlineRule
from .frequency import FrequencyRule
from .keyword import KeywordRule
from .metric_aggregation import MetricAggregationRule
from .new_term import NewTermRule
from .percentage_match import PercentageMatchRule
from .rumour import RumourRule
from .sentiment_surge import SentimentSurgeRule
from .spike import SpikeRule
from .whitelist import WhitelistRule

RULE_TYPES: dict[str, type[RuleType]] = {
    "spike": SpikeRule,
    "frequency": FrequencyRule,
    "flatline": FlatlineRule,
    "new_term": NewTermRule,
    "keyword": KeywordRule,
    "sentiment_surge": SentimentSurgeRule,
    "rumour": RumourRule,
    "cardinality": CardinalityRule,
    "blacklist": BlacklistRule,
    "whitelist": WhitelistRule,
    "change": ChangeRule,
    "percentage_match": PercentageMatchRule,
    "metric_aggregation": MetricAggregationRule,
}

__all__ = ["RULE_TYPES", "RuleType"]
