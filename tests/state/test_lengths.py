"""String lengths behave the same on SQLite and PostgreSQL: keys the desk makes from data fit their column and
still find their row; a person's text too long for its column is a Chinese InputError, not a PostgreSQL 500."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from opinion_desk.errors import InputError
from opinion_desk.state.alerts import Alert, RuleStateRow, Silence
from opinion_desk.state.incidents import Incident
from opinion_desk.state.lengths import fit
from opinion_desk.state.users import clear_failures, failed_accounts, recent_failures, record_failure

T0 = datetime(2024, 6, 18, 2, 0, tzinfo=timezone.utc)




def _alert(i: str, key: str) -> Alert:
    return Alert(id=i, rule="长标题规则", rule_type="frequency", severity="high", key=key, status="open",
                 first_match=T0, last_match=T0, created_at=T0)


def test_fit_keeps_short_values_and_hashes_long_ones() -> None:
    assert fit("青山县", 300) == "青山县"
    long_a, long_b = "话" * 299 + "甲" * 10, "话" * 299 + "乙" * 10
    fa, fb = fit(long_a, 300), fit(long_b, 300)
    assert len(fa) == len(fb) == 300 and fa != fb and fa.startswith("话" * 200) and "~" in fa
    assert fit(long_a, 300) == fa  # the same value always fits the same way


def test_a_long_query_key_value_is_stored_and_found_again(db) -> None:
    url = "https://weibo.com/u/1234567890?" + "&x=" * 200 + "末尾"  # query_key: url; 600+ characters
    other = url[:-2] + "别处"
    with db.session_scope() as s:
        s.add(_alert("A1", url))
        s.add(_alert("A2", other))
    with db.session_scope() as s:
        found = s.scalars(select(Alert).where(Alert.rule == "长标题规则", Alert.key == url)).all()
        assert [a.id for a in found] == ["A1"]
        assert len(found[0].key) == 300 and found[0].to_dict()["key"].startswith("https://weibo.com/u/1234567890?")
        s.add(Silence(rule="长标题规则", key=url, until=T0 + timedelta(hours=1), created_at=T0))
        s.merge(RuleStateRow(rule="新词", key="#" + "超长话题" * 150 + "#", value={"seen": "2024-06-18"}))
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Silence).where(Silence.key == url)) == 1
        row = s.get(RuleStateRow, ("新词", fit("#" + "超长话题" * 150 + "#", 400)))
        assert row is not None and row.value == {"seen": "2024-06-18"}


def test_a_username_of_any_length_counts_its_login_failures(db) -> None:
    typed = "u|" + "admin' OR 1=1 -- " * 60  # a login form accepts whatever is typed
    with db.session_scope() as s:
        for _ in range(3):
            record_failure(s, typed, timedelta(minutes=15))
        record_failure(s, "p|pwhash|" + "x" * 500, timedelta(minutes=15))
    with db.session_scope() as s:
        assert len(recent_failures(s, typed, timedelta(minutes=15))) == 3
        assert failed_accounts(s, "p|pwhash|", timedelta(minutes=15)) == 1
        clear_failures(s, typed)
    with db.session_scope() as s:
        assert recent_failures(s, typed, timedelta(minutes=15)) == []


def test_text_too_long_for_its_column_is_named_in_chinese_and_nothing_is_written(db) -> None:
    def incident(title: str) -> Incident:
        return Incident(title=title, level="一般", info_due=T0 + timedelta(hours=1), opened_at=T0)

    with db.session_scope() as s:  # 300 Chinese characters fit VARCHAR(300) (characters, not bytes)
        s.add(incident("县" * 300))
    with pytest.raises(InputError) as e:
        with db.session_scope() as s:
            s.add(incident("标题过长" * 80))
            s.add(_alert("A9", "ok"))
    assert e.value.where == "incidents" and e.value.field == "title" and "超过 300 个字符（收到 320 个）" in str(e.value)
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        assert s.get(Alert, "A9") is None
        inc = s.scalars(select(Incident)).one()
        inc.region = "区" * 101  # a change to a loaded row is checked too
        with pytest.raises(InputError, match="region"):
            s.flush()
        s.rollback()
