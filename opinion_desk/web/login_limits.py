"""The login limits (see :mod:`opinion_desk.web.auth`): per account with a growing wait, per client address with a
higher threshold, and against password spraying. Failures are rows of ``login_failures`` under these keys:

- ``u|<username>``: failures on an account from browsers it never logged in from; ``d|<nonce>``: from a browser
  holding the account's device cookie (:data:`DEVICE_COOKIE`, signed, set at each successful login), so a
  stranger guessing from the same office address does not lock the real user out;
- ``a|<address>``: every failure from one client address;
- ``p|<keyed hash of the password>|<username>``: which usernames one password failed on (the password itself is
  never stored: an HMAC keyed by the app's secret key).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app, request

from ..state.users import failed_accounts, recent_failures

DEVICE_COOKIE = "desk_device"
DEVICE_DAYS = 180


def _device_serializer():  # noqa: ANN202
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.secret_key, salt="opinion-desk-device")


def _device(username: str) -> str | None:
    """The nonce of this browser's device cookie when it was set by a login as ``username``; else None."""
    from itsdangerous import BadSignature

    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != username.strip().lower():
        return None
    return str(data.get("n") or "") or None


def _password_key(password: str) -> str:
    """A keyed hash of a tried password (never stored in clear), to see one password tried on many accounts."""
    mac = hmac.new(str(current_app.secret_key).encode(), password.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return mac.hexdigest()[:24]


def failure_keys(username: str, password: str) -> dict[str, str]:
    name = username.strip().lower()
    device = _device(username)
    return {"account": f"d|{device}" if device else f"u|{name}", "address": f"a|{request.remote_addr or '?'}",
            "spray": f"p|{_password_key(password)}|", "spray_row": f"p|{_password_key(password)}|{name}"}


def backoff_left(fails: list[datetime], free: int, cap: timedelta, now: datetime) -> timedelta:
    """How much longer a login must wait: nothing for the first ``free`` failures, then 1 minute after the last
    failure, doubling with each further one, never more than ``cap``."""
    over = len(fails) - free
    if over < 0 or not fails:
        return timedelta(0)
    wait = min(timedelta(minutes=2 ** min(over, 30)), cap)
    last = fails[-1] if fails[-1].tzinfo else fails[-1].replace(tzinfo=timezone.utc)
    return max(timedelta(0), last + wait - now)


def _minutes(left: timedelta) -> int:
    return max(1, math.ceil(left.total_seconds() / 60))


def refusal(s: Any, keys: dict[str, str]) -> tuple[str, str] | None:
    """(reason, Chinese message) when this login attempt is refused before its password is checked."""
    cfg = current_app.config["DESK"]["auth"]
    window = timedelta(minutes=int(cfg["login_window_minutes"]))
    now = datetime.now(timezone.utc)
    by_address = recent_failures(s, keys["address"], window)
    if len(by_address) >= int(cfg["login_address_max_failures"]):
        left = window - (now - by_address[0].replace(tzinfo=by_address[0].tzinfo or timezone.utc))
        return "address", f"本机地址登录失败次数过多，请 {_minutes(left)} 分钟后再试"
    if failed_accounts(s, keys["spray"], window) >= int(cfg["login_spray_accounts"]):
        return "spray", "此密码已在多个账号上登录失败，暂时不能使用，请稍后再试或联系管理员"
    left = backoff_left(recent_failures(s, keys["account"], window), int(cfg["login_max_failures"]), window, now)
    if left > timedelta(0):
        return "account", f"登录失败次数过多，请 {_minutes(left)} 分钟后再试"
    return None


def set_device_cookie(response: Any, username: str) -> None:
    cfg = current_app.config["DESK"]["auth"]
    value = _device_serializer().dumps({"u": username.strip().lower(), "n": secrets.token_urlsafe(12)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=bool(cfg.get("secure_cookies", False)))
