"""``opinion-desk run`` serves with gunicorn, a production WSGI server that carries WebSockets.

Following Flask-SocketIO's deployment notes for the threading mode: one gunicorn worker process of the ``gthread``
class, its ``--threads`` holding one WebSocket each (simple-websocket takes the connection from
``environ["gunicorn.socket"]``). One worker, because Socket.IO needs every request of a client to reach the process
that holds its session; more processes are more ``opinion-desk run`` instances behind a proxy with sticky sessions,
sharing ``[desk] message_queue``.

The app is built in the worker (:meth:`DeskServer.load`), so the scheduler and background work start once, in the
process that serves, and stop when it exits. In gunicorn's own terms it runs
``gunicorn --workers 1 --worker-class gthread --threads 256 --bind 127.0.0.1:5000`` on the desk app.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)


class DeskServer(BaseApplication):
    """gunicorn running the desk app that ``build()`` makes in the worker; ``stop(app)`` runs when it exits."""

    def __init__(self, build: Callable[[], Flask], stop: Callable[[Flask], None], *, host: str, port: int,
                 threads: int, options: dict[str, Any] | None = None) -> None:
        self.build = build
        self.stop = stop
        self.app: Flask | None = None
        self.options = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": 1,  # Socket.IO sessions live in one process (see the module docstring)
            "worker_class": "gthread",
            "threads": threads,
            "worker_connections": max(1000, threads * 4),
            "timeout": 60,  # the gthread worker's heartbeat runs between requests, not inside them
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "opinion-desk",
            "worker_exit": self._worker_exit,
            **(options or {}),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        _limit_malloc_arenas()
        from .memtrace import start_from_env

        start_from_env()  # OPINION_DESK_TRACEMALLOC=<file>: a memory hunt in this worker (opinion_desk/memtrace.py)
        self.app = self.build()
        # what the start built (app, desk, rules, models: ~140k objects) leaves the collector: each of its full
        # passes walked them for 85-200 ms inside whichever request tripped it (the p95 of the dashboard's calls);
        # after the freeze a full pass takes ~2 ms. Garbage of the start goes first.
        gc.collect()
        gc.freeze()
        return self.app

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self.app is not None:
            log.info("desk worker exiting: stopping background work")
            self.stop(self.app)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core); with a thread per
    dashboard the arenas' fragments add up to RSS that is never given back. Two arenas, as MALLOC_ARENA_MAX=2
    would set, before the worker starts its threads; a no-op where glibc is not the C library."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        log.debug("mallopt unavailable: malloc arenas left as they are")


def serve(build: Callable[[], Flask], stop: Callable[[Flask], None], *, host: str, port: int, threads: int,
          options: dict[str, Any] | None = None) -> None:
    """Serve until stopped (SIGINT/SIGTERM)."""
    DeskServer(build, stop, host=host, port=port, threads=threads, options=options).run()
