"""Shared by the bench scripts: serve a desk on a loopback port and log in to it."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

TOKEN = "bench-token"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (a gunicorn master and its worker, an import), MB, from /proc."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for tid in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return total / 1024


@contextmanager
def serve(tmp: Path, cfg: dict[str, dict[str, Any]] | None = None) -> Iterator[tuple[str, str]]:
    """A desk (app + Socket.IO) on a free loopback port; yields (base URL, ingest token)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from opinion_desk import create_app, stop_background

    test_config: dict[str, dict[str, Any]] = {"desk": {"data_dir": str(tmp / "var")}, "ingest": {"tokens": [TOKEN]},
                                              "rules": {"dir": str(tmp / "rules")},  # none unless the bench adds some
                                              "collectors": {"sources_dir": str(tmp / "sources")}}
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


BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench-password-123"


def login_session(base: str) -> Session:
    """A requests session logged in, through the real login form, as a bench admin created in the served app."""
    import re

    from opinion_desk.state.users import create_user, get_user

    app = serve.app  # type: ignore[attr-defined]
    with app.extensions["opinion_desk.state"].session_scope() as s:
        if get_user(s, BENCH_USER) is None:
            create_user(s, BENCH_USER, BENCH_PASSWORD, ["admin"], display_name="基准测试")
    http = Session()
    page = http.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = http.post(base + "/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=10)
    if r.status_code != 302:
        raise SystemExit(f"bench: login failed ({r.status_code})")
    return http
