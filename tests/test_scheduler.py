"""DeskScheduler.run_source: cursor and health, failures in a row and alerts, login alerts, backoff, timeouts,
the per-host rate limit, and the spool when the store is down. Real pipeline, real stores, real state DB;
the collectors are small fakes written to the collector contract."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from opinion_desk.collectors import CollectResult, Collector, SourceSpec
from opinion_desk.collectors.http import HostRateLimiter
from opinion_desk.errors import CollectorError, SourceAuthError
from opinion_desk.models import Post
from opinion_desk.pipeline import Pipeline
from opinion_desk.scheduler import DeskScheduler, backoff_delay
from opinion_desk.state import StateDB
from opinion_desk.store.sqlite import SQLiteStore

T0 = datetime(2024, 6, 18, 10, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Scripted(Collector):
    """Runs a script: each entry is a list of post ids to return, or an exception to raise."""

    kind = "scripted"

    def __init__(self, spec: SourceSpec, script: list[Any]) -> None:
        super().__init__(spec)
        self.script = list(script)
        self.cursors: list[dict[str, Any]] = []
        self.release = threading.Event()

    def collect(self, cursor: dict[str, Any]) -> CollectResult:
        self.cursors.append(dict(cursor))
        step = self.script.pop(0)
        if step == "hang":
            self.release.wait(10)
            return CollectResult(posts=[], cursor=cursor)
        if isinstance(step, Exception):
            raise step
        posts = [Post(source=self.name, source_id=i, text=f"帖子 {i} 化工厂", created_at=T0) for i in step]
        return CollectResult(posts=posts, cursor={"last": step[-1] if step else cursor.get("last")})


@pytest.fixture
def desk(tmp_path, analyzer):
    store = SQLiteStore(tmp_path / "posts.db")
    statedb = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    statedb.create_all()
    pipeline = Pipeline(store, lambda: analyzer, tmp_path / "spool")
    clock = Clock()
    sched = DeskScheduler(pipeline, statedb, clock=clock, alert_after=3, backoff_max=3600, run_timeout=5)
    events: list[tuple[str, dict]] = []
    sched.source_listeners.append(lambda name, h: events.append((name, h)))
    sched.clock_ = clock
    sched.events = events
    yield sched
    store.close()
    statedb.dispose()


def add(sched: DeskScheduler, name: str, script: list[Any], **spec_kw: Any) -> Scripted:
    c = Scripted(SourceSpec(name=name, type="scripted", cadence=60, **spec_kw), script)
    sched.collectors[name] = c
    sched._run_locks[name] = threading.Lock()
    return c


def test_success_persists_cursor_and_health(desk):
    c = add(desk, "a", [["1", "2"], ["3"]])
    h = desk.run_source("a")
    assert h["status"] == "ok" and h["last_items"] == 2 and h["total_items"] == 2 and not h["alert"]
    desk.clock_.step(60)
    desk.run_source("a")
    assert c.cursors == [{}, {"last": "2"}]  # the second run starts where the first stopped
    store = desk.pipeline.store
    store.refresh()
    assert store.get(Post(source="a", source_id="3", text="x", created_at=T0).id) is not None
    h = desk.health("a")
    assert h["total_items"] == 3 and [r["items"] for r in h["recent"]] == [2, 1]


def test_a_restart_keeps_the_cursor(desk, analyzer):
    add(desk, "a", [["1", "2"]])
    desk.run_source("a")
    again = DeskScheduler(desk.pipeline, desk.statedb, clock=desk.clock_)
    c2 = Scripted(SourceSpec(name="a", type="scripted", cadence=60), [["3"]])
    again.collectors["a"] = c2
    again._run_locks["a"] = threading.Lock()
    again.run_source("a")
    assert c2.cursors == [{"last": "2"}]


def test_failing_n_times_raises_one_alert_then_recovers(desk):
    err = CollectorError("a", "http://x/rss.xml: HTTP 503")
    add(desk, "a", [err, err, err, err, ["1"]])
    add(desk, "b", [["9"]])
    kinds = []
    for _ in range(4):
        h = desk.run_source("a", force=True)
        kinds.append(h["alert"])
    assert kinds == [False, False, True, False]
    assert h["status"] == "failing" and h["failures_in_row"] == 4 and "HTTP 503" in h["last_error"]
    assert desk.run_source("b")["status"] == "ok"  # the other source goes on
    h = desk.run_source("a", force=True)
    assert h["recovered"] is True and h["status"] == "ok" and h["failures_in_row"] == 0
    alerts = [(n, e["alert_kind"]) for n, e in desk.events if e["alert"]]
    assert alerts == [("a", "failing")]


def test_expired_login_alerts_at_once(desk):
    auth = SourceAuthError("wb", "登录已失效（ok=-100），请更新 Cookie")
    add(desk, "wb", [auth, auth, ["1"]], alert_after=5)
    h1 = desk.run_source("wb", force=True)
    h2 = desk.run_source("wb", force=True)
    assert (h1["alert"], h1["alert_kind"], h1["status"]) == (True, "auth", "auth")
    assert h2["alert"] is False  # still expired: no second alert
    assert desk.run_source("wb", force=True)["recovered"] is True


def test_backoff_doubles_and_survives_restart(desk):
    err = CollectorError("a", "boom")
    c = add(desk, "a", [err, err, ["1"]])
    desk.run_source("a")  # 1 failure: next run after one cadence (60s)
    desk.clock_.step(60)
    desk.run_source("a")  # 2 failures: wait 120s
    desk.clock_.step(60)
    assert desk.run_source("a")["skipped"] == "退避等待中"
    assert len(c.cursors) == 2
    assert desk.health("a")["backoff_until"] == (T0 + timedelta(seconds=180)).isoformat()
    desk.clock_.step(60)
    assert desk.run_source("a")["status"] == "ok"
    assert backoff_delay(1, 60, 3600) == 60 and backoff_delay(3, 60, 3600) == 240 and backoff_delay(10, 60, 3600) == 3600


def test_hanging_source_is_cut_off_and_not_run_twice(desk):
    desk.run_timeout = 0.3
    c = add(desk, "slow", ["hang", ["1"]])
    h = desk.run_source("slow", force=True)
    assert h["last_error_kind"] == "timeout" and "cut off" in h["last_error"]
    assert desk.run_source("slow", force=True)["skipped"] == "上一次运行尚未结束"
    c.release.set()
    for _ in range(100):
        if desk._run_locks["slow"].acquire(blocking=False):
            desk._run_locks["slow"].release()
            break
        threading.Event().wait(0.02)
    assert desk.run_source("slow", force=True)["status"] == "ok"


def test_a_crashing_collector_is_recorded(desk):
    add(desk, "bug", [ValueError("unexpected None")])
    h = desk.run_source("bug")
    assert h["status"] == "failing" and "ValueError: unexpected None" in h["last_error"]


def test_store_down_posts_wait_in_the_spool_and_the_cursor_moves(tmp_path, analyzer):
    from opinion_desk.store.elastic import ElasticStore

    from tests.conftest import free_port

    store = ElasticStore(f"http://127.0.0.1:{free_port()}", request_timeout=1)
    statedb = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    statedb.create_all()
    pipeline = Pipeline(store, lambda: analyzer, tmp_path / "spool")
    sched = DeskScheduler(pipeline, statedb)
    c = add(sched, "a", [["1", "2"], []])
    assert sched.run_source("a")["status"] == "ok"
    assert pipeline.spool.pending() == 2
    sched.run_source("a")
    assert c.cursors[1] == {"last": "2"}


def test_host_rate_limiter_with_a_fake_clock():
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    lim = HostRateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    lim.wait("m.weibo.cn")
    lim.wait("www.gov.cn")  # another host: no wait
    lim.wait("m.weibo.cn")
    lim.wait("m.weibo.cn")
    assert slept == [2.0, 2.0]
    now[0] += 10
    lim.wait("m.weibo.cn")
    assert slept == [2.0, 2.0]


def test_the_cursor_stays_when_the_posts_could_be_kept_nowhere(tmp_path, analyzer):
    """A post that breaks analysis is kept in the dead letters; when even those cannot be written, the run fails
    and the cursor stays, so the next run collects the same posts again (nothing skipped)."""
    from opinion_desk.store.base import PostQuery
    from tests.test_pipeline import Fussy

    store = SQLiteStore(tmp_path / "posts.db")
    statedb = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    statedb.create_all()
    pipeline = Pipeline(store, lambda: Fussy(analyzer), tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "rejected").write_text("a file where the dead letters should go")
    sched = DeskScheduler(pipeline, statedb)
    c = add(sched, "a", [["1", "BOOM"], ["1", "BOOM"]])
    h = sched.run_source("a")
    assert h["status"] == "failing" and "dead-letter" in h["last_error"]
    (tmp_path / "spool" / "rejected").unlink()
    assert sched.run_source("a", force=True)["status"] == "ok"
    assert c.cursors == [{}, {}]  # the second run started where the first had: the failed run moved nothing
    assert pipeline.dead.count() == 1 and store.count(PostQuery()) == 1
    statedb.dispose()


# -- several processes: lease-gated singleton jobs -----------------------------------------------------
def job(sched: DeskScheduler, job_id: str) -> Any:
    """Run one scheduled job's function as APScheduler would."""
    j = sched.aps.get_job(job_id)
    return j.func(*j.args)


