"""Users, roles and API tokens on SQLite and PostgreSQL: JSON roles, booleans, time zones, cascades."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from opinion_desk.errors import InputError
from opinion_desk.state.users import (ApiToken, User, authenticate, create_token, create_user, find_token, get_user,
                                      set_password, user_count, users_with_role)




def test_users_roles_and_passwords(db) -> None:
    with db.session_scope() as s:
        create_user(s, "wang", "password-one", ["duty", "approver"], display_name="王值班", email="wang@gov.cn")
        create_user(s, "li", "password-two", ["approver"], display_name="李主任")
        with pytest.raises(InputError, match="已存在"):
            create_user(s, "wang", "password-three", ["duty"])
    with db.session_scope() as s:
        assert user_count(s) == 2
        assert [u.username for u in users_with_role(s, "approver")] == ["wang", "li"]
        wang = authenticate(s, "wang", "password-one")
        assert wang is not None and wang.roles == ["duty", "approver"] and wang.active is True
        assert wang.created_at.tzinfo is not None or db.engine.dialect.name == "sqlite"
        assert authenticate(s, "wang", "wrong-password") is None
        set_password(wang, "password-new")
        get_user(s, "li").active = False
    with db.session_scope() as s:
        assert get_user(s, "wang").session_version == 2 and authenticate(s, "wang", "password-new") is not None
        assert authenticate(s, "li", "password-two") is None  # inactive
        assert [u.username for u in users_with_role(s, "approver")] == ["wang"]


def test_tokens_are_found_touched_revoked_and_go_with_their_user(db) -> None:
    with db.session_scope() as s:
        u = create_user(s, "bot-owner", "password-one", ["admin"])
        row, token = create_token(s, "采集推送", ["ingest", "read"], u)
        assert token.startswith("odk_") and row.prefix == token[:10]
    with db.session_scope() as s:
        found = find_token(s, token)
        assert found is not None and found.scopes == ["ingest", "read"] and found.revoked is False
        used = found.last_used
        assert used is not None and (used.tzinfo or timezone.utc).utcoffset(used) == timedelta(0)
        found.revoked = True
    with db.session_scope() as s:
        assert find_token(s, token) is None
        s.delete(get_user(s, "bot-owner"))
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 0
        assert s.scalar(select(func.count()).select_from(User)) == 0
