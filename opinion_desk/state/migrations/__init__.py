"""Alembic migrations of the state database, run from code by :mod:`opinion_desk.state.migrate` (no alembic.ini).

One file per revision under ``versions/``, written by hand: ``0001`` is the schema as the first migrating release
found it; each later revision names its ``down_revision``. ``tests/state/test_migrations.py`` checks that the
models and the migrated schema agree on SQLite and PostgreSQL, so a model change without its revision fails there.
"""