@pytest.fixture
def pair(tmp_path, analyzer, state_url):
    """Two worker processes' schedulers (each its own engine and Leases) on one state database."""
    from opinion_desk.state.leases import Leases

    store = SQLiteStore(tmp_path / "posts.db")
    clock = Clock()
    dbs = [StateDB(state_url) for _ in range(2)]
    dbs[0].upgrade()
    scheds = [DeskScheduler(Pipeline(store, lambda: analyzer, tmp_path / f"spool{i}"), db, clock=clock,
                            leases=Leases(db, f"worker-{i}", ttl=15, clock=clock))
              for i, db in enumerate(dbs)]
    yield scheds, clock
    for s, db in zip(scheds, dbs):
        s.shutdown()
        db.dispose()
    store.close()


def test_without_leases_a_singleton_job_runs_here(desk) -> None:
    ran: list[int] = []
    desk.add_singleton_job("rules-tick", lambda: ran.append(1), 5)
    job(desk, "rules-tick")
    assert ran == [1] and desk.aps.get_job("leases:renew") is None and desk.holds("rules-tick")


def test_singletons_run_only_where_the_lease_is_held_and_move_when_it_lapses(pair) -> None:
    (a, b), clock = pair
    ran: list[str] = []
    for name, s in (("a", a), ("b", b)):
        s.add_singleton_job("rules-tick", lambda name=name: ran.append(name), 5)
        s.add_collector(Scripted(SourceSpec(name="gov", type="scripted", cadence=60), [["1"], ["2"], ["3"]]))
    job(a, "rules-tick")
    job(b, "rules-tick")
    assert ran == ["a"]
    assert job(a, "source:gov")["status"] == "ok" and job(b, "source:gov") is None  # one collector run
    for _ in range(3):  # a renews every 5 s: b never gets them
        clock.step(5)
        assert a.renew_leases() == {"rules-tick", "source:gov"} and b.renew_leases() == set()
    clock.step(15)  # a stops renewing (killed, or stalled past its TTL)
    assert b.renew_leases() == {"rules-tick", "source:gov"}  # taken over at b's next renewal
    job(a, "rules-tick")
    job(b, "rules-tick")
    assert ran == ["a", "b"]  # a knows from its own clock that the lease is gone: it runs no more
    assert job(a, "source:gov") is None and job(b, "source:gov")["status"] == "ok"
    assert a.renew_leases() == set()  # a is back: the leases stay with b
    b.shutdown()  # a clean stop releases them: a takes them at once
    assert a.renew_leases() == {"rules-tick", "source:gov"}


