"""The outbox: retries with backoff, gives up on non-retryable failures, and one failing channel never blocks
the others."""

from __future__ import annotations

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


def outbox(tmp_path, channels, clock):
    db = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    db.create_all()
    return Outbox(db, channels, max_attempts=3, retry_base=30, clock=clock, autostart=False)


def test_retry_with_backoff_then_sent(tmp_path, wecom) -> None:
    chans, _ = build_channels({"群": {"type": "wecom", "url": wecom.url}}, {})
    clock = Clock()
    ob = outbox(tmp_path, chans, clock)
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


def test_failing_channel_does_not_block_others(tmp_path, wecom, dingtalk) -> None:
    chans, _ = build_channels({"群": {"type": "wecom", "url": wecom.url},
                               "钉": {"type": "dingtalk", "url": dingtalk.url, "secret": "SECwrong"},
                               "死": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}, {})
    ob = outbox(tmp_path, chans, Clock())
    ob.enqueue("A2", ["钉", "死", "群", "dashboard", "未定义"], "alert", payload())
    ob.deliver_due(wait=True)
    by = {r["channel"]: r for r in ob.rows("A2")}
    assert by["群"]["status"] == "sent" and by["dashboard"]["status"] == "sent"
    assert by["钉"]["status"] == "failed" and "310000" in by["钉"]["last_error"]  # bad sign: no retry
    assert by["死"]["status"] == "pending" and by["死"]["attempts"] == 1  # unreachable: retried later
    assert by["未定义"]["status"] == "failed"
