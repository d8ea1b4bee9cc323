"""The collectors' setup: the sources of ``sources/*.yaml`` (:func:`load`: a
:class:`~opinion_desk.collectors.sources.SourceSet`; a bad entry is reported with file, line and field and left
out, the others go on), scheduling one source (:func:`schedule`) and a pass of evidence retention
(:func:`prune_evidence`). The desk (:mod:`opinion_desk.root`, :mod:`opinion_desk.jobs`) builds and schedules them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CollectorError
from . import SourceSpec, build_collector
from .evidence import EvidenceArchive
from .sources import SourceSet, load_sources

if TYPE_CHECKING:
    from ..scheduler import DeskScheduler

log = logging.getLogger(__name__)


def sources_dir(cfg) -> Path:  # noqa: ANN001
    return Path(os.path.expanduser(cfg["collectors"]["sources_dir"]))


def load(cfg) -> SourceSet:  # noqa: ANN001
    """The configured sources, with the collectors' defaults applied (request timeout, the account list)."""
    found = load_sources(sources_dir(cfg))
    accounts = {str(k): str(v) for k, v in (cfg["collectors"].get("accounts") or {}).items()}
    for spec in found.specs:
        if spec.timeout is None:
            spec.timeout = float(cfg["collectors"]["request_timeout"])
        spec.accounts = accounts
    return found


def schedule(sched: "DeskScheduler", spec: SourceSpec, start_now: bool = True) -> bool:
    """Build and schedule one source; a source that cannot be built is reported and left out."""
    try:
        sched.add_collector(build_collector(spec), start_now=start_now)
        return True
    except CollectorError as e:
        log.error("%s (declared at %s)", e, spec.where)
        return False


def prune_evidence(archive: EvidenceArchive, days: int) -> int:
    """One retention pass over the evidence archive; returns how many day files were removed."""
    removed = archive.prune(days)
    for f in removed:
        log.info("evidence retention (%d days): removed %s", days, f)
    return len(removed)
