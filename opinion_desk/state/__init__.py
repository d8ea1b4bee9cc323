"""The state database (users, alerts, incidents, rule state, audit, outbox) through SQLAlchemy.

SQLite in ``data_dir`` by default; PostgreSQL (``postgresql://``, the ``postgres`` extra) or another SQLAlchemy URL
via ``[state] url`` (:mod:`opinion_desk.state.url`).
Each area keeps its tables in its own module under this package, all on the one :class:`Base`; importing
:mod:`opinion_desk.state.tables` registers every table.

flaskr-style pair: :func:`get_db` (a session for this request) and :func:`close_db` (``create_app`` registers it).
Background work uses :func:`session_scope` on the :class:`StateDB` directly.

Upgrades: :meth:`StateDB.upgrade` runs the Alembic revisions in :mod:`opinion_desk.state.migrations` up to the
newest (:mod:`opinion_desk.state.migrate`); a model change comes with a revision file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class StateDB:
    """One engine and session factory for the state database."""

    def __init__(self, url: str) -> None:
        """``url`` as in ``[state] url``; a :class:`StateError` names it when its driver is not installed."""
        from .lengths import check_lengths
        from .times import utc_times
        from .url import engine_url

        self.url = url
        target = engine_url(url)
        kw: dict = {}
        if url.startswith("sqlite"):
            kw["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif target.drivername in ("postgresql+psycopg", "postgresql+psycopg2"):
            # times in UTC whatever the server's zone: a server set to Beijing time would hand back +08:00 and read
            # a naive time as Beijing time; the desk stores UTC and shows [desk] timezone
            kw["connect_args"] = {"options": "-c timezone=UTC"}
        self.engine: Engine = create_engine(target, **kw)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _rec):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        # a string longer than its column: a Chinese InputError on every database (PostgreSQL would refuse it)
        event.listen(self.Session, "before_flush", check_lengths)
        event.listen(self.Session, "before_flush", utc_times)  # SQLite would keep a +08:00 time's digits as UTC

    def upgrade(self) -> None:
        """Migrate the database to the newest revision (an empty one from nothing); see :mod:`.migrate`."""
        from .migrate import upgrade

        upgrade(self.engine)

    def create_all(self) -> None:
        """The name callers knew before migrations: :meth:`upgrade`."""
        self.upgrade()

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


def get_statedb() -> StateDB:
    """The state database of the desk handling this request."""
    from ..root import current_desk

    return current_desk().state


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

