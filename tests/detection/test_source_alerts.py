"""A failing source or an expired login becomes the alert 信息源异常 in the app: recorded, on the dashboard's
outbox, and resolved by the first success after it."""

from __future__ import annotations

from sqlalchemy import select

from opinion_desk.collectors import SourceSpec
from opinion_desk.errors import CollectorError, SourceAuthError
from opinion_desk.state.alerts import Alert, OutboxRow
from tests.test_scheduler import Scripted


def _alerts(app):
    with app.desk.state.session_scope() as s:
        return [(a.rule, a.key, a.status, a.reason, list(a.channels)) for a in s.scalars(select(Alert))]


def test_failing_source_raises_and_recovery_resolves(app):
    sched = app.desk.scheduler
    spec = SourceSpec(name="county-gov", type="scripted", cadence=60, options={}, alert_after=2)
    sched.add_collector(Scripted(spec, [CollectorError("county-gov", "http://x/feed: HTTP 503"),
                                        CollectorError("county-gov", "http://x/feed: HTTP 503"),
                                        CollectorError("county-gov", "http://x/feed: HTTP 503"), ["a1"]]),
                        start_now=False)
    sched.run_source("county-gov", force=True)
    assert _alerts(app) == []  # one failure is not yet an alert
    sched.run_source("county-gov", force=True)
    [(rule, key, status, reason, channels)] = _alerts(app)
    assert (rule, key, status) == ("信息源异常", "county-gov", "open")
    assert "连续 2 次采集失败" in reason and "HTTP 503" in reason and channels[0] == "dashboard"
    sched.run_source("county-gov", force=True)  # still failing: the same alert, no second one
    assert len(_alerts(app)) == 1
    sched.run_source("county-gov", force=True)  # recovered
    assert [a[2] for a in _alerts(app)] == ["resolved"]
    with app.desk.state.session_scope() as s:
        sent = sorted((r.channel, r.kind) for r in s.scalars(select(OutboxRow)))
    assert ("dashboard", "alert") in sent and ("dashboard", "resolved") in sent


def test_expired_login_alerts_at_once(app):
    sched = app.desk.scheduler
    spec = SourceSpec(name="weibo-search", type="scripted", cadence=60, options={})
    sched.add_collector(Scripted(spec, [SourceAuthError("weibo-search", "login expired (redirected to passport)")]),
                        start_now=False)
    sched.run_source("weibo-search", force=True)
    [(rule, key, status, reason, _)] = _alerts(app)
    assert (rule, key, status) == ("信息源异常", "weibo-search", "open")
    assert "登录已失效" in reason
