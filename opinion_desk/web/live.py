"""Socket.IO handlers of the ``/desk`` namespace (requests from browsers). Background emits live in
:mod:`opinion_desk.broadcast`."""

from __future__ import annotations

from flask import request
from flask_socketio import emit

from ..extensions import socketio
from ..livefeed import NAMESPACE


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):  # noqa: ANN001, ANN201
    """A logged-in session gets ``hello``, then what it missed since the ``{epoch, seq}`` it sends as ``auth``
    (or ``resync``), then ``live`` and every new event (see :mod:`opinion_desk.livefeed`)."""
    from .auth import socket_user

    if socket_user() is None:  # only logged-in sessions get the live feed
        raise ConnectionRefusedError("需要登录")
    emit("hello", {"ok": True})
    socketio.server.manager.subscribe(request.sid, NAMESPACE, auth)


# Flask-SocketIO binds handlers to the server that exists when this module is first imported, and keeps them for
# later servers only when none existed yet. Every create_app makes a new server (one app per test), so keep the
# bound handlers listed: each later socketio.init_app binds them again.
for _event, _fn in (socketio.server.handlers.get(NAMESPACE, {}) if socketio.server else {}).items():
    if (_event, _fn, NAMESPACE) not in socketio.handlers:
        socketio.handlers.append((_event, _fn, NAMESPACE))