WORKER = """
import sys, time
from opinion_desk.scheduler import DeskScheduler
from opinion_desk.state import StateDB
from opinion_desk.state.leases import Leases
url, out, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3])
db = StateDB(url)
sched = DeskScheduler(None, db, leases=Leases(db, sys.argv[4], ttl=ttl))  # no collectors: no pipeline needed
def tick():
    with open(out, "a") as f:
        f.write(f"{sys.argv[4]} {time.time()}\\n")
sched.add_singleton_job("rules-tick", tick, 0.1)
sched.start()
print("started", flush=True)
time.sleep(120)
"""


def test_a_killed_workers_singleton_moves_to_the_other_within_ttl_and_one_renewal(tmp_path, state_url) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    StateDB(state_url).upgrade()
    out = tmp_path / "ticks.log"
    ttl = 1.5

    def start(name: str) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-c", WORKER, state_url, str(out), str(ttl), name],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "started"
        return p

    def ticks() -> list[tuple[str, float]]:
        return [(n, float(t)) for n, t in (line.split() for line in out.read_text().splitlines())] \
            if out.exists() else []

    first = start("first")
    second = None
    try:
        deadline = time.monotonic() + 20
        while not ticks():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = start("second")
        time.sleep(2 * ttl)
        assert {n for n, _ in ticks()} == {"first"}  # both run the job's schedule; only the holder runs it
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        killed = time.time()
        while not [t for n, t in ticks() if n == "second"]:
            assert time.time() - killed < 10, "no take-over"
            time.sleep(0.05)
        took = min(t for n, t in ticks() if n == "second") - killed
        last_first = max(t for n, t in ticks() if n == "first")
        assert took <= ttl + ttl / 3 + 0.5, f"take-over after {took:.2f}s"  # TTL + one renewal, + a tick
        assert last_first <= killed  # never both
    finally:
        for p in (first, second):
            if p is not None:
                p.kill()
                p.wait()
