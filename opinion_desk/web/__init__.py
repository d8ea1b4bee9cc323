"""The web desk: blueprints and Socket.IO handlers. One registry of blueprints, :data:`BLUEPRINTS`."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# "module:attribute" of each blueprint, registered in this order
BLUEPRINTS = [
    "opinion_desk.web.dashboard:bp",
    "opinion_desk.web.api:bp",
]


def init_app(app: Flask) -> None:
    for target in BLUEPRINTS:
        mod, _, attr = target.partition(":")
        app.register_blueprint(getattr(import_module(mod), attr))
    from . import live  # noqa: F401  (Socket.IO handlers of the /desk namespace)
