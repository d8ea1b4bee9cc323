"""State DB upgrades: a desk whose var/state.db predates new columns gets them added at start (SQLite)."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, inspect

from opinion_desk.errors import StateError
from opinion_desk.scheduler import source_health
from opinion_desk.state import StateDB, add_missing_columns
from opinion_desk.state.core import SourceState

# source_state as the first collectors release made it (before health notes, error kinds and the sparkline)
OLD_SOURCE_STATE = """CREATE TABLE source_state (
    name VARCHAR(200) NOT NULL PRIMARY KEY, cursor JSON NOT NULL, last_run DATETIME, last_success DATETIME,
    last_error TEXT, last_error_at DATETIME, last_items INTEGER NOT NULL, failures_in_row INTEGER NOT NULL)"""


def test_old_source_state_gains_its_new_columns(tmp_path, caplog):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as con:
        con.execute(OLD_SOURCE_STATE)
        con.execute("INSERT INTO source_state VALUES ('gov-rss', '{\"last_id\": \"a9\"}', '2024-06-18 02:00:00', "
                    "'2024-06-18 02:00:00', NULL, NULL, 3, 0)")
    db = StateDB(f"sqlite:///{path}")
    with caplog.at_level(logging.WARNING, logger="opinion_desk.state"):
        db.create_all()
    cols = {c["name"] for c in inspect(db.engine).get_columns("source_state")}
    assert {"total_items", "last_error_kind", "last_duration", "last_notes", "recent"} <= cols
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "added column source_state.recent" in logged and "added column source_state.total_items" in logged
    with db.session_scope() as s:  # the old row reads with the models' defaults, and the scheduler can use it
        row = s.get(SourceState, "gov-rss")
        assert row.cursor == {"last_id": "a9"} and row.recent == [] and row.last_notes == [] and row.total_items == 0
        assert row.last_error_kind is None and row.last_duration is None
        h = source_health(row)
        assert h["status"] == "ok" and h["recent"] == [] and h["last_items"] == 3
        row.recent = [{"at": "2024-06-18T03:00:00+00:00", "items": 1, "error": None, "seconds": 0.2}]
    with db.session_scope() as s:
        assert len(s.get(SourceState, "gov-rss").recent) == 1
    caplog.clear()
    db.create_all()  # a second start changes nothing
    assert not [r for r in caplog.records if "added column" in r.getMessage()]
    db.dispose()


def test_server_defaults_nullable_columns_and_indexes(tmp_path):
    db = StateDB(f"sqlite:///{tmp_path / 'x.db'}")
    old = MetaData()
    Table("things", old, Column("id", Integer, primary_key=True), Column("a", String(10)))
    old.create_all(db.engine)
    with db.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO things (id, a) VALUES (1, 'x')")
    new = MetaData()
    Table("things", new, Column("id", Integer, primary_key=True), Column("a", String(10)),
          Column("note", Text), Column("level", Integer, nullable=False, server_default="2"),
          Column("kind", String(10), nullable=False, default="plain", index=True),
          Index("ix_things_note_level", "note", "level"))
    assert add_missing_columns(db.engine, new) == ["things.note", "things.level", "things.kind"]
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT note, level, kind FROM things").all() == [(None, 2, "plain")]
    idx = {i["name"] for i in inspect(db.engine).get_indexes("things")}
    assert {"ix_things_kind", "ix_things_note_level"} <= idx
    assert add_missing_columns(db.engine, new) == []
    db.dispose()


def test_not_null_without_default_is_refused_before_any_change(tmp_path):
    db = StateDB(f"sqlite:///{tmp_path / 'x.db'}")
    old = MetaData()
    Table("things", old, Column("id", Integer, primary_key=True))
    old.create_all(db.engine)
    new = MetaData()
    Table("things", new, Column("id", Integer, primary_key=True), Column("extra", Text),
          Column("owner", String(50), nullable=False))
    with pytest.raises(StateError) as e:
        add_missing_columns(db.engine, new)
    assert "table 'things' lacks column 'owner'" in str(e.value) and "NOT NULL without a default" in str(e.value)
    assert {c["name"] for c in inspect(db.engine).get_columns("things")} == {"id"}  # 'extra' was not added either
    db.dispose()
