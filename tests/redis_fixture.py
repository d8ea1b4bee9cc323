"""Pytest plugin: a real Redis server for the tests (Debian's ``redis-server``, as ``make test`` installs it).

Load it from the root conftest (``pytest_plugins``). The server listens on 127.0.0.1:56379
(``$OPINION_DESK_TEST_REDIS_PORT``), keeps nothing on disk (``--save '' --appendonly no``), writes its log and pid
under ``<repo>/.cache/redis`` and is left running (daemonized) after the session so the next run reuses it, like
the Elasticsearch node. ``$OPINION_DESK_TEST_REDIS_URL`` points the tests at an existing server instead. When the
server cannot start, every test that needs it FAILS with the reason — never skips.

Several test runs may share the server at once: tests use their own channel and key names, never FLUSHALL.

Fixture ``redis_url``: ``redis://127.0.0.1:56379/0``, session-wide.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.pg_fixture import log_tail

REPO = Path(__file__).resolve().parents[1]
REDIS_PORT = int(os.environ.get("OPINION_DESK_TEST_REDIS_PORT", "56379"))
REDIS_HOME = Path(os.environ.get("OPINION_DESK_TEST_REDIS_HOME") or REPO / ".cache" / "redis")
START_TIMEOUT = 20.0

_failure: list[str] = []


class RedisUnavailable(Exception):
    """The test server cannot be found or started (the message says why)."""


def _ping(port: int) -> bytes | None:
    """The reply to PING on 127.0.0.1:``port`` (None: nothing listens)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64)
    except OSError:
        return None


def ensure_server(port: int = REDIS_PORT, home: Path = REDIS_HOME) -> str:
    """The URL of a running test Redis: reused when one answers PING on ``port``, else started daemonized."""
    url = f"redis://127.0.0.1:{port}/0"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reply = _ping(port)
        if reply is not None:
            if reply.startswith(b"+PONG"):
                return url
            raise RedisUnavailable(f"something listens on 127.0.0.1:{port} but does not answer PING like Redis "
                                   f"({reply[:40]!r}); set OPINION_DESK_TEST_REDIS_PORT")
        exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
        if exe is None:
            raise RedisUnavailable("redis-server is not installed: run `make test` (it installs Debian's "
                                   "redis-server) or apt-get install redis-server")
        log = home / "redis.log"
        p = subprocess.run([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--daemonize", "yes", "--dir", str(home), "--logfile", str(log),
                            "--pidfile", str(home / "redis.pid")], capture_output=True, text=True, cwd=home)
        if p.returncode != 0:
            raise RedisUnavailable(f"redis-server did not start ({(p.stderr or p.stdout).strip()[-400:]}); "
                                   f"{log}:\n{log_tail(log, 10)}")
        deadline = time.monotonic() + START_TIMEOUT
        while (_ping(port) or b"").startswith(b"+PONG") is False:
            if time.monotonic() > deadline:
                raise RedisUnavailable(f"redis-server did not answer PING on 127.0.0.1:{port} within "
                                       f"{START_TIMEOUT:.0f} s; {log}:\n{log_tail(log, 10)}")
            time.sleep(0.1)
        return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a running Redis server for the tests."""
    if os.environ.get("OPINION_DESK_TEST_REDIS_URL"):
        return os.environ["OPINION_DESK_TEST_REDIS_URL"]
    if _failure:
        pytest.fail(_failure[0], pytrace=False)
    try:
        return ensure_server()
    except RedisUnavailable as e:
        _failure.append(f"Redis test server (127.0.0.1:{REDIS_PORT}, home {REDIS_HOME}) could not start: {e}")
    pytest.fail(_failure[0], pytrace=False)
