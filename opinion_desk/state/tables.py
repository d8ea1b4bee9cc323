"""Imports every module that defines state tables, so that ``Base.metadata`` knows them all.

One line per area; an area's tables live in its own module.
"""

from . import alerts  # noqa: F401  (rule state, alerts, silences, outbox)
from . import briefings  # noqa: F401  (舆情简报: generated briefings and their mailing)
from . import core  # noqa: F401  (kv settings, source cursors and health)
from . import incidents  # noqa: F401  (incidents, drafts, approvals, audit chain, routing)
from . import ingest_queue  # noqa: F401  (posts accepted by a web process, waiting for a worker)
from . import leases  # noqa: F401  (which process runs each singleton job)
from . import rule_feed  # noqa: F401  (stored posts in one order for the rules lease holder)
from . import users  # noqa: F401  (users, roles, API tokens)
