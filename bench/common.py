"""Shared by the bench scripts: serve a desk on a loopback port and log in to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

TOKEN = "bench-token"


@contextmanager
def serve(tmp: Path, cfg: dict[str, dict[str, Any]] | None = None) -> Iterator[tuple[str, str]]:
    """A desk (app + Socket.IO) on a free loopback port; yields (base URL, ingest token)."""
    from werkzeug.serving import make_server

    from opinion_desk import create_app, stop_background

    test_config: dict[str, dict[str, Any]] = {"desk": {"data_dir": str(tmp / "var")}, "ingest": {"tokens": [TOKEN]}}
    for sec, values in (cfg or {}).items():
        test_config.setdefault(sec, {}).update(values)
    app = create_app(test_config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    serve.app = app  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}", TOKEN
    finally:
        server.shutdown()
        stop_background(app)


class Session(requests.Session):
    def socket_headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.cookies)}


def login_session(base: str) -> Session:
    """A requests session logged in as a bench admin (when the desk requires a login)."""
    return Session()
