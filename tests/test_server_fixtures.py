"""The test servers' plugins (tests/pg_fixture.py, tests/redis_fixture.py) say why they cannot start: a port taken
by something else is named, not mistaken for the server (the tests then fail with that reason, never skip)."""

from __future__ import annotations

import socket
import threading

import pytest

from tests import pg_fixture, redis_fixture


@pytest.fixture
def impostor():
    """A loopback port where something that is neither PostgreSQL nor Redis answers (an HTTP server's refusal)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            with c:
                c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    srv.close()


def test_postgres_names_a_port_taken_by_something_else(impostor, tmp_path) -> None:
    with pytest.raises(pg_fixture.PGUnavailable, match=f"127.0.0.1:{impostor} but is not the test PostgreSQL"):
        pg_fixture.ensure_server(port=impostor, home=tmp_path / "pg")


def test_redis_names_a_port_taken_by_something_else(impostor, tmp_path) -> None:
    with pytest.raises(redis_fixture.RedisUnavailable, match="does not answer PING like Redis"):
        redis_fixture.ensure_server(port=impostor, home=tmp_path / "redis")


def test_the_servers_are_debians(pg_server, redis_url) -> None:
    assert pg_fixture.server_bin().parent.parent == pg_fixture.Path("/usr/lib/postgresql")
    import psycopg
    import redis

    with psycopg.connect(pg_server.replace("+psycopg", "") + "/postgres") as c:
        assert c.execute("SHOW server_version").fetchone()[0].split(".")[0] == pg_fixture.server_bin().parent.name
    r = redis.Redis.from_url(redis_url)
    assert r.ping() and r.config_get("save") == {"save": ""} and r.config_get("appendonly") == {"appendonly": "no"}
