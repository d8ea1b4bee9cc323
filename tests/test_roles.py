"""``opinion-desk run --role web|worker`` as real processes on a real PostgreSQL and Redis: one web process, two
workers, one data directory (SQLite post store). Posts pushed to the web process are stored by the workers, a
keyword rule raises one alert per match key (a resent batch raises nothing new), and when the worker holding the
``rules`` lease is killed with SIGKILL the other takes the lease over within 30 s and the posts pushed after the
kill raise their alerts, once each. The figures (two web + two workers on Elasticsearch, ten minutes, throughput):
bench/multiprocess.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bench.common import CLI, TOKEN, cli_env, free_port, write_config
from opinion_desk.models import post_id

RULE = ("name: 关键词告警\ntype: keyword\nquery_key: author\nrealert: 24h\nchannels: [dashboard]\n"
        "filter:\n  keywords: [爆炸]\n")
STARTED = "工作进程已启动".encode()


def _posts(tag: str, n: int, hot: int) -> list[dict]:
    """``n`` posts; the first ``hot`` name 爆炸, two each under one author (one match key per author)."""
    now = datetime.now(timezone.utc).isoformat()
    out = []
    for i in range(n):
        if i < hot:
            out.append({"id": f"{tag}-{i}", "author": f"{tag}-作者{i // 2}", "created_at": now,
                        "text": f"化工园区发生爆炸，现场浓烟（{tag}-{i}）"})
        else:
            out.append({"id": f"{tag}-{i}", "author": "网友", "created_at": now,
                        "text": f"人民路积水严重，请求尽快排水（{tag}-{i}）"})
    return out


def _wait(what: str, check, timeout: float, procs: dict, tmp: Path):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}.log\n{(tmp / f'{n}.log').read_text(errors='replace')[-2500:]}" for n in procs)
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{logs}")
        time.sleep(0.3)


def test_web_and_two_workers_share_the_work_and_survive_a_kill_of_the_rules_holder(tmp_path: Path, pg_url: str,
                                                                                  redis_url: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kw.yaml").write_text(RULE, encoding="utf-8")
    port = free_port()
    conf = write_config(tmp_path, port, str(rules), {
        "state": {"url": pg_url}, "desk": {"message_queue": redis_url, "demo": False, "secret_key": "roles-test"},
        "analysis": {"workers": 1}})
    procs: dict[str, subprocess.Popen] = {}

    def start(name: str, *args: str) -> None:
        with open(tmp_path / f"{name}.log", "wb") as f:
            procs[name] = subprocess.Popen([*CLI, "--config", str(conf), "run", *args], env=cli_env(), cwd=tmp_path,
                                           stdout=f, stderr=subprocess.STDOUT)

    db = create_engine(pg_url)
    store = tmp_path / "var" / "posts.db"

    def stored(ids: list[str]) -> bool:
        if not store.exists():
            return False
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as c:
            have = {r[0] for r in c.execute("SELECT id FROM posts")}
        return set(ids) <= have

    def alerts() -> list[tuple]:
        with db.connect() as c:
            return list(c.execute(text("SELECT rule, key, match_key FROM alerts")))

    def holder() -> str:
        with db.connect() as c:
            return c.execute(text("SELECT holder FROM leases WHERE name = 'rules'")).scalar() or ""

    def push(items: list[dict]) -> list[str]:
        r = requests.post(base + "/api/v1/posts", json=items, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30)
        assert r.status_code == 202, r.text
        return [post_id("ingest", it["id"]) for it in items]

    base = f"http://127.0.0.1:{port}"
    try:
        start("web", "--role", "web")
        start("worker1", "--role", "worker")
        start("worker2", "--role", "worker")

        def up() -> bool:
            for name, p in procs.items():
                if p.poll() is not None:
                    pytest.fail(f"{name} exited ({p.returncode}):\n{(tmp_path / f'{name}.log').read_text()[-3000:]}")
            try:
                web = requests.get(base + "/api/v1/health", timeout=3).status_code == 200
            except requests.RequestException:
                web = False
            return web and all(STARTED in (tmp_path / f"{n}.log").read_bytes() for n in ("worker1", "worker2"))

        _wait("the web process and both workers start", up, 60, procs, tmp_path)

        # before the kill: stored by the workers, one alert per author (two posts each), a resent batch changes nothing
        first = _posts("前", 40, hot=6)
        ids = push(first)
        _wait("the posts pushed to the web process are in the store", lambda: stored(ids), 30, procs, tmp_path)
        _wait("three alerts", lambda: len(alerts()) >= 3, 30, procs, tmp_path)
        push(first)  # a sender's retry: the same posts again
        time.sleep(3)
        before = alerts()
        assert Counter(k for _, k, _ in before) == {"前-作者0": 1, "前-作者1": 1, "前-作者2": 1}
        assert len({m for *_, m in before}) == 3

        # kill -9 the rules lease holder; the posts pushed right after must still raise their alerts, once each
        old = holder()
        victim = next(n for n, p in procs.items() if f":{p.pid}:" in old)
        t_kill = time.monotonic()
        os.kill(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait()
        second = _posts("后", 30, hot=6)
        ids2 = push(second)
        new = _wait("another worker takes the rules lease", lambda: (h := holder()) and h != old and h, 30,
                    procs, tmp_path)
        took = time.monotonic() - t_kill
        survivor = next(n for n, p in procs.items() if n != victim and n != "web")
        assert f":{procs[survivor].pid}:" in new
        assert took <= 30
        _wait("the posts pushed after the kill are in the store", lambda: stored(ids2), 30, procs, tmp_path)
        _wait("the alerts of the posts pushed after the kill", lambda: len(alerts()) >= 6, 30, procs, tmp_path)
        time.sleep(3)
        after = alerts()
        assert Counter(k for _, k, _ in after) == {f"{t}-作者{i}": 1 for t in ("前", "后") for i in range(3)}
        assert len({m for *_, m in after}) == 6
        assert stored(ids + ids2)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        db.dispose()
