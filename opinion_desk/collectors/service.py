"""The collectors' part of the app: the sources of ``sources/*.yaml``, the evidence archive, the schedule.

``init_app`` reads and validates the sources (``app.extensions["opinion_desk.sources"]``: a
:class:`~opinion_desk.collectors.sources.SourceSet`; a bad entry is logged with file, line and field and left
out, the others go on), sets the scheduler's failure policy from ``[collectors]`` and hooks the evidence archive
into the pipeline. ``start`` schedules the demo feed, one job per enabled source and the evidence retention
(hourly: removes archive days older than ``[collectors] evidence_days``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from ..errors import CollectorError
from . import SourceSpec, build_collector
from .evidence import EvidenceArchive
from .http import LIMITER
from .sources import SourceSet, load_sources

log = logging.getLogger(__name__)

SOURCES_KEY = "opinion_desk.sources"
RETENTION_EVERY = 3600.0  # seconds between two evidence retention passes (a pass only lists folders)
EVIDENCE_KEY = "opinion_desk.evidence"


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


def init_app(app: Flask) -> None:
    cfg = app.config["DESK"]
    c = cfg["collectors"]
    found = load(cfg)
    for p in found.problems:
        log.error("sources: %s", p)
    app.extensions[SOURCES_KEY] = found
    sched = app.extensions["opinion_desk.scheduler"]
    sched.alert_after = int(c["alert_after"])
    sched.backoff_max = float(c["backoff_max"])
    sched.run_timeout = float(c["run_timeout"])
    LIMITER.interval = float(c["host_interval"])
    if c["evidence"]:
        archive = EvidenceArchive(cfg.data_path(c["evidence_dir"]))
        app.extensions[EVIDENCE_KEY] = archive
        app.extensions["opinion_desk.pipeline"].add_hook(archive.hook)


def schedule(app: Flask, spec: SourceSpec, start_now: bool = True) -> bool:
    """Build and schedule one source; a source that cannot be built is reported and left out."""
    sched = app.extensions["opinion_desk.scheduler"]
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


def start(app: Flask) -> None:
    cfg = app.config["DESK"]
    archive = app.extensions.get(EVIDENCE_KEY)
    days = int(cfg["collectors"]["evidence_days"])
    if archive is not None and days > 0:
        app.extensions["opinion_desk.scheduler"].add_interval_job(
            "evidence-retention", lambda: prune_evidence(archive, days), RETENTION_EVERY)
    if cfg["desk"]["demo"]:
        spec = SourceSpec(name="demo", type="replay", cadence=float(cfg["desk"]["demo_interval"]),
                          options={"file": cfg["collectors"]["demo_file"] or None, "batch": 2})
        schedule(app, spec)
    for spec in app.extensions[SOURCES_KEY].specs:
        if spec.enabled:
            schedule(app, spec)
