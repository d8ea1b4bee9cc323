"""StateDB on SQLite and PostgreSQL: times are UTC whatever the server's zone (the test databases are set to
Asia/Shanghai, as an office's server would be), JSON keeps Chinese text and nesting, booleans stay booleans."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from opinion_desk.state.alerts import Alert, OutboxRow, aware
from opinion_desk.state.core import Setting

BEIJING = timezone(timedelta(hours=8))




def test_times_are_utc_whatever_the_servers_zone(db) -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as c:  # the database says Beijing; the desk's sessions say UTC
            db_zone = c.execute(text("SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setdatabase = "
                                     "(SELECT oid FROM pg_database WHERE datname = current_database())")).scalars()
            assert "TimeZone=Asia/Shanghai" in list(db_zone)
            assert c.execute(text("SHOW timezone")).scalar() == "UTC"
    at = datetime(2024, 6, 18, 10, 0, tzinfo=BEIJING)  # 02:00 UTC
    with db.session_scope() as s:
        s.add(Alert(id="A1", rule="r", rule_type="any", severity="low", key="", first_match=at, last_match=at,
                    created_at=at, notified_at=datetime(2024, 6, 18, 2, 0)))  # a naive time means UTC
        s.add(OutboxRow(alert_id="A1", channel="群", next_try=at, created_at=at, kind="alert", status="pending"))
    with db.session_scope() as s:
        a = s.get(Alert, "A1")
        assert aware(a.first_match) == at and aware(a.notified_at) == at
        assert a.to_dict()["first_match"] == "2024-06-18T02:00:00+00:00"
        due = s.scalars(select(OutboxRow).where(OutboxRow.next_try <= datetime(2024, 6, 18, 2, 0, 1,
                                                                               tzinfo=timezone.utc))).all()
        assert [r.alert_id for r in due] == ["A1"] and due[0].to_dict()["next_try"] == "2024-06-18T02:00:00+00:00"


def test_json_keeps_chinese_text_nesting_and_types(db) -> None:
    value = {"关键词": ["暴雨", "内涝"], "阈值": 3.5, "开": True, "空": None, "层": {"深": [1, {"二": "二"}]}}
    with db.session_scope() as s:
        s.add(Setting(key="规则/暴雨", value=value))
    with db.session_scope() as s:
        assert s.get(Setting, "规则/暴雨").value == value
        s.get(Setting, "规则/暴雨").value = {**value, "开": False}
    with db.session_scope() as s:
        assert s.get(Setting, "规则/暴雨").value["开"] is False
