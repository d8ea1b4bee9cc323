"""Write transactions that take their lock up front, so a read-then-write cannot race another process.

SQLite: ``BEGIN IMMEDIATE`` (the database's one write lock, waited for under ``busy_timeout``), so what the
transaction reads stays true until it commits. PostgreSQL: an ordinary transaction; the callers lock what they
read themselves (``FOR UPDATE [SKIP LOCKED]`` or a conditional ``UPDATE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from . import StateDB


def is_sqlite(db: StateDB) -> bool:
    return db.engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(db: StateDB) -> Iterator[Connection]:
    """A connection in a transaction that commits on leaving (rolls back on an exception)."""
    with db.engine.connect() as conn:
        if is_sqlite(db):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
