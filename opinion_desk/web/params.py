"""Query-string parameters, checked before use: every route reads its parameters through these helpers, so a bad
value is a 400 naming the parameter (in Chinese), never a 500 from ``int()`` or an overflowing date.

Each helper raises :class:`~opinion_desk.errors.InputError` (``where="query"``, ``field`` = the parameter);
:func:`init_app` answers it app-wide as ``400 {"error", "where", "field", "reason"}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from flask import Flask, jsonify, request

from ..errors import InputError
from ..models import parse_time

EARLIEST = datetime(1970, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def _raw(name: str) -> str | None:
    v = request.args.get(name)
    return None if v is None or v.strip() == "" else v.strip()


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """A whole number in ``[lo, hi]``; absent or empty -> ``default``."""
    n = optional_int_arg(name, lo, hi)
    return default if n is None else n


def optional_int_arg(name: str, lo: int, hi: int) -> int | None:
    """A whole number in ``[lo, hi]``, or None when absent or empty."""
    v = _raw(name)
    if v is None:
        return None
    try:
        n = int(v, 10)
    except ValueError:
        raise InputError("query", name, f"参数 {name} 应为整数，收到 {v[:40]!r}") from None
    if not lo <= n <= hi:
        raise InputError("query", name, f"参数 {name} 应在 {lo} 到 {hi} 之间，收到 {n}")
    return n


def float_arg(name: str, default: float | None, lo: float, hi: float) -> float | None:
    """A finite number in ``[lo, hi]``; absent or empty -> ``default``."""
    v = _raw(name)
    if v is None:
        return default
    try:
        x = float(v)
    except ValueError:
        raise InputError("query", name, f"参数 {name} 应为数字，收到 {v[:40]!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise InputError("query", name, f"参数 {name} 应在 {lo:g} 到 {hi:g} 之间，收到 {v[:40]}")
    return x


def choice_arg(name: str, default: str, choices: Iterable[str]) -> str:
    """One of ``choices``; absent or empty -> ``default``."""
    v = _raw(name)
    if v is None:
        return default
    allowed = list(choices)
    if v not in allowed:
        raise InputError("query", name, f"参数 {name} 应为 {', '.join(allowed)} 之一，收到 {v[:40]!r}")
    return v


def _desk_zone():  # noqa: ANN202
    """The desk's zone, in which a time typed without one is read."""
    from flask import current_app

    from ..timefmt import zone

    return zone(current_app.config.get("DESK"))


def time_arg(name: str) -> datetime | None:
    """An ISO 8601 time or epoch seconds between 1970 and 2100; absent or empty -> None."""
    v = _raw(name)
    if v is None:
        return None
    try:
        t = parse_time(v, name, "query", _desk_zone())
    except (InputError, OverflowError, ValueError):
        raise InputError("query", name, f"参数 {name} 不是有效时间（ISO 8601 或秒数），收到 {v[:40]!r}") from None
    if not EARLIEST <= t <= LATEST:
        raise InputError("query", name, f"参数 {name} 应在 1970 年到 2100 年之间，收到 {v[:40]!r}")
    return t


def minutes_ago(name: str, max_days: int = 3660) -> datetime | None:
    """``now - N minutes`` for a ``minutes=N`` parameter (0 < N <= ``max_days`` days)."""
    m = float_arg(name, None, 0, max_days * 1440)
    return None if m is None else datetime.now(timezone.utc) - timedelta(minutes=m)


def init_app(app: Flask) -> None:
    @app.errorhandler(InputError)
    def _bad_input(e: InputError):  # noqa: ANN202
        return jsonify(error=str(e), **e.to_dict()), 400

    @app.errorhandler(413)
    def _too_large(e: Exception):  # noqa: ANN202
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return jsonify(error=f"请求体过大（上限 {limit} 字节，[ingest] max_body_bytes），请分批发送",
                       field="body", limit=limit), 413
