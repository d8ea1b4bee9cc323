"""Detection: the YAML rules of ``rules/`` — schema, loader, one file per rule type (``types/``), the engine and
noise control. ``Engine`` evaluates rules as posts arrive and on a tick; ``AlertBook`` turns matches into
alerts."""

from .engine import Engine
from .loader import load_dir, load_rule_file, parse_rule
from .rule import Match, PostFilter, RuleSpec

__all__ = ["Engine", "Match", "PostFilter", "RuleSpec", "load_dir", "load_rule_file", "parse_rule"]
