"""Login, logout, and the login requirement for the whole app.

Every page and API needs a logged-in session or a machine token, except the login page, ``/api/v1/health`` and
static files (:data:`PUBLIC_ENDPOINTS`). How a request is let in (:func:`_guard`, run before every request):

- ``Authorization: Bearer TOKEN`` on an ``/api/`` route: a token from ``opinion-desk users token``; a GET needs
  the ``read`` scope, anything else ``write`` (acting as the token's user). Token calls need no CSRF token.
  ``POST /api/v1/posts`` checks its own tokens (configured ``[ingest] tokens`` or DB tokens with ``ingest``).
- otherwise the session: a logged-in user; state-changing requests (POST/PUT/PATCH/DELETE) must carry the
  session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``; pages put it in
  ``<meta name="csrf-token">`` and ``static/js/desk.js`` sends it with every fetch).

Session cookies are HttpOnly, SameSite=Lax, and Secure when ``[auth] secure_cookies`` is true. A session names
its user and the user's session generation (``User.session_version``), checked on every request: logging out
and changing a password bump it, so a copied cookie stops working (logging out ends the user's sessions on every
device). Every answer carries ``X-Frame-Options: DENY`` and a Content-Security-Policy (:data:`CSP`: scripts only
from the desk itself, no framing).

Login limits (:mod:`opinion_desk.web.login_limits`), all within ``[auth] login_window_minutes``, messages in Chinese:

- per account: after ``login_max_failures`` failures a login waits 1 minute after the last one, doubling with
  each further failure up to the window (a backoff, never a lock for good). A browser that has logged in as that
  user before carries a signed device cookie and is counted on its own, so someone
  guessing from the same shared office address does not lock the real user out;
- per client address: ``login_address_max_failures`` failures (a higher threshold: an office shares one address);
- password spraying: one password that failed for ``login_spray_accounts`` different usernames is refused for
  every username until the window passes (kept as a keyed hash, never the password).

Logins, failures, refusals and logouts are written to the audit log. Role checks: :func:`require_role`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session,
                   url_for)

from ..state import get_db, get_statedb
from ..state.users import (ROLES, ApiToken, User, authenticate, clear_failures, find_token, record_failure,
                           recent_failures)
from . import login_limits as limits

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "api.health", "static", "statements.page"}
# views that check machine tokens themselves (and take no session)
SELF_CHECKED_ENDPOINTS = {"api.ingest"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# pages load scripts, styles and the Socket.IO connection from the desk itself only (templates have no inline
# script; <style> blocks and style attributes are used, so inline styles are allowed); nobody may frame a page
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin"}


@bp.record_once
def _configure(state: Any) -> None:
    app = state.app
    cfg = app.config["DESK"]["auth"] if "auth" in app.config["DESK"] else {}
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.get("secure_cookies", False)),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=int(cfg.get("session_hours", 12))),
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["ROLE_NAMES"] = ROLES


@bp.after_app_request
def _security_headers(response):  # noqa: ANN001, ANN202
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    return response


# -- who is asking -------------------------------------------------------------------------------------------
def current_user() -> User | None:
    """The user of this request (session or token), or None."""
    return g.get("user")


def current_token() -> ApiToken | None:
    return g.get("api_token")


def bearer_token() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-Desk-Token") or None


def token_has_scope(token: str, scope: str) -> bool:
    """Is ``token`` a live DB token with ``scope``? (Used by the ingest route's own check.)"""
    row = find_token(get_db(), token)
    return row is not None and scope in (row.scopes or [])


def csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def _csrf_ok() -> bool:
    want = session.get("csrf")
    got = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    return bool(want) and hmac.compare_digest(want.encode(), got.encode())


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json or \
        request.accept_mimetypes.best == "application/json"


def _deny(status: int, message: str):  # noqa: ANN202
    if _wants_json():
        return jsonify(error=message), status
    return render_template("login.html", error=message, next=None, denied=True), status


def session_user() -> User | None:
    uid = session.get("uid")
    if uid is None:
        return None
    user = get_db().get(User, uid)
    if user is None or not user.active or session.get("sv") != user.session_version:
        session.pop("uid", None)
        return None
    return user


@bp.before_app_request
def _guard():  # noqa: ANN202
    g.user = None
    g.api_token = None
    endpoint = request.endpoint
    if endpoint in PUBLIC_ENDPOINTS or endpoint is None:  # None: 404/405, nothing to protect
        return None
    if endpoint in SELF_CHECKED_ENDPOINTS:  # the view checks its machine token itself
        return None
    token = bearer_token()
    if token and request.path.startswith("/api/"):
        row = find_token(get_db(), token)
        if row is None:
            return jsonify(error="API 令牌无效或已吊销（请求头 Authorization: Bearer TOKEN）"), 401
        need = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
        if need not in (row.scopes or []):
            return jsonify(error=f"API 令牌没有 {need} 权限"), 403
        g.api_token = row
        g.user = row.user
        return None
    user = session_user()
    if user is None:
        if _wants_json():
            return jsonify(error="需要登录"), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    g.user = user
    if request.method in UNSAFE_METHODS and not _csrf_ok():
        return _deny(403, "CSRF 校验失败：请刷新页面后重试")
    return None


def require_role(*roles: str):  # noqa: ANN201
    """Let the view run only for users holding one of ``roles`` (admin holds all); else 403 (401 when anonymous)."""

    def deco(view):  # noqa: ANN001, ANN202
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):  # noqa: ANN202
            user = current_user()
            if user is None:
                return _deny(401, "需要登录")
            if not user.has_role(*roles):
                names = "、".join(ROLES.get(r, r) for r in roles)
                return _deny(403, f"权限不足：此操作需要{names}角色")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return deco


