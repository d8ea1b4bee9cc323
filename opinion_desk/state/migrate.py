"""Schema migrations of the state database: Alembic, run from code (no alembic.ini; the revisions ship in
:mod:`opinion_desk.state.migrations`).

:func:`upgrade` brings any state database to the newest revision:

- an empty database is migrated from nothing;
- a database made before migrations (the old ``create_all``: tables, no ``alembic_version``) is checked against
  revision 0001 — tables it lacks are created, a column it lacks is a :class:`StateError` naming it, since no
  migration can know its values — then stamped "0001" and upgraded;
- a migrated one gets the revisions it has not had.

Desk processes starting together migrate once: on PostgreSQL the upgrade holds an advisory lock, on SQLite a
lock on ``<database>.migrate-lock`` beside the file.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from ..errors import StateError

log = logging.getLogger(__name__)
# alembic's own INFO lines (context impl, each revision run) would repeat at every start; upgrade() logs the change
if logging.getLogger("alembic").level == logging.NOTSET:
    logging.getLogger("alembic").setLevel(logging.WARNING)

SCRIPTS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
#: pg_advisory_xact_lock key held while migrating ("odmg" as an integer)
LOCK_KEY = 0x6F646D67


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did: the revision before (None: empty or pre-migration database) and after."""

    before: str | None
    after: str | None
    adopted: bool  # a pre-migration database was checked and stamped BASELINE
    created: tuple[str, ...]  # tables a pre-migration database lacked, created before stamping


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str | None:
    """The newest revision the code knows."""
    return script_directory().get_current_head()


def current(engine: Engine) -> str | None:
    """The database's revision (None: empty, or made before migrations)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _where(engine: Engine | Connection) -> str:
    return engine.engine.url.render_as_string(hide_password=True)


def baseline_schema() -> MetaData:
    """The tables of revision 0001, as its revision file freezes them."""
    return script_directory().get_revision(BASELINE).module.schema()


def _adopt(conn: Connection) -> tuple[str, ...]:
    """Check a pre-migration database against revision 0001: create the tables it lacks, refuse (before changing
    anything) when a table lacks a column. Returns the created tables."""
    md = baseline_schema()
    insp = inspect(conn)
    missing = [t for t in md.sorted_tables if not insp.has_table(t.name)]
    lacking = [f"{t.name}.{c.name}" for t in md.sorted_tables if t not in missing
               for c in t.columns if c.name not in {x["name"] for x in insp.get_columns(t.name)}]
    if lacking:
        raise StateError(
            f"状态库 {_where(conn)} 建于迁移机制之前，且缺少列 {'、'.join(lacking)}：无法自动补上（不知道已有行的值）。"
            f"请手工添加这些列，或把该库移走后重新启动（会建新库）")
    md.create_all(conn, tables=missing)
    return tuple(t.name for t in missing)


@contextmanager
def _sqlite_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on a file beside a SQLite database (nothing for other databases, or in memory)."""
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        yield
        return
    with open(f"{db}.migrate-lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    """Migrate the database to ``revision`` (default: the newest), in one transaction where the database allows."""
    with _sqlite_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        before = MigrationContext.configure(conn).get_current_revision()
        cfg = alembic_config(conn)
        adopted, created = False, ()
        if before is None and _has_state_tables(conn):
            created = _adopt(conn)
            command.stamp(cfg, BASELINE)
            adopted = True
            log.warning("state database %s predates migrations: checked against revision %s%s and stamped",
                        _where(conn), BASELINE, f" (created {', '.join(created)})" if created else "")
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if after != before:
        log.info("state database %s migrated: %s -> %s", _where(engine), before or "(empty)", after)
    return Upgrade(before, after, adopted, created)


def _has_state_tables(conn: Connection) -> bool:
    have = set(inspect(conn).get_table_names())
    return bool(have & set(baseline_schema().tables))
