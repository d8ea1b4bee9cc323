"""Extensions created unbound and bound in :func:`opinion_desk.create_app`."""

from __future__ import annotations

from flask_socketio import SocketIO

# async_mode "threading": works with the simple-websocket transport and Werkzeug; background work runs in threads.
socketio = SocketIO()
