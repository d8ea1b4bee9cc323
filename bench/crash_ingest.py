"""kill -9 the desk right after it acknowledged 1,000-post batches, restart it, and count what was kept (issue 15).

Starts the real desk (``opinion-desk run`` on a free loopback port, embedded store, its own data dir), posts
``--batches`` batches of ``--size`` posts per round to ``POST /api/v1/posts``, and kills the whole desk (gunicorn
master and worker, SIGKILL) at a random moment within 0.5 s of the last 202. The next round starts the desk again,
which replays what it had accepted. At the end the desk is started once more until its inbox is empty, stopped, and
the store file is read directly: every acknowledged post must be there exactly once.

Baseline measured in the same run: the same batches posted to a desk that is not killed (acknowledged -> stored
ratio 1.0 by construction), and the time a clean start takes, so the figures read as ratios on this machine.

    .venv/bin/python bench/crash_ingest.py [--rounds 10] [--batches 3] [--size 1000] [--es-url http://127.0.0.1:9250]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.common import free_port  # noqa: E402
TOKEN = "crash-test-token"




@dataclass
class Desk:
    """One ``opinion-desk run`` process group on its own data dir."""

    workdir: Path
    es_url: str = ""  # empty: the embedded store
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> Path:
        conf = self.workdir / "desk.toml"
        conf.write_text(
            f'[desk]\ndata_dir = "{self.workdir / "var"}"\nport = {self.port}\n'
            f'[ingest]\ntokens = ["{TOKEN}"]\n[rules]\ndir = "{self.workdir / "rules"}"\n'
            f'[collectors]\nsources_dir = "{self.workdir / "sources"}"\nevidence = false\n'
            + (f'[store]\nbackend = "elasticsearch"\n[store.elasticsearch]\nurls = ["{self.es_url}"]\n'
               f'index_prefix = "{self.prefix}"\n' if self.es_url else ""), encoding="utf-8")
        return conf

    @property
    def prefix(self) -> str:
        return f"crash-{self.workdir.name.lower()}-{self.port}"

    def start(self, timeout: float = 120) -> float:
        """Start and wait until /api/v1/health answers; returns the seconds it took."""
        t0 = time.monotonic()
        log = open(self.workdir / "desk.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from opinion_desk.cli import main; main()", "--config", str(self.config()),
             "run", "--port", str(self.port)], cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"desk exited with {self.proc.returncode}; see {self.workdir / 'desk.log'}")
            try:
                self.health()
                return time.monotonic() - t0
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("desk did not answer in time")

    def health(self) -> dict:
        with urllib.request.urlopen(self.url + "/api/v1/health", timeout=5) as r:  # noqa: S310
            return json.loads(r.read())

    def post(self, items: list[dict]) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + "/api/v1/posts", data=json.dumps(items, ensure_ascii=False).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def kill9(self) -> None:
        """SIGKILL the whole desk (gunicorn master and worker)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
            self.proc = None

    def wait_drained(self, timeout: float = 300) -> None:
        """Until the desk's inbox is empty (every accepted post stored, spooled or dead-lettered)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            h = self.health()
            if h.get("inbox") == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"inbox not drained: {self.health()}")

    def stored_ids(self) -> list[str]:
        """Every stored post id, once per stored document (a duplicate would show twice)."""
        if self.es_url:
            from elasticsearch import Elasticsearch
            from elasticsearch.helpers import scan

            es = Elasticsearch(self.es_url)
            try:
                es.indices.refresh(index=self.prefix)
                return [h["_id"] for h in scan(es, index=self.prefix, query={"query": {"match_all": {}}},
                                               _source=False)]
            finally:
                es.close()
        db = sqlite3.connect(self.workdir / "var" / "posts.db")
        try:
            return [r[0] for r in db.execute("SELECT id FROM posts")]
        finally:
            db.close()

    def drop_indices(self) -> None:
        if self.es_url:
            from opinion_desk.store.elastic import ElasticStore

            store = ElasticStore([self.es_url], index_prefix=self.prefix)
            store.delete_all()
            store.close()


def items(round_no: int, batch_no: int, size: int) -> list[dict]:
    now = datetime.now(timezone.utc)
    return [{"id": f"r{round_no}-b{batch_no}-{i}", "text": f"青山县人民路积水，第{round_no}轮第{batch_no}批第{i}条",
             "created_at": (now - timedelta(seconds=i)).isoformat(), "author": "网友"} for i in range(size)]


@dataclass
class Figures:
    rounds: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    kill_delays: list[float] = field(default_factory=list)
    inbox_at_restart: list[int] = field(default_factory=list)
    start_seconds: list[float] = field(default_factory=list)


def crash_rounds(workdir: Path, rounds: int = 10, batches: int = 3, size: int = 1000, seed: int = 15,
                 log=print, mid_store: bool = False, es_url: str = "") -> Figures:  # noqa: ANN001
    """Run the crash rounds on a fresh data dir in ``workdir``; returns the figures. ``mid_store``: kill once the
    desk has begun storing the batches (its inbox shrank), at a random moment within 0.3 s of that, instead of
    within 0.5 s of the last 202 (which mostly lands before the first batch is analysed)."""
    rng = random.Random(seed)
    desk = Desk(workdir, es_url=es_url)
    fig = Figures()
    acked: set[str] = set()
    try:
        for r in range(rounds):
            fig.start_seconds.append(desk.start())
            fig.inbox_at_restart.append(int(desk.health().get("inbox", 0)))
            for b in range(batches):
                status, body = desk.post(items(r, b, size))
                if status != 202:
                    raise RuntimeError(f"round {r} batch {b}: {status} {body}")
                acked.update(body["ids"])
                fig.acknowledged += len(body["ids"])
            if mid_store:
                full = int(desk.health().get("inbox", 0))
                t0 = time.monotonic()
                while int(desk.health().get("inbox", 0)) >= full and time.monotonic() - t0 < 120:
                    time.sleep(0.02)
                delay = rng.uniform(0, 0.3)
            else:
                delay = rng.uniform(0, 0.5)
            time.sleep(delay)
            desk.kill9()
            fig.kill_delays.append(delay)
            fig.rounds += 1
            when = "the desk began storing" if mid_store else "the last 202"
            log(f"round {r + 1}/{rounds}: {batches} x {size} acknowledged, killed {delay:.2f} s after {when} "
                f"(inbox at this start: {fig.inbox_at_restart[-1]} posts)")
        fig.start_seconds.append(desk.start())
        fig.inbox_at_restart.append(int(desk.health().get("inbox", 0)))
        desk.wait_drained()
        desk.stop()
        ids = desk.stored_ids()
    finally:
        desk.kill9()
        desk.drop_indices()
    fig.stored = len(set(ids))
    fig.duplicated = len(ids) - len(set(ids))
    fig.lost = len(acked - set(ids))
    fig.unexpected = len(set(ids) - acked)
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--batches", type=int, default=3, help="1,000-post batches acknowledged per round")
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--es-url", default="", help="run the desk on this Elasticsearch (default: the embedded store)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-ingest-") as d:
        base = Desk(Path(d) / "baseline", es_url=args.es_url)
        base.workdir.mkdir()
        t_start = base.start()
        t0 = time.monotonic()
        for b in range(args.batches):
            status, _ = base.post(items(999, b, args.size))
            assert status == 202
        base.wait_drained()
        t_drain = time.monotonic() - t0
        base.stop()
        print(f"baseline (not killed, store: {'elasticsearch' if args.es_url else 'sqlite'}): "
              f"{args.batches * args.size} acknowledged, {len(base.stored_ids())} stored; "
              f"clean start {t_start:.1f} s; ack->stored {t_drain:.1f} s")
        base.drop_indices()
        figs = []
        for mode in (False, True):
            crash = Path(d) / f"crash-{'mid' if mode else 'ack'}"
            crash.mkdir()
            print(f"\n-- killed {'while storing' if mode else 'within 0.5 s of the last 202'}")
            figs.append((mode, crash_rounds(crash, args.rounds, args.batches, args.size, mid_store=mode,
                                            es_url=args.es_url)))
    bad = False
    for mode, fig in figs:
        print(f"\n{fig.rounds} kill -9 rounds ({'while storing' if mode else 'within 0.5 s of the 202'}): "
              f"{fig.acknowledged} posts acknowledged, {fig.stored} stored, {fig.lost} lost, {fig.duplicated} "
              f"duplicated, {fig.unexpected} never acknowledged")
        print(f"ratio stored/acknowledged: {fig.stored / max(1, fig.acknowledged):.4f} (baseline 1.0000)")
        print(f"posts replayed from the inbox at each restart: {fig.inbox_at_restart[1:]}")
        print(f"start time: median {sorted(fig.start_seconds)[len(fig.start_seconds) // 2]:.1f} s "
              f"(clean start {t_start:.1f} s)")
        bad = bad or bool(fig.lost or fig.duplicated)
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
