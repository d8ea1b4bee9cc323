"""The outbox: retries with backoff, gives up on non-retryable failures, and one failing channel never blocks
the others; several processes on one outbox send each row once (claims)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from opinion_desk.alerting.channels import build_channels
from opinion_desk.alerting.outbox import Outbox
from opinion_desk.state import StateDB

from .test_channels import payload


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def outbox(state_url, channels, clock):
    db = StateDB(state_url)  # SQLite, then PostgreSQL (tests/pg_fixture.py)
    db.upgrade()
    return Outbox(db, channels, max_attempts=3, retry_base=30, clock=clock, autostart=False)


def test_retry_with_backoff_then_sent(state_url, wecom) -> None:
    chans, _ = build_channels({"群": {"type": "wecom", "url": wecom.url}}, {})
    clock = Clock()
    ob = outbox(state_url, chans, clock)
    wecom.fail_next.append({"errcode": 45009, "errmsg": "api freq out of limit, hint: [1], from ip: 127.0.0.1"})
    [row_id] = ob.enqueue("A1", ["群"], "alert", payload())
    assert ob.deliver_one(row_id) == "pending"
    row = ob.rows("A1")[0]
    assert row["attempts"] == 1 and "45009" in row["last_error"]
    assert datetime.fromisoformat(row["next_try"]) == clock.now + timedelta(seconds=30)
    assert ob.deliver_due(wait=True) == 0  # not due yet
    clock.now += timedelta(seconds=31)
    ob.deliver_due(wait=True)
    assert ob.rows("A1")[0]["status"] == "sent" and len(wecom.received) == 1


def test_failing_channel_does_not_block_others(state_url, wecom, dingtalk) -> None:
    chans, _ = build_channels({"群": {"type": "wecom", "url": wecom.url},
                               "钉": {"type": "dingtalk", "url": dingtalk.url, "secret": "SECwrong"},
                               "死": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}, {})
    ob = outbox(state_url, chans, Clock())
    ob.enqueue("A2", ["钉", "死", "群", "dashboard", "未定义"], "alert", payload())
    ob.deliver_due(wait=True)
    by = {r["channel"]: r for r in ob.rows("A2")}
    assert by["群"]["status"] == "sent" and by["dashboard"]["status"] == "sent"
    assert by["钉"]["status"] == "failed" and "310000" in by["钉"]["last_error"]  # bad sign: no retry
    assert by["死"]["status"] == "pending" and by["死"]["attempts"] == 1  # unreachable: retried later
    assert by["未定义"]["status"] == "failed"


def _alert_payload(i: int) -> dict:
    p = payload()
    p["alert"] = {**p["alert"], "id": f"A20240501-0830{i:02d}-00000{i % 10}"}
    return p


def test_two_processes_deliver_each_row_exactly_once(state_url, wecom, webhook) -> None:
    """Two desk processes (two Outbox objects, each with its own engine) run deliver_due on one outbox at the
    same time: every row is sent once, by one of them, and reads attempts=1."""
    defs = {"群": {"type": "wecom", "url": wecom.url}, "钩": {"type": "webhook", "url": webhook.url}}
    dbs = [StateDB(state_url) for _ in range(2)]
    dbs[0].upgrade()
    boxes = [Outbox(db, build_channels(defs, {})[0], max_attempts=3, autostart=False, holder=f"worker-{i}")
             for i, db in enumerate(dbs)]
    for i in range(10):
        boxes[i % 2].enqueue(f"A{i}", ["群", "钩"], "alert", _alert_payload(i))
    start = threading.Barrier(2)

    def run(box: Outbox) -> None:
        start.wait()
        for _ in range(4):
            box.deliver_due(wait=True)

    threads = [threading.Thread(target=run, args=(b,)) for b in boxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sent = [r["body"]["alert"]["id"] for r in webhook.received]
    assert len(wecom.received) == 10 and len(sent) == 10 and len(set(sent)) == 10
    rows = boxes[0].rows()
    assert len(rows) == 20 and all(r["status"] == "sent" and r["attempts"] == 1 for r in rows)
    for b, db in zip(boxes, dbs):
        b.stop(wait=0)
        db.dispose()


def test_a_claim_whose_sender_died_is_taken_again_when_it_expires(state_url, webhook) -> None:
    clock = Clock()
    db = StateDB(state_url)
    db.upgrade()
    chans = build_channels({"钩": {"type": "webhook", "url": webhook.url}}, {})[0]
    killed = Outbox(db, chans, autostart=False, clock=clock, holder="killed", claim_seconds=120)
    alive = Outbox(db, chans, autostart=False, clock=clock, holder="alive", claim_seconds=120)
    [row_id] = alive.enqueue("A9", ["钩"], "alert", _alert_payload(9))
    assert killed.claim(row_id)  # claimed, then the process died before sending
    assert alive.deliver_due(wait=True) == 0 and alive.deliver_one(row_id) == "claimed"
    clock.now += timedelta(seconds=121)
    alive.deliver_due(wait=True)
    [row] = alive.rows("A9")
    assert row["status"] == "sent" and row["attempts"] == 2 and len(webhook.received) == 1
    for b in (killed, alive):
        b.stop(wait=0)
    db.dispose()
