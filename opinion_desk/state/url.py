"""``[state] url``: which database, through which driver, and a clear word when the driver is not installed.

``postgresql://`` (and Heroku-style ``postgres://``) mean psycopg 3, installed by the ``postgres`` extra
(``pip install 'opinion-desk[postgres]'``); an explicit driver (``postgresql+psycopg2://``) is kept as written.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..errors import StateError

PG_EXTRA = "pip install 'opinion-desk[postgres]'"


def normalize(url: str) -> URL:
    """The SQLAlchemy URL the desk connects with (``ArgumentError`` when it is not a URL)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def problem(url: str) -> str | None:
    """Why the desk cannot use ``url`` (not a URL, an unknown database, its driver missing), in Chinese; None if
    it can. Names no password."""
    try:
        u = normalize(url)
    except ArgumentError:
        return f"{url!r} 不是数据库 URL（如 sqlite:////var/lib/opinion-desk/state.db、postgresql://用户@主机/库名）"
    shown = u.render_as_string(hide_password=True)
    try:
        dialect = u.get_dialect()
    except NoSuchModuleError:
        return f"不支持的数据库类型 {u.drivername!r}（{shown}）"
    try:
        dialect.import_dbapi()
    except ImportError as e:
        if u.get_backend_name() == "postgresql":
            return f"PostgreSQL（{shown}）所需的驱动 {u.get_driver_name()} 未安装：请运行 {PG_EXTRA}"
        return f"{shown} 所需的驱动 {u.get_driver_name()} 未安装（{e}）"
    return None


def engine_url(url: str) -> URL:
    """:func:`normalize`, refusing with a :class:`StateError` naming ``[state] url`` what :func:`problem` finds."""
    why = problem(url)
    if why:
        raise StateError(f"[state] url: {why}")
    return normalize(url)
