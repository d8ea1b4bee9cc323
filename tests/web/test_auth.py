"""Login, sessions, CSRF, the login rate limit, API tokens, roles, and the Socket.IO login requirement."""

from __future__ import annotations

import re

import pytest
import requests
import socketio
from click.testing import CliRunner

from opinion_desk.cli import main as cli
from opinion_desk.state.users import create_token, get_user
from opinion_desk.web.auth import ensure_demo_admin, require_role
from tests.conftest import TEST_PASSWORD, ensure_user, login_client


def _csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def _login(c, username, password):
    token = _csrf(c.get("/login").get_data(as_text=True))
    return c.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_everything_needs_a_login_except_login_health_static(anon_client):
    r = anon_client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = anon_client.get("/api/v1/posts")
    assert r.status_code == 401 and r.get_json()["error"] == "需要登录"
    assert anon_client.get("/login").status_code == 200
    assert anon_client.get("/api/v1/health").status_code in (200, 503)
    assert anon_client.get("/static/js/desk.js").status_code == 200


def test_login_page_is_chinese_and_sets_safe_cookie(app, anon_client):
    page = anon_client.get("/login").get_data(as_text=True)
    assert "值班登录" in page and 'name="csrf_token"' in page
    ensure_user(app, "duty")
    r = _login(anon_client, "test-duty", TEST_PASSWORD)
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    home = anon_client.get("/")
    assert home.status_code == 200
    assert "值班员小王" in home.get_data(as_text=True)
    assert '<meta name="csrf-token"' in home.get_data(as_text=True)


def test_secure_cookie_when_configured(app_config, analyzer):
    from opinion_desk import create_app

    app_config["auth"] = {"secure_cookies": True}
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    ensure_user(app, "duty")
    c = app.test_client()
    r = _login(c, "test-duty", TEST_PASSWORD)
    assert "Secure" in r.headers["Set-Cookie"]


def test_wrong_password_and_unknown_user_are_refused_alike(app, anon_client):
    ensure_user(app, "duty")
    r1 = _login(anon_client, "test-duty", "wrong-password")
    r2 = _login(anon_client, "nobody", "wrong-password")
    assert r1.status_code == r2.status_code == 401
    assert "用户名或密码错误" in r1.get_data(as_text=True)
    assert anon_client.get("/api/v1/posts").status_code == 401


def test_login_rate_limit_per_account_spares_the_users_own_browser(app):
    ensure_user(app, "duty")
    own = app.test_client()  # the officer's browser: logged in before, so it carries the device cookie
    assert _login(own, "test-duty", TEST_PASSWORD).status_code == 302
    own.post("/logout", headers={"X-CSRF-Token": own.get("/api/v1/me").get_json()["csrf_token"]})
    c = app.test_client()  # someone else at the same office address
    for _ in range(5):
        assert _login(c, "test-duty", "bad-password!").status_code == 401
    r = _login(c, "test-duty", TEST_PASSWORD)  # even the right password waits now
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    assert _login(own, "test-duty", TEST_PASSWORD).status_code == 302  # the real user is not locked out