# -- pages ---------------------------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would hand a phishing page our login."""
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("dashboard.index")
    return target


def _client_key(username: str) -> str:
    return f"{username.strip().lower()}|{request.remote_addr or '?'}"


def _audit(actor: str, action: str, **payload: Any) -> None:
    from ..incidents.audit import record

    record(get_statedb(), actor or "-", action, {"address": request.remote_addr or "", **payload})


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    nxt = request.values.get("next")
    if request.method == "GET":
        if session_user() is not None:
            return redirect(_safe_next(nxt))
        return render_template("login.html", error=None, next=nxt)
    if not _csrf_ok():
        return render_template("login.html", error="页面已过期，请重新登录", next=nxt), 400
    cfg = current_app.config["DESK"]["auth"]
    window = timedelta(minutes=int(cfg["login_window_minutes"]))
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    keys = limits.failure_keys(username, password)
    db = get_statedb()
    with db.session_scope() as s:
        refused = limits.refusal(s, keys)
    if refused is not None:
        _audit(username[:80], "login_refused", reason=refused[0])
        return render_template("login.html", error=refused[1], next=nxt), 429
    with db.session_scope() as s:
        user = authenticate(s, username, password)
        if user is None:
            for k in ("account", "address", "spray_row"):
                record_failure(s, keys[k], window)
        else:
            clear_failures(s, keys["account"])
            from ..models import utcnow

            user.last_login = utcnow()
            uid, sv, canonical_name = user.id, user.session_version, user.username
    if user is None:
        _audit(username[:80], "login_failed")
        return render_template("login.html", error="用户名或密码错误", next=nxt), 401
    _audit(canonical_name, "login")
    session.clear()  # a fresh session (and CSRF token) at every login
    session.permanent = True
    session["uid"] = uid
    session["sv"] = sv
    csrf_token()
    response = redirect(_safe_next(nxt))
    limits.set_device_cookie(response, canonical_name)
    return response


