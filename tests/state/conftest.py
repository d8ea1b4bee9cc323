"""The state tests run on SQLite and on PostgreSQL: ``db`` is a migrated, empty state database of either kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opinion_desk.state import StateDB


@pytest.fixture
def db(state_url: str) -> Iterator[StateDB]:
    d = StateDB(state_url)
    d.upgrade()
    yield d
    d.dispose()
