"""Fixtures shared by the whole suite: the app on a fresh data dir, its client, a live server, shared data.

Elasticsearch fixtures (``es_url``) come from :mod:`tests.es_fixture`; a test that needs the node fails, never
skips, when it cannot start. PostgreSQL (``pg_url``, ``state_url`` over SQLite and PostgreSQL) and Redis
(``redis_url``) come from :mod:`tests.pg_fixture` and :mod:`tests.redis_fixture`, on the same terms.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from opinion_desk import create_app, stop_background

pytest_plugins = ["tests.es_fixture", "tests.pg_fixture", "tests.redis_fixture"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
INGEST_TOKEN = "test-ingest-token"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repo (CI has it); tests that read it skip only that data when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repo")
    return SHARED


@pytest.fixture(scope="session")
def analyzer():
    """One real analyzer for the session: loading dictionaries and models once keeps the suite fast."""
    import analyzers

    return analyzers.Analyzer()


def make_test_config(tmp_path: Path, **sections: dict) -> dict:
    cfg = {
        "desk": {"data_dir": str(tmp_path / "var")},
        "ingest": {"tokens": [INGEST_TOKEN]},
        # tests choose their rules and sources; the shipped ones are checked by their own tests
        "rules": {"dir": str(tmp_path / "rules")},
        "collectors": {"sources_dir": str(tmp_path / "sources")},
    }
    for sec, values in sections.items():
        cfg.setdefault(sec, {}).update(values)
    return cfg


@pytest.fixture
def app_config(tmp_path: Path, request: pytest.FixtureRequest) -> dict:
    """The test config; a test may change it before asking for ``app``. ``OPINION_DESK_TEST_STATE=postgresql``
    gives the app a fresh PostgreSQL state database (tests/pg_fixture.py) instead of SQLite."""
    cfg = make_test_config(tmp_path)
    if os.environ.get("OPINION_DESK_TEST_STATE") == "postgresql":
        cfg["state"] = {"url": request.getfixturevalue("pg_url")}
    return cfg


@pytest.fixture
def app(app_config: dict, analyzer):
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    yield app
    stop_background(app)
    app.desk.close()


# -- logged-in clients (every page and API needs a login since the auth layer; see opinion_desk/web/auth.py) --
TEST_PASSWORD = "test-password-123"
TEST_NAMES = {"admin": "测试管理员", "duty": "值班员小王", "approver": "李主任", "analyst": "分析员小赵"}
_fast_hash: list[str] = []


def write_rules(app_config: dict, rules: dict[str, str]) -> dict:
    """Write rule files (file name -> YAML) into the test desk's rules directory; returns ``app_config``."""
    d = Path(app_config["rules"]["dir"])
    d.mkdir(parents=True, exist_ok=True)
    for name, text in rules.items():
        (d / name).write_text(text, encoding="utf-8")
    return app_config


def ensure_user(app, role: str = "admin", username: str | None = None) -> str:
    """Create (once) a user with ``role`` in the app's state DB; returns its username (password TEST_PASSWORD).
    Test users get a cheap pbkdf2 hash so logins stay fast; real users get scrypt."""
    from werkzeug.security import generate_password_hash

    from opinion_desk.state.users import create_user, get_user

    if not _fast_hash:
        _fast_hash.append(generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000"))
    username = username or f"test-{role}"
    with app.desk.state.session_scope() as s:
        if get_user(s, username) is None:
            create_user(s, username, None, [role], display_name=TEST_NAMES.get(role, username),
                        password_hash=_fast_hash[0])
    return username


def login_client(app, username: str, password: str = TEST_PASSWORD):
    """A test client logged in through the real login form; it sends the session's CSRF token on every request."""
    import re

    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 302, f"login as {username} failed: {r.status_code}"
    c.environ_base["HTTP_X_CSRF_TOKEN"] = c.get("/api/v1/me").get_json()["csrf_token"]
    return c


def session_cookie(client) -> str:
    """The value of a logged-in test client's session cookie (for Socket.IO clients and browsers)."""
    return client.get_cookie("session").value


@pytest.fixture
def client(app):
    """A client logged in as an admin (holds every role)."""
    return login_client(app, ensure_user(app, "admin"))


@pytest.fixture
def anon_client(app):
    """A client that is not logged in."""
    return app.test_client()


@pytest.fixture
def login_as(app):
    """``login_as("approver")`` -> a client logged in as a user with that role (``username=`` to have several)."""

    def make(role: str, username: str | None = None):
        return login_client(app, ensure_user(app, role, username))

    return make


@pytest.fixture
def desk_cookie(app) -> str:
    """A logged-in admin's session cookie value: ``headers={"Cookie": f"session={desk_cookie}"}``."""
    return session_cookie(login_client(app, ensure_user(app, "admin")))


@pytest.fixture
def ingest_headers() -> dict:
    return {"Authorization": f"Bearer {INGEST_TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def desk_events(live_server, desk_cookie):
    """A real Socket.IO client on ``/desk`` of the live server, logged in as an admin.

    ``got = desk_events("alert", "alert_resolved")`` connects and returns a queue of ``(event, data)`` in arrival
    order; the client disconnects after the test."""
    import queue

    import socketio

    sio = socketio.Client()
    got: queue.Queue = queue.Queue()

    def listen(*names: str) -> queue.Queue:
        for name in names:
            # live events carry {seq, epoch} as a last argument (opinion_desk/livefeed.py)
            sio.on(name, lambda data, *_meta, name=name: got.put((name, data)), namespace="/desk")
        sio.connect(live_server, namespaces=["/desk"], transports=["websocket"],
                    headers={"Cookie": f"session={desk_cookie}"})
        return got

    yield listen
    if sio.connected:
        sio.disconnect()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app (with Socket.IO) served on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    t.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    t.join(5)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (browsers cannot be downloaded here). Fails when it is missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or apt-get install chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, desk_cookie):
    """A Chromium page logged in as an admin (its session cookie is set for 127.0.0.1)."""
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1360, "height": 900})
    ctx.add_cookies([{"name": "session", "value": desk_cookie, "domain": "127.0.0.1", "path": "/"}])
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
