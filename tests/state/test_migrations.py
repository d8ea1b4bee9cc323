"""State database migrations (Alembic, run from code), each on SQLite and on a real PostgreSQL: a fresh database
is migrated from nothing, one made by the old ``create_all`` is checked and stamped, the models agree with the
migrated schema, and desk processes starting together migrate once."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect, select, text

from opinion_desk.errors import StateError
from opinion_desk.state import Base, StateDB
from opinion_desk.state import tables  # noqa: F401  (every model on Base)
from opinion_desk.state.core import SourceState
from opinion_desk.state.migrate import BASELINE, baseline_schema, current, head, upgrade
from opinion_desk.state.users import create_user, get_user


@pytest.fixture
def db(state_url):
    d = StateDB(state_url)
    yield d
    d.dispose()


def test_a_fresh_database_is_migrated_from_nothing_to_the_newest_revision(db) -> None:
    assert current(db.engine) is None
    done = upgrade(db.engine)
    assert (done.before, done.after, done.adopted) == (None, head(), False)
    assert current(db.engine) == head()
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
    again = upgrade(db.engine)  # a second start changes nothing
    assert again.before == again.after == head() and not again.adopted


def test_the_models_and_the_migrated_schema_agree(db) -> None:
    """A model changed without its revision (or a revision that differs from the model) shows up here."""
    db.upgrade()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ on {db.engine.dialect.name}: {diff}"


def test_a_database_made_before_migrations_is_checked_stamped_and_upgraded(db, caplog) -> None:
    baseline_schema().create_all(db.engine)  # what the old create_all made: tables, no alembic_version
    with db.session_scope() as s:
        create_user(s, "zhang", "long-enough-pw", ["duty"], display_name="张值班")
        s.add(SourceState(name="gov-rss", cursor={"last_id": "a9"}, last_items=3, total_items=3, failures_in_row=0,
                          last_notes=[], recent=[]))
    with caplog.at_level(logging.WARNING, logger="opinion_desk.state"):
        done = upgrade(db.engine)
    assert done.adopted and done.before is None and done.after == head() and done.created == ()
    assert "predates migrations" in caplog.text and f"revision {BASELINE}" in caplog.text
    assert current(db.engine) == head()
    with db.session_scope() as s:  # nothing already there is lost
        assert get_user(s, "zhang").display_name == "张值班"
        assert s.get(SourceState, "gov-rss").cursor == {"last_id": "a9"}


def test_a_pre_migration_database_gets_the_tables_it_lacks(db) -> None:
    md = baseline_schema()
    md.create_all(db.engine, tables=[t for t in md.sorted_tables if t.name != "briefings"])
    done = upgrade(db.engine)
    assert done.adopted and done.created == ("briefings",)
    assert "briefings" in inspect(db.engine).get_table_names() and current(db.engine) == head()


def test_a_pre_migration_table_lacking_columns_is_refused_before_anything_changes(db) -> None:
    old = MetaData()  # source_state as the first collectors release made it
    Table("source_state", old, Column("name", String(200), primary_key=True), Column("last_items", Integer),
          Column("last_run", DateTime(timezone=True)))
    old.create_all(db.engine)
    with pytest.raises(StateError) as e:
        upgrade(db.engine)
    msg = str(e.value)
    assert "建于迁移机制之前" in msg and "source_state.recent" in msg and "source_state.cursor" in msg
    assert "source_state.last_items" not in msg
    assert inspect(db.engine).get_table_names() == ["source_state"]  # no table made, nothing stamped
    assert current(db.engine) is None


def test_processes_starting_together_migrate_once(state_url) -> None:
    dbs = [StateDB(state_url) for _ in range(3)]
    errors: list[BaseException] = []
    results = []
    start = threading.Barrier(len(dbs))

    def go(d: StateDB) -> None:
        try:
            start.wait()
            results.append(upgrade(d.engine))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=go, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.before is None for r in results) == [False, False, True]  # exactly one migrated
    with dbs[0].engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head()]
    for d in dbs:
        d.dispose()


def test_upgrade_keeps_timezones_and_json_on_both_databases(db) -> None:
    db.upgrade()
    at = datetime(2024, 6, 18, 2, 0, 5, tzinfo=timezone.utc)
    with db.session_scope() as s:
        s.add(SourceState(name="微博-市政府", cursor={"since_id": "4998", "页": [1, 2]}, last_run=at,
                          last_items=0, total_items=0, failures_in_row=0, last_notes=["链接已过期"], recent=[]))
    with db.session_scope() as s:
        row = s.scalar(select(SourceState).where(SourceState.name == "微博-市政府"))
        assert row.cursor == {"since_id": "4998", "页": [1, 2]} and row.last_notes == ["链接已过期"]
        got = row.last_run if row.last_run.tzinfo else row.last_run.replace(tzinfo=timezone.utc)
        assert got == at
