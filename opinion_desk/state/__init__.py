"""The state database (users, alerts, incidents, rule state, audit, outbox) through SQLAlchemy.

SQLite in ``data_dir`` by default; any SQLAlchemy URL (PostgreSQL when a deployment grows) via ``[state] url``.
Each area keeps its tables in its own module under this package, all on the one :class:`Base`; importing
:mod:`opinion_desk.state.tables` registers every table.

flaskr-style trio: :func:`get_db` (a session for this request), :func:`close_db`, :func:`init_app`.
Background work uses :func:`session_scope` on the :class:`StateDB` directly.

Upgrades: :meth:`StateDB.create_all` creates missing tables, then :func:`add_missing_columns` adds the columns a
model gained since the database was made (see there); no migration tool is needed for additive changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import Column, CreateColumn, Table

from ..errors import StateError

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class StateDB:
    """One engine and session factory for the state database."""

    def __init__(self, url: str) -> None:
        self.url = url
        kw: dict = {}
        if url.startswith("sqlite"):
            kw["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, **kw)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _rec):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        from . import tables  # noqa: F401  (registers every table on Base)

        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine, Base.metadata)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        s = self.Session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()


_NO_DEFAULT = object()


def _default_value(col: Column) -> Any:
    """The value existing rows get in a new column (``_NO_DEFAULT`` when the model declares none)."""
    d = col.default
    if d is None or not (d.is_scalar or d.is_callable or d.is_clause_element):
        return _NO_DEFAULT
    try:
        return d.arg(None) if d.is_callable else d.arg  # callables are wrapped to take an (unused) context
    except Exception:  # a context-sensitive default cannot be computed for old rows
        return _NO_DEFAULT


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` each column a model has and its existing table lacks; returns
    ``"table.column"`` of each. Existing rows get the model's default. A column with only a Python-side default
    is added nullable (SQLite adds NOT NULL only with a constant DEFAULT; the ORM fills it on insert). A missing
    column that is NOT NULL without any default, or part of the primary key, is refused with a
    :class:`StateError` naming table and column, before anything is changed."""
    insp = inspect(engine)
    plan: list[tuple[Table, Column, Any]] = []
    for table in metadata.sorted_tables:
        if not insp.has_table(table.name, schema=table.schema):
            continue
        have = {c["name"] for c in insp.get_columns(table.name, schema=table.schema)}
        for col in (c for c in table.columns if c.name not in have):
            value = _default_value(col)
            if col.primary_key or (not col.nullable and value is _NO_DEFAULT and col.server_default is None):
                raise StateError(
                    f"state database {engine.url.render_as_string(hide_password=True)}: table '{table.name}' lacks "
                    f"column '{col.name}', which is NOT NULL without a default (or a key) and cannot be added to "
                    "existing rows; add it by hand with a value, or move the database aside")
            plan.append((table, col, value))
    prep = engine.dialect.identifier_preparer
    added: list[str] = []
    with engine.begin() as conn:
        for table, col, value in plan:
            spec = (str(CreateColumn(col).compile(dialect=engine.dialect)) if col.server_default is not None
                    else f"{prep.quote(col.name)} {col.type.compile(dialect=engine.dialect)}")
            conn.execute(text(f"ALTER TABLE {prep.format_table(table)} ADD COLUMN {spec}"))
            if value is not _NO_DEFAULT and col.server_default is None:
                conn.execute(table.update().values({col.name: value}))
            log.warning("state database upgraded: added column %s.%s (%s)", table.name, col.name, spec)
            added.append(f"{table.name}.{col.name}")
        for index in {i for table, col, _ in plan for i in table.indexes if col.name in i.columns}:
            index.create(conn, checkfirst=True)
    return added


def get_statedb() -> StateDB:
    return current_app.extensions["opinion_desk.state"]


def get_db() -> Session:
    """The state session of this request."""
    if "state_session" not in g:
        g.state_session = get_statedb().Session()
    return g.state_session


def close_db(e: BaseException | None = None) -> None:
    s = g.pop("state_session", None)
    if s is not None:
        if e is None:
            s.commit()
        else:
            s.rollback()
        s.close()


def init_app(app: Flask) -> StateDB:
    cfg = app.config["DESK"]
    db = StateDB(cfg.state_url())
    db.create_all()
    app.extensions["opinion_desk.state"] = db
    app.teardown_appcontext(close_db)
    return db
