"""Pytest plugin: a real PostgreSQL server for the tests (Debian's ``postgresql`` package, as ``make test`` installs it).

Load it from the root conftest (``pytest_plugins``). The server listens on 127.0.0.1:55432
(``$OPINION_DESK_TEST_PG_PORT``) with its cluster under ``<repo>/.cache/pg`` (``$OPINION_DESK_TEST_PG_HOME``), is
made by ``initdb`` on first use and left running after the session, like the Elasticsearch node, so the next run
reuses it. PostgreSQL refuses to run as root: as root the cluster belongs to, and the server runs as, the
unprivileged user ``opinion-desk-test`` (created when missing). ``$OPINION_DESK_TEST_PG_URL`` (a server URL, any
database) points the tests at an existing server instead. When the server cannot start, every test that needs it
FAILS with the reason — never skips.

Fixtures:

- ``pg_server``: the server's URL (``postgresql+psycopg://postgres@127.0.0.1:55432``), session-wide;
- ``pg_url``: a database of this test module (made fresh, dropped after the module), emptied before each test;
- ``state_url``: parametrized over ``sqlite`` and ``postgresql``: an empty state database URL of either kind, for
  tests that must pass on both (``StateDB(state_url)``).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PG_PORT = int(os.environ.get("OPINION_DESK_TEST_PG_PORT", "55432"))
PG_HOME = Path(os.environ.get("OPINION_DESK_TEST_PG_HOME") or REPO / ".cache" / "pg")
PG_USER = "opinion-desk-test"  # the OS user the server runs as when the tests run as root
START_TIMEOUT = 60.0
# a throwaway cluster: durability off, enough connections for pooled engines in parallel test runs
SERVER_OPTS = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
               "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
               "-c", "timezone=UTC"]

_failure: list[str] = []


class PGUnavailable(Exception):
    """The test server cannot be found, made or started (the message says why)."""


def server_bin() -> Path:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").exists()]
    if not found:
        raise PGUnavailable("no PostgreSQL server under /usr/lib/postgresql/*/bin: run `make test` (it installs "
                            "Debian's postgresql) or apt-get install postgresql")
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _connect(url: str, **kw):  # noqa: ANN202
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5, **kw)


def _run_as(user: pwd.struct_passwd | None) -> dict:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _service_user() -> pwd.struct_passwd | None:
    """None when not root; else the unprivileged user (made when missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        p = subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", PG_USER],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise PGUnavailable(f"cannot create the user {PG_USER} to run PostgreSQL as (the server refuses "
                                f"root): {p.stderr.strip()}") from None
        return pwd.getpwnam(PG_USER)


def log_tail(path: Path, n: int = 15) -> str:
    """The last ``n`` lines of a test server's log, for the failure message (tests/redis_fixture.py too)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def ensure_server(port: int = PG_PORT, home: Path = PG_HOME) -> str:
    """The URL of a running test server: reused when one answers on ``port``, else made (initdb) and started."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "lock", "w") as lock:  # two pytest runs starting together: one makes the cluster
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(port):
            try:
                _connect(url + "/postgres").close()
                return url
            except Exception as e:  # noqa: BLE001
                raise PGUnavailable(f"something listens on 127.0.0.1:{port} but is not the test PostgreSQL "
                                    f"(set OPINION_DESK_TEST_PG_PORT): {e}") from None
        bindir = server_bin()
        user = _service_user()
        data, log = home / "data", home / "server.log"
        if user is not None:
            os.chown(home, user.pw_uid, user.pw_gid)
            for p in (home.parent, *home.parent.parents):  # the user must reach its directory
                if not os.stat(p).st_mode & 0o001:
                    raise PGUnavailable(f"{PG_USER} cannot enter {p} to reach {home}; set OPINION_DESK_TEST_PG_HOME "
                                        "to a directory it can reach")
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(data, ignore_errors=True)
            p = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                               capture_output=True, text=True, cwd=home, **_run_as(user))
            if p.returncode != 0:
                raise PGUnavailable(f"initdb {data} failed: {(p.stderr or p.stdout).strip()[-800:]}")
        p = subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(int(START_TIMEOUT)),
                            "-o", " ".join([f"-p {port}", *(f"{a} {b}" if a == "-c" else a for a, b in
                                                            zip(SERVER_OPTS[::2], SERVER_OPTS[1::2]))]),
                            "start"], capture_output=True, text=True, cwd=home, **_run_as(user))
        if p.returncode != 0:
            raise PGUnavailable(f"pg_ctl start failed ({(p.stderr or p.stdout).strip()[-400:]}); "
                                f"{log}:\n{log_tail(log)}")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                _connect(url + "/postgres").close()
                return url
            except Exception as e:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise PGUnavailable(f"PostgreSQL did not accept connections on 127.0.0.1:{port}: {e}; "
                                        f"{log}:\n{log_tail(log)}") from None
                time.sleep(0.2)


def create_database(server: str, prefix: str = "odt") -> str:
    """A new empty database on ``server`` (its sessions' time zone Asia/Shanghai); returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _connect(server + "/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        # as a server in a Chinese office would be set: the desk must not depend on the server's zone
        c.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Shanghai'")
    return f"{server}/{name}"


def drop_stale_databases(server: str, hours: float = 6) -> list[str]:
    """Drop the test databases (``odt_*``, ``odx_*``) a killed run left behind: made more than ``hours`` ago."""
    with _connect(server + "/postgres", autocommit=True) as c:
        names = [r[0] for r in c.execute(
            "SELECT datname FROM pg_database WHERE (datname LIKE 'odt\\_%%' OR datname LIKE 'odx\\_%%') AND "
            "(pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - make_interval(secs => %s)",
            (hours * 3600,))]
        for name in names:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


def drop_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    with _connect(server + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database(url: str) -> None:
    """Drop every table (and the Alembic version) of ``url``: the public schema made anew, in one transaction.
    Connections an earlier test left open (a pool, a transaction never ended, which would hold its locks and make
    the drop wait forever) are ended first."""
    with _connect(url, autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with _connect(url) as c:  # commits on leaving
        c.execute("SET lock_timeout = '30s'")
        c.execute("DROP SCHEMA public CASCADE")
        c.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a running PostgreSQL server for the tests (no database named)."""
    if os.environ.get("OPINION_DESK_TEST_PG_URL"):
        u = os.environ["OPINION_DESK_TEST_PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
        return u.rsplit("/", 1)[0] if u.count("/") > 2 else u
    if _failure:
        pytest.fail(_failure[0], pytrace=False)
    try:
        url = ensure_server()
        drop_stale_databases(url)
        return url
    except PGUnavailable as e:
        _failure.append(f"PostgreSQL test server (127.0.0.1:{PG_PORT}, home {PG_HOME}) could not start: {e}")
    except Exception as e:  # noqa: BLE001 - a psycopg that will not import, a file we may not write ...
        _failure.append(f"PostgreSQL test server (127.0.0.1:{PG_PORT}, home {PG_HOME}) could not start: "
                        f"{type(e).__name__}: {e}")
    pytest.fail(_failure[0], pytrace=False)


@pytest.fixture(scope="module")
def pg_module_db(pg_server: str) -> Iterator[str]:
    url = create_database(pg_server)
    yield url
    drop_database(url)


@pytest.fixture
def pg_url(pg_module_db: str) -> str:
    """URL of this module's PostgreSQL database, empty at the start of each test."""
    empty_database(pg_module_db)
    return pg_module_db


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty state database: a SQLite file, then a PostgreSQL database (the same test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("pg_url")
