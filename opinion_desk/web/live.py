"""Socket.IO handlers of the ``/desk`` namespace (requests from browsers). Background emits live in
:mod:`opinion_desk.broadcast`."""

from __future__ import annotations

from flask_socketio import emit

from ..broadcast import NAMESPACE
from ..extensions import socketio


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):  # noqa: ANN001, ANN201
    emit("hello", {"ok": True})