def test_login_needs_its_csrf_token_and_next_stays_on_site(app, anon_client):
    ensure_user(app, "duty")
    r = anon_client.post("/login", data={"username": "test-duty", "password": TEST_PASSWORD})
    assert r.status_code == 400
    token = _csrf(anon_client.get("/login").get_data(as_text=True))
    r = anon_client.post("/login", data={"username": "test-duty", "password": TEST_PASSWORD, "csrf_token": token,
                                         "next": "//evil.example.com/x"})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_state_changes_need_the_csrf_token(app):
    view = require_role("duty")(lambda: "ok")
    app.add_url_rule("/api/v1/_probe", "probe", view, methods=["POST"])
    c = login_client(app, ensure_user(app, "duty"))
    assert c.post("/api/v1/_probe").status_code == 200  # the fixture client sends X-CSRF-Token
    del c.environ_base["HTTP_X_CSRF_TOKEN"]
    r = c.post("/api/v1/_probe")
    assert r.status_code == 403 and "CSRF" in r.get_json()["error"]
    r = c.post("/api/v1/_probe", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403


def test_require_role_refuses_other_roles(app, login_as):
    app.add_url_rule("/api/v1/_approve", "approve_probe", require_role("approver")(lambda: "ok"), methods=["POST"])
    r = login_as("duty").post("/api/v1/_approve")
    assert r.status_code == 403 and "审核领导" in r.get_json()["error"]
    assert login_as("approver").post("/api/v1/_approve").status_code == 200
    assert login_as("admin").post("/api/v1/_approve").status_code == 200


def test_logout_ends_the_session(client):
    assert client.get("/api/v1/posts").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/api/v1/posts").status_code == 401


def test_password_change_ends_open_sessions(app):
    from opinion_desk.state.users import set_password

    c = login_client(app, ensure_user(app, "duty"))
    assert c.get("/api/v1/me").status_code == 200
    with app.desk.state.session_scope() as s:
        set_password(get_user(s, "test-duty"), "a-new-password-1")
    assert c.get("/api/v1/me").status_code == 401


def test_api_tokens_scopes_and_revocation(app, anon_client):
    app.add_url_rule("/api/v1/_write", "write_probe", require_role("duty")(lambda: "ok"), methods=["POST"])
    ensure_user(app, "duty")
    with app.desk.state.session_scope() as s:
        user = get_user(s, "test-duty")
        read_row, read_tok = create_token(s, "reader", ["read"], user)
        _, write_tok = create_token(s, "writer", ["read", "write"], user)
        _, ingest_tok = create_token(s, "crawler", ["ingest"])
    h = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    assert anon_client.get("/api/v1/posts", headers=h(read_tok)).status_code == 200
    r = anon_client.post("/api/v1/_write", headers=h(read_tok))
    assert r.status_code == 403 and "write" in r.get_json()["error"]
    assert anon_client.post("/api/v1/_write", headers=h(write_tok)).status_code == 200  # no CSRF for tokens
    assert anon_client.get("/api/v1/posts", headers=h("odk_made-up")).status_code == 401
    assert anon_client.get("/", headers=h(read_tok)).status_code == 302  # tokens are for /api/ only
    # the ingest route accepts DB tokens with the ingest scope, besides the configured ones
    item = {"id": "t1", "text": "测试推送", "created_at": "2026-11-24T08:00:00+08:00"}
    assert anon_client.post("/api/v1/posts", json=[item], headers=h(ingest_tok)).status_code == 202
    assert anon_client.post("/api/v1/posts", json=[item], headers=h(read_tok)).status_code == 401
    with app.desk.state.session_scope() as s:
        row = s.get(type(read_row), read_row.id)
        assert row.last_used is not None
        row.revoked = True
    assert anon_client.get("/api/v1/posts", headers=h(read_tok)).status_code == 401


def test_socketio_needs_a_logged_in_session(live_server, desk_cookie):
    anon = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        anon.connect(live_server, namespaces=["/desk"], transports=["websocket"], wait_timeout=10)
    anon.disconnect()
    hello: list = []
    sio = socketio.Client()
    sio.on("hello", lambda d: hello.append(d), namespace="/desk")
    sio.connect(live_server, namespaces=["/desk"], transports=["websocket"],
                headers={"Cookie": f"session={desk_cookie}"}, wait_timeout=10)
    try:
        assert sio.connected
        sio.sleep(0.5)
        assert hello == [{"ok": True}]
    finally:
        sio.disconnect()
    # and a browser-style HTTP client gets pages with the same cookie
    assert requests.get(live_server + "/", cookies={"session": desk_cookie}, timeout=10).status_code == 200


def test_cli_users_add_list_passwd_token(tmp_path, analyzer):
    from opinion_desk import create_app

    cfg_file = tmp_path / "desk.toml"
    cfg_file.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    run = lambda *a: CliRunner().invoke(cli, ["--config", str(cfg_file), *a])  # noqa: E731
    r = run("users", "add", "wang", "--role", "duty", "--name", "王值班", "--password", "duty-pass-1")
    assert r.exit_code == 0, r.output
    assert run("users", "add", "wang", "--role", "duty", "--password", "duty-pass-1").exit_code != 0
    r = run("users", "add", "boss", "--role", "boss", "--password", "duty-pass-1")
    assert r.exit_code != 0 and "未知角色" in r.output
    assert run("users", "add", "short", "--role", "duty", "--password", "123").exit_code != 0
    assert run("users", "passwd", "wang", "--password", "duty-pass-2").exit_code == 0
    r = run("users", "token", "crawler-1")
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[0]
    assert token.startswith("odk_")
    r = run("users", "list")
    assert "wang" in r.output and "王值班" in r.output and "crawler-1" in r.output and token not in r.output
    for cmd in (["users", "--help"], ["users", "add", "--help"], ["users", "token", "--help"]):
        assert run(*cmd).exit_code == 0

    app = create_app({"desk": {"data_dir": str(tmp_path / "var")}}, analyzer_factory=lambda: analyzer)
    c = app.test_client()
    assert _login(c, "wang", "duty-pass-1").status_code == 401
    assert _login(c, "wang", "duty-pass-2").status_code == 302
    item = {"id": "cli-1", "text": "推送", "created_at": "2026-11-24T08:00:00+08:00"}
    r = app.test_client().post("/api/v1/posts", json=[item], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 202
    assert run("users", "token", "crawler-1", "--revoke").exit_code == 0
    r = app.test_client().post("/api/v1/posts", json=[item], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_demo_admin_is_created_once_and_its_password_works(app_config, analyzer):
    from opinion_desk import create_app

    app_config["desk"]["demo"] = True
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    creds = ensure_demo_admin(app.config["DESK"], app.desk.state)
    assert creds is not None and creds[0] == "admin"
    assert ensure_demo_admin(app.config["DESK"], app.desk.state) == creds  # printed again at the next start, while it still works
    c = app.test_client()
    assert _login(c, *creds).status_code == 302


# -- changing one's own password ----------------------------------------------------------------------------
def _change(c, old, new, again=None, csrf=True):
    data = {"old_password": old, "new_password": new, "new_password2": new if again is None else again}
    if csrf:
        data["csrf_token"] = _csrf(c.get("/account/password").get_data(as_text=True))
    return c.post("/account/password", data=data, headers={"X-CSRF-Token": ""})


def test_password_change_page(app):
    from opinion_desk.incidents.audit import verify_chain
    from opinion_desk.state.incidents import AuditEntry

    ensure_user(app, "duty")
    c = login_client(app, "test-duty")
    other = login_client(app, "test-duty")  # the same user on another computer
    page = c.get("/account/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "修改密码" in html and 'name="old_password"' in html and 'minlength="8"' in html
    assert 'href="/account/password"' in c.get("/").get_data(as_text=True)  # reachable from every page

    r = _change(c, TEST_PASSWORD, "new-password-1", csrf=False)
    assert r.status_code == 403 and "CSRF" in r.get_data(as_text=True)
    r = _change(c, "wrong-password", "new-password-1")
    assert r.status_code == 400 and "原密码错误" in r.get_data(as_text=True)
    r = _change(c, TEST_PASSWORD, "new-password-1", again="new-password-2")
    assert r.status_code == 400 and "不一致" in r.get_data(as_text=True)
    r = _change(c, TEST_PASSWORD, "short")
    assert r.status_code == 400 and "至少 8 个字符" in r.get_data(as_text=True)
    r = _change(c, TEST_PASSWORD, TEST_PASSWORD)
    assert r.status_code == 400 and "不能与原密码相同" in r.get_data(as_text=True)
    assert _login(app.test_client(), "test-duty", TEST_PASSWORD).status_code == 302  # nothing changed yet

    r = _change(c, TEST_PASSWORD, "new-password-1")
    assert r.status_code == 200 and "密码已修改" in r.get_data(as_text=True)
    assert c.get("/api/v1/me").status_code == 200  # this session stays
    assert other.get("/api/v1/me").status_code == 401  # every other one ends
    assert _login(app.test_client(), "test-duty", TEST_PASSWORD).status_code == 401
    assert _login(app.test_client(), "test-duty", "new-password-1").status_code == 302
    with app.desk.state.session_scope() as s:
        entries = s.query(AuditEntry).filter_by(action="password_change").all()
        assert [(e.actor, e.incident_id) for e in entries] == [("test-duty", None)]
        assert "new-password-1" not in str(entries[0].payload)
        assert verify_chain(s).ok


def test_password_change_limits_wrong_old_passwords(app):
    ensure_user(app, "duty")
    c = login_client(app, "test-duty")
    for _ in range(5):
        assert _change(c, "wrong-password", "new-password-1").status_code == 400
    r = _change(c, TEST_PASSWORD, "new-password-1")
    assert r.status_code == 429 and "次数过多" in r.get_data(as_text=True)


def test_password_change_needs_a_login(anon_client):
    r = anon_client.get("/account/password")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
