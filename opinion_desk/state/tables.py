"""Imports every module that defines state tables, so that ``Base.metadata`` knows them all.

One line per area; an area's tables live in its own module.
"""

from . import core  # noqa: F401  (kv settings, source cursors)