@bp.post("/logout")
def logout():  # noqa: ANN201
    """End the session: the user's session generation is bumped, so this cookie (and any copy of it, and the
    user's sessions elsewhere) no longer logs anyone in."""
    user = current_user()
    if user is not None and g.get("api_token") is None:
        with get_statedb().session_scope() as s:
            row = s.get(User, user.id)
            if row is not None:
                row.session_version = (row.session_version or 1) + 1
        _audit(user.username, "logout")
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():  # noqa: ANN201
    """The logged-in user changes their own password: the old one, the new one twice (at least
    ``MIN_PASSWORD`` characters). Other sessions of the user end; this one stays. Audited (``password_change``);
    wrong old passwords count towards the login rate limit."""
    from ..errors import InputError
    from ..incidents.audit import WRITE_LOCK, append
    from ..state.users import MIN_PASSWORD, set_password

    user = current_user()
    if user is None or g.get("api_token") is not None:
        abort(401)
    page = lambda error=None, done=False, status=200: (render_template(  # noqa: E731
        "account.html", error=error, done=done, min_length=MIN_PASSWORD), status)
    if request.method == "GET":
        return page()
    cfg = current_app.config["DESK"]["auth"]
    window = timedelta(minutes=int(cfg["login_window_minutes"]))
    old = request.form.get("old_password") or ""
    new = request.form.get("new_password") or ""
    again = request.form.get("new_password2") or ""
    key = "passwd|" + _client_key(user.username)
    db = get_statedb()
    with db.session_scope() as s:
        if len(recent_failures(s, key, window)) >= int(cfg["login_max_failures"]):
            return page(f"原密码错误次数过多，请 {int(cfg['login_window_minutes'])} 分钟后再试", status=429)
    if new != again:
        return page("两次输入的新密码不一致", status=400)
    if len(new) < MIN_PASSWORD:
        return page(f"新密码太短：至少 {MIN_PASSWORD} 个字符", status=400)
    if new == old:
        return page("新密码不能与原密码相同", status=400)
    with WRITE_LOCK, db.session_scope() as s:
        row = authenticate(s, user.username, old)
        if row is None:
            record_failure(s, key, window)
        else:
            try:
                set_password(row, new)
            except InputError as e:
                return page(f"新密码不符合要求：{e}", status=400)
            clear_failures(s, key)
            append(s, row.username, "password_change", None,
                   {"actor_name": row.name, "address": request.remote_addr or "", "sessions_ended": True})
            sv = row.session_version
    if row is None:
        return page("原密码错误", status=400)
    session["sv"] = sv  # this session stays logged in; every other one ends
    return page(done=True)


@bp.get("/api/v1/me")
def me():  # noqa: ANN201
    user = current_user()
    if user is None:
        abort(401)
    return jsonify(user=user.to_dict(), csrf_token=csrf_token() if g.get("api_token") is None else None)


def socket_user() -> dict | None:
    """The logged-in user of a Socket.IO handshake (its session cookie), as a dict; None when anonymous."""
    uid = session.get("uid")
    if uid is None:
        return None
    with get_statedb().session_scope() as s:
        user = s.get(User, uid)
        if user is None or not user.active or session.get("sv") != user.session_version:
            return None
        return user.to_dict()


def ensure_demo_admin(cfg: Any, db: Any) -> tuple[str, str] | None:
    """For the demo (``[desk] demo``): when no user exists, create ``admin`` with a random password kept in
    ``data_dir/demo-admin.txt`` (0600). Returns (username, password) while that password still works."""
    from werkzeug.security import check_password_hash

    from ..state.users import create_user, get_user, user_count

    if not cfg["desk"]["demo"]:
        return None
    path = cfg.data_path("demo-admin.txt")
    with db.session_scope() as s:
        if user_count(s) == 0:
            password = secrets.token_urlsafe(12)
            create_user(s, "admin", password, ["admin"], display_name="演示管理员")
            path.write_text(f"admin\n{password}\n", encoding="utf-8")
            path.chmod(0o600)
            made = True
        else:
            made = False
    if made:
        from ..incidents.audit import record

        record(db, "system", "user_add",
               {"username": "admin", "roles": ["admin"], "via": "demo", "password_file": str(path)})
        return "admin", password
    with db.session_scope() as s:
        if path.exists():
            username, password = (path.read_text(encoding="utf-8").split("\n") + ["", ""])[:2]
            user = get_user(s, username)
            if user is not None and check_password_hash(user.password_hash, password):
                return username, password
    return None
