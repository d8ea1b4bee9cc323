"""String lengths the same on every database: PostgreSQL refuses a value longer than its ``VARCHAR(n)`` (a 500 to
the user), SQLite keeps it silently. Two answers, by who makes the value:

- keys the desk makes from data (an alert's query_key value, a login-failure key from a typed username, a
  new_term term) are :class:`FittedKey`: a longer value is cut and ends in a hash of the whole, the same for
  writing and for looking up, so it still finds its row;
- everything else a person or a platform supplies is checked before a flush (:func:`check_lengths`): a value
  too long is an :class:`~opinion_desk.errors.InputError` naming table, column and limit, in Chinese, on SQLite
  exactly as on PostgreSQL.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import String, inspect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from ..errors import InputError

HASH_CHARS = 16


def fit(value: str, length: int) -> str:
    """``value`` if it fits in ``length`` characters, else its head, "~" and a hash of the whole value."""
    if len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:HASH_CHARS]
    return value[: length - HASH_CHARS - 1] + "~" + digest


class FittedKey(TypeDecorator):
    """``VARCHAR(length)`` whose values (stored and compared) are :func:`fit` to the length."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.max_chars = length

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return fit(value, self.max_chars) if isinstance(value, str) else value


def check_lengths(session: Session, _flush_context: Any = None, _instances: Any = None) -> None:
    """``before_flush``: refuse a string longer than its column, naming table, column and limit."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            col = attr.columns[0]
            limit = getattr(col.type, "length", None)
            if not limit or isinstance(col.type, FittedKey) or attr.key not in state.dict:
                continue
            value = state.dict[attr.key]
            if isinstance(value, str) and len(value) > limit:
                raise InputError(col.table.name, col.name, f"超过 {limit} 个字符（收到 {len(value)} 个）")
