"""Alembic's environment: runs the revisions on the connection :mod:`opinion_desk.state.migrate` hands over."""

from __future__ import annotations

from alembic import context

from opinion_desk.state import Base
from opinion_desk.state import tables  # noqa: F401  (registers every table on Base)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the state migrations run through opinion_desk.state.migrate (opinion-desk state upgrade), "
                       "which passes the connection; there is no alembic.ini")
context.configure(connection=connection, target_metadata=Base.metadata,
                  # SQLite alters a table by copying it: revisions use op.batch_alter_table, which works on both
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
