"""Doors shut: a copied session cookie dies at logout, pages cannot be framed and load scripts only from the desk,
and the login limits stop guessing (per account with backoff, per address, password spraying) without locking the
real user out for good."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from opinion_desk.web.auth import CSP
from opinion_desk.web.login_limits import backoff_left
from tests.conftest import TEST_PASSWORD, ensure_user, login_client


def _login(c, username, password, addr=None):
    if addr:
        c.environ_base["REMOTE_ADDR"] = addr
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").get_data(as_text=True)).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _audit_actions(app) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from opinion_desk.state.incidents import AuditEntry

    with app.desk.state.session_scope() as s:
        return [(e.actor, e.action) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_a_copied_cookie_stops_working_at_logout(app):
    c = login_client(app, ensure_user(app, "duty"))
    cookie = c.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/api/v1/me").status_code == 200
    assert c.post("/logout").status_code == 302
    assert thief.get("/api/v1/me").status_code == 401
    assert thief.get("/").status_code == 302
    assert ("test-duty", "logout") in _audit_actions(app)


def test_a_copied_cookie_stops_working_after_a_password_change(app):
    c = login_client(app, ensure_user(app, "duty"))
    thief = app.test_client()
    thief.set_cookie("session", c.get_cookie("session").value)
    r = c.post("/account/password", data={"old_password": TEST_PASSWORD, "new_password": "another-pass-9",
                                          "new_password2": "another-pass-9"})
    assert r.status_code == 200
    assert c.get("/api/v1/me").status_code == 200  # the session that changed it stays
    assert thief.get("/api/v1/me").status_code == 401


def test_security_headers_on_pages_api_and_login(app, client, anon_client):
    for r in (client.get("/"), client.get("/api/v1/posts"), anon_client.get("/login"), client.get("/incidents")):
        assert r.headers["X-Frame-Options"] == "DENY"
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert CSP.count("unsafe-eval") == 0
    # every script a page loads is the desk's own file: nothing inline that the policy would block
    for page in ("/", "/alerts", "/incidents", "/sources", "/account/password"):
        html = client.get(page).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (page, tag)
        assert not re.search(r"\son[a-z]+=", html), page  # no inline event handlers


def test_backoff_grows_and_is_capped():
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    cap = timedelta(minutes=15)
    fails = [now - timedelta(seconds=10)] * 4
    assert backoff_left(fails, 5, cap, now) == timedelta(0)
    assert backoff_left(fails + [now], 5, cap, now) == timedelta(minutes=1)
    assert backoff_left(fails + [now] * 3, 5, cap, now) == timedelta(minutes=4)
    assert backoff_left(fails + [now] * 20, 5, cap, now) == cap  # never locked for good
    assert backoff_left(fails + [now - timedelta(minutes=20)], 5, cap, now) == timedelta(0)


def test_account_backoff_ends(app):
    from sqlalchemy import update

    from opinion_desk.state.users import LoginFailure

    ensure_user(app, "duty")
    c = app.test_client()
    for _ in range(5):
        assert _login(c, "test-duty", "wrong-password").status_code == 401
    r = _login(c, "test-duty", TEST_PASSWORD)
    assert r.status_code == 429 and "1 分钟后再试" in r.get_data(as_text=True)
    with app.desk.state.session_scope() as s:  # two minutes pass
        s.execute(update(LoginFailure).values(at=LoginFailure.at - timedelta(minutes=2)))
    assert _login(c, "test-duty", TEST_PASSWORD).status_code == 302
    actions = [a for _u, a in _audit_actions(app)]
    assert actions.count("login_failed") == 5 and "login_refused" in actions and actions[-1] == "login"


def test_address_limit_is_higher_than_the_account_limit(app_config, analyzer):
    from opinion_desk import create_app

    app_config["auth"] = {"login_address_max_failures": 8, "login_spray_accounts": 100}
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    for i in range(4):
        ensure_user(app, "duty", f"officer{i}")
    c = app.test_client()
    for i in range(8):  # two wrong passwords on each of four accounts: no account is over its limit
        assert _login(c, f"officer{i % 4}", f"wrong-{i}").status_code == 401
    r = _login(c, "officer0", TEST_PASSWORD)
    assert r.status_code == 429 and "本机地址登录失败次数过多" in r.get_data(as_text=True)
    assert _login(app.test_client(), "officer0", TEST_PASSWORD, addr="10.1.1.1").status_code == 302


def test_one_password_across_many_usernames_is_refused(app):
    for i in range(6):
        ensure_user(app, "duty", f"user{i}")
    sprayed = "Spring2026!"
    for i in range(5):  # from five different addresses: the per-address limit never sees it
        assert _login(app.test_client(), f"user{i}", sprayed, addr=f"10.9.0.{i}").status_code == 401
    r = _login(app.test_client(), "user5", sprayed, addr="10.9.0.99")
    assert r.status_code == 429 and "多个账号" in r.get_data(as_text=True)
    # other passwords (the users' own) still work
    assert _login(app.test_client(), "user5", TEST_PASSWORD, addr="10.9.0.99").status_code == 302
    from sqlalchemy import select

    from opinion_desk.state.users import LoginFailure

    with app.desk.state.session_scope() as s:
        keys = " ".join(s.scalars(select(LoginFailure.key)))
    assert sprayed not in keys  # kept as a keyed hash only


def test_behind_a_trusted_proxy_the_audit_log_sees_the_browser(tmp_path, analyzer):  # noqa: ANN001
    """[desk] trusted_proxies = 1 (nginx in front): X-Forwarded-For names the browser; with 0 it is ignored (a
    browser talking to the desk directly could claim any address)."""
    from sqlalchemy import select

    from opinion_desk import create_app
    from opinion_desk.state.incidents import AuditEntry
    from tests.conftest import make_test_config

    def failed_login_address(proxies: int) -> str:
        app = create_app(make_test_config(tmp_path / str(proxies), desk={"trusted_proxies": proxies}),
                         analyzer_factory=lambda: analyzer)
        try:
            c = app.test_client()
            page = c.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            c.post("/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": token},
                   headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
            with app.desk.state.session_scope() as s:
                e = s.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).one()
                return e.payload["address"]
        finally:
            app.desk.close()

    assert failed_login_address(1) == "203.0.113.9"
    assert failed_login_address(0) == "10.0.0.2"
