"""舆情值班台 Opinion Desk.

:func:`create_app` is the Flask adapter over a :class:`~opinion_desk.root.Desk` (the composition root, which builds
every part from the config): config, Socket.IO, the request-scoped state session, blueprints. Nothing runs at
import, and nothing runs in the background until :func:`start_background` (``opinion-desk run`` calls it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from .root import Desk

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
# a checkout (or editable install) has static/ beside the package; a wheel install has it under <prefix>/share
STATIC_DIR = ROOT / "static" if (ROOT / "static").is_dir() else Path(sys.prefix) / "share" / "opinion-desk" / "static"

log = logging.getLogger(__name__)


class DeskApp(Flask):
    """The Flask app of one desk: ``app.desk`` is the :class:`~opinion_desk.root.Desk` it serves."""

    desk: "Desk"


def create_app(test_config: dict[str, dict[str, Any]] | None = None, *, config: Any = None,
               analyzer_factory: Callable[[], Any] | None = None, desk: "Desk | None" = None) -> DeskApp:
    """The web adapter over ``desk``; without one, a desk of role ``all`` is built from the config.

    ``test_config`` ({section: {key: value}}) replaces the config file and environment; ``config`` is an already
    loaded :class:`~opinion_desk.config.Config` (the CLI passes the one it resolved); otherwise the config file
    and environment are read.
    """
    from . import livefeed, web
    from .config import load_config
    from .extensions import socketio
    from .root import Desk
    from .state import close_db

    if desk is None:
        if config is not None:
            cfg = config
        elif test_config is None:
            cfg = load_config()
        else:
            cfg = load_config(path=None, env={}, overrides=test_config)
        desk = Desk(cfg, analyzer_factory=analyzer_factory)
    cfg = desk.cfg

    app = DeskApp(__name__, static_folder=str(STATIC_DIR), static_url_path="/static", template_folder="web/templates")
    app.desk = desk
    app.config.update(
        DESK=cfg,
        SECRET_KEY=desk.secret_key,
        JSON_AS_ASCII=False,
        TESTING=test_config is not None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=cfg["ingest"]["max_body_bytes"],  # refused with 413 before any parsing
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    proxies = int(cfg["desk"]["trusted_proxies"])
    if proxies > 0:  # behind nginx: each browser's own address and scheme, from the proxy's X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    socketio.init_app(app, **livefeed.socketio_options(cfg))  # origin check, sequenced replay, message queue
    app.teardown_appcontext(close_db)
    web.init_app(app)
    return app


def start_background(app: DeskApp) -> None:
    """Start the desk's background work for its role (collectors, rules, outbox, deadlines, ...)."""
    app.desk.start()


def stop_background(app: DeskApp) -> None:
    app.desk.stop()
