"""Clocks stop: a closed incident's countdown, escalations and timeliness stand still at its closing time, on a
stepped clock (lifecycle.stepped_clock with a ManualClock: the incidents' one now())."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from opinion_desk.detection.clock import ManualClock
from opinion_desk.incidents import timeliness
from opinion_desk.incidents.lifecycle import Actor, stepped_clock
from opinion_desk.incidents.service import tick_deadlines
from opinion_desk.state.incidents import Escalation, Incident
from tests.conftest import ensure_user

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # 09:00 Beijing time
BOSS = Actor("test-approver", "李主任", ["approver"])


def _clocks(client, iid):
    return {c["name"]: c for c in client.get(f"/api/v1/incidents/{iid}").get_json()["clocks"]}


def test_closed_incident_clock_stays_stopped(app, client):
    ensure_user(app, "approver")
    desk = app.desk.incidents
    with stepped_clock(ManualClock(T0)) as clock:
        inc = desk.open(BOSS, title="人民路积水", level="重大")  # info due in 5 h, press conference in 24 h
        clock.advance(timedelta(hours=2))
        assert tick_deadlines(desk) == []  # 40 %: nothing yet
        desk.close(inc.id, BOSS, None, "经核实为旧闻，无需回应")
        closed = _clocks(client, inc.id)
        assert closed["info"]["state"] == "closed" and not closed["info"]["running"]
        assert closed["info"]["remaining_seconds"] == 3 * 3600  # stopped 3 h before the due time
        assert datetime.fromisoformat(closed["info"]["stopped_at"].replace("Z", "+00:00")) == T0 + timedelta(hours=2)

        clock.advance(timedelta(hours=30))  # long past both deadlines
        later = _clocks(client, inc.id)
        assert later == closed  # nothing moved: no "已超时 2 小时" after closing
        assert tick_deadlines(desk) == []  # a stopped clock never escalates
        with app.desk.state.session_scope() as s:
            assert [e.kind for e in s.query(Escalation).filter_by(incident_id=inc.id)] == ["route"]  # routed only

        m = timeliness.month_rows(app.desk.state.Session(), app.config["DESK"], "2026-11")
        row = next(r for r in m if r["id"] == inc.id)
        assert row["closed"] and row["info_result"] == "closed" and row["press_result"] == "closed"
        assert row["info_met"] is None and row["press_met"] is None
        s = timeliness.summary(m)
        assert s["closed"] == 1 and s["running"] == 0
        assert s["deadlines"]["info"] == {"met": 0, "missed": 0, "running": 0, "closed": 1}


def test_published_answer_stops_info_clock_and_late_close_counts_missed(app, client):
    desk = app.desk.incidents
    with stepped_clock(ManualClock(T0)) as clock:
        answered = desk.open(BOSS, title="已回应", level="重大")
        late = desk.open(BOSS, title="超时后关闭", level="一般")  # response due in 48 h
        clock.advance(timedelta(hours=3))
        with app.desk.state.session_scope() as s:  # the publisher's stamp (items 1-4)
            s.get(Incident, answered.id).first_info_at = clock()
        clock.advance(timedelta(hours=4))  # 7 h: info would be overdue, but it was met at 3 h
        info = _clocks(client, answered.id)["info"]
        assert info["state"] == "met" and info["remaining_seconds"] == 2 * 3600 and not info["running"]
        press = _clocks(client, answered.id)["press"]
        assert press["running"] and press["remaining_seconds"] == 17 * 3600  # the press clock runs on

        clock.advance(timedelta(hours=50))  # 57 h: the 48 h response deadline passed unanswered
        assert [k.split(":", 1)[1] for k in tick_deadlines(desk) if k.startswith(f"{late.id}:")] == ["info:1"]
        desk.close(late.id, BOSS, None, "已电话回复当事人")
        clock.advance(timedelta(hours=5))
        c = _clocks(client, late.id)["info"]
        assert c["state"] == "missed" and c["remaining_seconds"] == -9 * 3600  # frozen at closing: 9 h late
        rows = {r["title"]: r for r in timeliness.month_rows(app.desk.state.Session(),
                                                              app.config["DESK"], "2026-11")}
        assert rows["超时后关闭"]["info_result"] == "missed" and rows["超时后关闭"]["info_met"] is False
        assert rows["已回应"]["info_result"] == "met" and rows["已回应"]["press_result"] == "missed"
        csv = timeliness.export(app.desk.state.Session(), app.config["DESK"], "2026-11")
        assert "权威信息时限结果" in csv.splitlines()[0] and "超时" in csv and "按时" in csv
        summary = client.get("/api/v1/incidents/timeliness?month=2026-11").get_json()["summary"]
        assert summary["closed"] == 1 and summary["running"] == 1
        assert summary["deadlines"]["info"]["met"] == 1 and summary["deadlines"]["info"]["missed"] == 1


def test_checker_wakes_at_the_next_crossing(app):
    """The deadline checker sleeps until the next unsent fraction (not up to tick_seconds later)."""
    from opinion_desk.incidents import deadlines
    from opinion_desk.incidents.service import next_deadline

    desk = app.desk.incidents
    with stepped_clock(ManualClock(T0)) as clock:
        inc = desk.open(BOSS, title="人民路积水", level="重大")
        assert next_deadline(desk) == T0 + timedelta(hours=2.5)  # 50 % of the 5 h information deadline
        clock.advance(timedelta(hours=2.5))
        assert tick_deadlines(desk) == [f"{inc.id}:info:0.5"]
        assert next_deadline(desk) == T0 + timedelta(hours=4)  # then 80 %
        desk.close(inc.id, BOSS, None, "旧闻")
        assert next_deadline(desk) is None  # a closed incident's clocks never wake the checker
        with app.desk.state.session_scope() as s:
            assert deadlines.next_crossing(app.config["DESK"], s.get(Incident, inc.id)) is None
