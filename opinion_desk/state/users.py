"""Users, roles, machine API tokens and login failures (for the login rate limit).

Roles (a user may hold several; ``admin`` passes every role check):

- ``duty``      值班员: takes alerts, opens and works incidents, drafts answers, publishes approved answers
- ``approver``  审核领导: approves drafts, approves closing an incident without a published answer
- ``analyst``   分析员: reads everything, writes rules
- ``admin``     管理员: users, tokens, configuration; every role

Passwords are kept as werkzeug hashes (scrypt by default; any werkzeug method verifies). API tokens are kept
as SHA-256 of the token (tokens are 256-bit random strings, so a fast hash is enough); the token itself is shown
once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import InputError
from . import Base
from .lengths import FittedKey

ROLES: dict[str, str] = {
    "duty": "值班员",
    "approver": "审核领导",
    "analyst": "分析员",
    "admin": "管理员",
}
# what a machine token may do: push posts, read the API, change things through the API as its user
SCOPES: dict[str, str] = {
    "ingest": "推送数据 POST /api/v1/posts",
    "read": "读取 API (GET)",
    "write": "通过 API 修改（以令牌所属用户的身份）",
}
TOKEN_PREFIX = "odk_"
MIN_PASSWORD = 8
# verifying against this keeps the time of a login for an unknown user the same as for a known one
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def _now() -> datetime:
    return datetime.now(timezone.utc)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on every password change: older sessions stop working
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def has_role(self, *roles: str) -> bool:
        """True when the user holds any of ``roles`` (an admin holds them all)."""
        mine = set(self.roles or [])
        return "admin" in mine or bool(mine.intersection(roles))

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def to_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "display_name": self.name, "roles": list(self.roles or []),
                "role_names": [ROLES.get(r, r) for r in self.roles or []], "email": self.email, "active": self.active}


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart in lists
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User | None] = relationship(back_populates="tokens")


class LoginFailure(Base):
    """One failed login, keyed by username and client address; old rows are dropped as they age out."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(FittedKey(300), index=True)  # holds a username as typed: any length
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


# -- users ---------------------------------------------------------------------------------------------------
def check_roles(roles: Iterable[str], where: str = "roles") -> list[str]:
    out = []
    for r in roles:
        if r not in ROLES:
            raise InputError(where, "role", f"未知角色 {r!r}（可选：{'、'.join(ROLES)}）")
        if r not in out:
            out.append(r)
    if not out:
        raise InputError(where, "role", "用户至少需要一个角色")
    return out


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError("password", "password", f"太短：至少 {MIN_PASSWORD} 个字符")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def create_user(s: Session, username: str, password: str | None, roles: Sequence[str], display_name: str = "",
                email: str = "", *, password_hash: str | None = None) -> User:
    """Add a user. ``password_hash`` (any werkzeug hash) may be given instead of ``password``."""
    username = username.strip()
    if not username or len(username) > 80:
        raise InputError("user", "username", "缺少用户名，或超过 80 个字符")
    if get_user(s, username) is not None:
        raise InputError("user", "username", f"用户 {username!r} 已存在")
    if password_hash is None:
        if password is None:
            raise InputError("user", "password", "缺少密码")
        check_password(password)
        password_hash = hash_password(password)
    u = User(username=username, display_name=display_name or username, password_hash=password_hash,
             roles=check_roles(roles), email=email, active=True, session_version=1)
    s.add(u)
    s.flush()
    return u


def get_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def set_password(user: User, password: str) -> None:
    check_password(password)
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1


def authenticate(s: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same work either way)."""
    user = get_user(s, username)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def users_with_role(s: Session, role: str) -> list[User]:
    return [u for u in s.scalars(select(User).where(User.active.is_(True)).order_by(User.id)) if role in (u.roles or [])]


def user_count(s: Session) -> int:
    return s.scalar(select(func.count(User.id))) or 0


# -- tokens --------------------------------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(s: Session, name: str, scopes: Sequence[str], user: User | None = None) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the token itself (shown once, never stored)."""
    scopes = list(dict.fromkeys(scopes))
    for sc in scopes:
        if sc not in SCOPES:
            raise InputError("token", "scope", f"未知权限范围 {sc!r}（可选：{'、'.join(SCOPES)}）")
    if not scopes:
        raise InputError("token", "scope", "令牌至少需要一个权限范围")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=token_digest(token), prefix=token[:10], scopes=scopes,
                   user_id=user.id if user else None)
    s.add(row)
    s.flush()
    return row, token


def find_token(s: Session, token: str, touch: bool = True) -> ApiToken | None:
    """The live token row for ``token``, marking it used; None for unknown or revoked tokens."""
    if not token:
        return None
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked or (row.user is not None and not row.user.active):
        return None
    if touch:
        row.last_used = _now()
    return row


# -- login rate limit ----------------------------------------------------------------------------------------
def recent_failures(s: Session, key: str, window: timedelta) -> list[datetime]:
    since = _now() - window
    return list(s.scalars(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at >= since)
                          .order_by(LoginFailure.at)))


def record_failure(s: Session, key: str, window: timedelta) -> None:
    s.add(LoginFailure(key=key, at=_now()))
    s.execute(delete(LoginFailure).where(LoginFailure.at < _now() - window))


def failed_accounts(s: Session, prefix: str, window: timedelta) -> int:
    """How many different keys starting with ``prefix`` failed within ``window`` (one password, many usernames)."""
    since = _now() - window
    return s.scalar(select(func.count(func.distinct(LoginFailure.key)))
                    .where(LoginFailure.key.startswith(prefix, autoescape=True), LoginFailure.at >= since)) or 0


def clear_failures(s: Session, key: str) -> None:
    s.execute(delete(LoginFailure).where(LoginFailure.key == key))
