"""Socket.IO fan-out across two desk web processes sharing one Redis message queue: 200 clients vs 20 on one.

Starts a real redis-server (Debian's, on a free loopback port, nothing saved) and the real desk (``opinion-desk
run``: gunicorn gthread) with ``[desk] message_queue`` on it, a shared state database (so one login works on both)
and a keyword rule (``query_key: author``, so every post naming 爆炸 under its own author is its own alert).

1. Baseline: one desk process (role all: it takes the posts, runs the rules and serves), 20 python-socketio
   clients (WebSocket, logged in through the login form).
2. Fan-out: a second desk process (``--role web`` when ``opinion-desk run --help`` lists it; else plain ``run``;
   either way with no rules and no sources, so it only serves), 200 clients, half on each process.
The two phases alternate ``--rounds`` times (the second desk stays up, idle, through later baselines), so load that
drifts on a shared machine falls on both.

Each phase pushes the same posts through the ingest API of the first process; the ratios are of ingest ->
receipt (the request that carried the post began -> a client has the ``posts`` event, or the ``alert`` it raised),
the same path in both phases. Per desk, publish -> receipt: Redis's own clock (MONITOR) times each PUBLISH on the
desk's channel, and a subscription in the same observer process says what each message was (the n-th of each is
one message). The second desk's clients hear an event only through Redis, so for them this is the queue's part;
the first desk sends to its own clients before it publishes (python-socketio's PubSubManager), so for them it is a
lower bound and may be below zero. Every client notes receipt on the same wall clock as Redis. Printed per phase:
events emitted (and emitted twice), clients that got every event, events received / expected, the latencies
(p50/p95/max), CPU seconds of each desk and of the client processes, the load average; then fan-out/baseline
ratios over all rounds.

    .venv/bin/python bench/socketio_fanout.py [--clients 200] [--baseline 20] [--posts 400] [--alerts 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import queue
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.common import (TOKEN, in_order_client, percentile, redis_server, run_supports,  # noqa: E402
                          session_cookie, start_desk, stop_process, tree_cpu_s, tree_rss_mb)

CHANNEL = "opinion-desk"  # opinion_desk.livefeed: the Redis manager's channel
EVENTS = ("posts", "alert")
RULE = ("name: 爆炸关注\ntype: keyword\nquery_key: author\nrealert: 1s\nchannels: [dashboard]\n"
        "filter:\n  keywords: [爆炸]\n")
TEXTS = ["青山县人民路积水严重，网友请求尽快排水，附近小区出行困难",
         "网传城南小学停课，家长群里说法不一，求官方说明",
         "县医院挂号难的问题又上热搜了，评论区很多人吐槽排队时间长",
         "今天的菜市场改造进度如何？摊贩说临时市场离小区太远"]


def event_key(event: str, data: Any) -> str:
    """The same key for an event on the Redis channel and at a client: the post ids of a batch, else a digest."""
    if event == "posts" and isinstance(data, list):
        return "posts:" + ",".join(str(p.get("id")) for p in data)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"{event}:" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def observe(url: str, times: str, events: str, ready) -> None:  # noqa: ANN001
    """In a process of its own: Redis's own time of each PUBLISH on the desk's channel (MONITOR: when Redis got it,
    i.e. the emit, however late this process reads it) to ``times``, one line each, and what each published message
    is, in the same order (the channel's subscription), to ``events``: ``event <TAB> posts in it <TAB> key <TAB> its
    first post's id`` (``-`` for other events). The n-th lines of the two files are the same message: Redis runs one
    command at a time."""
    import threading

    import redis

    prefix = f"PUBLISH {CHANNEL} "
    event_name = re.compile(r'"event\\*": \\*"(\w+)')  # MONITOR shows the JSON's quotes escaped
    monitor = redis.Redis.from_url(url, socket_timeout=None).monitor()
    monitor.__enter__()  # MONITOR is on before the subscription, and nothing publishes before the desk starts
    pubsub = redis.Redis.from_url(url, socket_timeout=None).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    pubsub.get_message(timeout=5)  # the subscription is in place

    def watch() -> None:
        with open(times, "a", encoding="utf-8") as f:
            try:
                for info in monitor.listen():
                    if info["command"].startswith(prefix):
                        found = event_name.search(info["command"])
                        f.write(f"{info['time']}\t{found.group(1) if found else '?'}\n")
                        f.flush()
            except redis.ConnectionError:  # redis stopped: the bench is over
                pass

    threading.Thread(target=watch, daemon=True).start()
    ready.set()
    with open(events, "a", encoding="utf-8") as f:
        try:
            for msg in pubsub.listen():
                try:
                    m = json.loads(msg["data"])
                except (TypeError, ValueError):
                    m = {}
                args = m.get("data")  # the emit's arguments: [data]
                if (m.get("method") != "emit" or m.get("event") not in EVENTS or m.get("namespace") != "/desk"
                        or not isinstance(args, list) or len(args) != 1):
                    f.write("-\t0\t-\t-\n")
                else:
                    data = args[0]
                    n = len(data) if m["event"] == "posts" else 0
                    first = (data[0]["id"] if data else "-") if m["event"] == "posts" else \
                        ((data.get("post_ids") or ["-"])[0])
                    f.write(f"{m['event']}\t{n}\t{event_key(m['event'], data)}\t{first}\n")
                f.flush()
        except redis.ConnectionError:
            pass


class Observer:
    """When each posts/alert event was published on the desk's Redis channel (Redis's clock, the same wall clock
    the clients note receipt in), and how many were published more than once; :func:`observe` does the watching."""

    def __init__(self, url: str, tmp: Path) -> None:
        ctx = mp.get_context("spawn")
        self.times, self.events = tmp / "published-times.txt", tmp / "published-events.tsv"
        self.times.touch()
        self.events.touch()
        ready = ctx.Event()
        self.proc = ctx.Process(target=observe, args=(url, str(self.times), str(self.events), ready), daemon=True)
        self.proc.start()
        if not ready.wait(30):
            raise SystemExit("bench: the Redis observer did not start within 30 s")
        self.published: dict[str, float] = {}
        self.event_of: dict[str, str] = {}
        self.posts_of: dict[str, int] = {}
        self.first_post: dict[str, str] = {}  # key -> the store id of its (first) post
        self.repeats = 0
        self.mismatched = 0

    def read(self) -> None:
        self.published.clear()
        self.repeats = 0
        times = self.times.read_text(encoding="utf-8").split("\n")[:-1]  # whole lines only
        events = self.events.read_text(encoding="utf-8").split("\n")[:-1]
        self.mismatched = 0
        for timed, line in zip(times, events):
            t, seen = timed.split("\t")
            event, n, key, first = line.split("\t")
            if event != "-" and seen != event:  # the n-th PUBLISH and the n-th message should be one
                self.mismatched += 1
            if event == "-":
                continue
            if key in self.published:
                self.repeats += 1
                continue
            self.published[key] = float(t)
            self.event_of[key] = event
            self.posts_of[key] = int(n)
            self.first_post[key] = first

    def since(self, t0: float) -> dict[str, float]:
        self.read()
        return {k: t for k, t in self.published.items() if t >= t0}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(10)


def client_proc(targets: list[str], first: int, cookie: str, ready, stop, out, progress) -> None:  # noqa: ANN001
    """One client per URL in ``targets``; notes (key -> receipt time) of every posts/alert event; puts one dict per
    client on ``out`` when ``stop`` is set."""
    import socketio

    stats = [{"client": first + i, "target": url, "got": {}, "dups": 0, "disconnects": 0, "connect_retries": 0}
             for i, url in enumerate(targets)]
    clients = []

    def handler(st: dict, event: str):  # noqa: ANN202
        def on(data, _meta=None):  # noqa: ANN001, ANN202 - live events end with {seq, epoch}
            t = time.time()  # wall clock, as Redis's MONITOR times
            key = event_key(event, data)
            if key in st["got"]:
                st["dups"] += 1
            else:
                st["got"][key] = t
                progress[st["client"]] += 1
        return on

    for st in stats:
        for attempt in range(5):  # a loaded machine may answer a handshake late; a browser tries again too
            sio = in_order_client(reconnection=False, request_timeout=30)
            for ev in EVENTS:
                sio.on(ev, handler(st, ev), namespace="/desk")
            sio.on("disconnect", lambda *_a, st=st: st.__setitem__("disconnects", st["disconnects"] + 1),
                   namespace="/desk")
            try:
                sio.connect(st["target"], namespaces=["/desk"], transports=["websocket"],
                            headers={"Cookie": f"session={cookie}"}, wait_timeout=30)
                break
            except socketio.exceptions.ConnectionError:
                st["connect_retries"] += 1
                if attempt == 4:
                    raise
                time.sleep(1)
        clients.append(sio)
    ready.release()
    stop.wait()
    for st in stats:
        out.put(dict(st))
    out.close()
    out.join_thread()
    for sio in clients:
        try:
            sio.disconnect()
        except Exception:  # noqa: BLE001 - the desk may be gone already
            pass


def push_posts(base: str, phase: str, n: int, alerts: int, rate: float) -> tuple[int, list, dict[str, float]]:
    """``n`` posts in batches of 10 at ``rate`` posts/s; ``alerts`` of them (spread evenly) name 爆炸, each under its
    own author. Returns (accepted, errors, the wall-clock time each post's request began by its store id)."""
    from opinion_desk.models import post_id

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    every = max(1, n // max(1, alerts)) if alerts else 0
    accepted, errors, batch, sent = 0, [], 10, {}
    t_next = time.monotonic()
    for start in range(0, n, batch):
        now = datetime.now(timezone.utc).isoformat()
        items = []
        for i in range(start, min(n, start + batch)):
            hot = every and i % every == 0 and i // every < alerts
            text = f"第{i}号：化工园区发生爆炸，现场浓烟" if hot else TEXTS[i % len(TEXTS)]
            items.append({"id": f"{phase}-{i}", "text": f"{text}（{phase}-{i}）", "created_at": now,
                          "author": f"网友{phase}{i}"})
        t = time.time()  # before the call: the event may beat the reply
        sent.update((post_id("ingest", it["id"]), t) for it in items)
        try:
            r = http.post(base + "/api/v1/posts", json=items, timeout=60)
            if r.status_code == 202:
                accepted += len(r.json()["ids"])
            else:
                errors.append(r.status_code)
        except requests.RequestException as e:
            errors.append(type(e).__name__)
        t_next += batch / rate
        time.sleep(max(0.0, t_next - time.monotonic()))
    return accepted, errors, sent


class Clients:
    """``targets`` (one URL per client) connected from ``nproc`` client processes (:func:`client_proc`), each
    process spread over the desks."""

    def __init__(self, targets: list[str], cookie: str, nproc: int) -> None:
        ctx = mp.get_context("spawn")
        self.n = len(targets)
        ready, self.stop, self.out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        self.progress = ctx.Array("i", self.n, lock=False)  # distinct events received, per client
        chunks = [list(range(i, self.n, nproc)) for i in range(max(1, min(nproc, self.n)))]
        self.procs = []
        t0, first = time.monotonic(), 0
        for idx in chunks:  # client numbers contiguous per process: progress[] is indexed by them
            p = ctx.Process(target=client_proc, args=([targets[i] for i in idx], first, cookie, ready, self.stop,
                                                      self.out, self.progress), daemon=True)
            p.start()
            self.procs.append(p)
            first += len(idx)
        for _ in self.procs:
            if not ready.acquire(timeout=180):
                raise SystemExit("bench: clients did not connect within 180 s")
        self.connect_s = time.monotonic() - t0

    def least_received(self) -> int:
        return min(self.progress[:self.n])

    def cpu_s(self) -> float:
        return sum(tree_cpu_s(p.pid) for p in self.procs)

    def collect(self) -> list[dict[str, Any]]:
        """Stop the clients; one stats dict per client that reported."""
        self.stop.set()
        stats = []
        while len(stats) < self.n:
            try:
                stats.append(self.out.get(timeout=60))
            except queue.Empty:
                break
        for p in self.procs:
            p.join(20)
            if p.is_alive():
                p.kill()
        return stats


def run_phase(name: str, targets: list[str], ingest: str, cookie: str, obs: Observer, args: argparse.Namespace,
              desks: list) -> dict[str, Any]:  # noqa: ANN001
    clients = Clients(targets, cookie, args.procs)
    time.sleep(2)
    rss0 = [tree_rss_mb(d.pid) for d in desks]
    cpu0 = [tree_cpu_s(d.pid) for d in desks] + [clients.cpu_s()]
    load0 = os.getloadavg()[0]
    t0 = time.time()  # the observer's clock
    accepted, errors, sent = push_posts(ingest, f"{name}{args.round}", args.posts, args.alerts, args.rate)
    send_s = time.time() - t0
    # every post and alert emitted (the Redis channel), then every client has every event, or the drain time ends
    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline:
        pub = obs.since(t0)
        n_posts = sum(obs.posts_of[k] for k in pub)
        n_alerts = sum(1 for k in pub if obs.event_of[k] == "alert")
        if n_posts >= accepted and n_alerts >= args.alerts and clients.least_received() >= len(pub):
            break
        time.sleep(0.5)
    time.sleep(1)
    rss1 = [tree_rss_mb(d.pid) for d in desks]
    cpu1 = [tree_cpu_s(d.pid) for d in desks] + [clients.cpu_s()]
    load1 = os.getloadavg()[0]
    stats = clients.collect()
    return {**summarize(stats, obs.since(t0), obs, sent), "name": f"{name} (round {args.round})",
            "clients": len(targets), "connect_s": clients.connect_s, "accepted": accepted, "errors": errors,
            "send_s": send_s, "ingest": ingest, "rss0": rss0, "rss1": rss1,
            "cpu": [b - a for a, b in zip(cpu0, cpu1)], "load": (load0, load1)}


def summarize(stats: list[dict[str, Any]], pub: dict[str, float], obs: Observer,
              sent: dict[str, float]) -> dict[str, Any]:
    """Counts and latencies of a phase: ``pub`` its events (key -> publish time), ``sent`` its posts' send times."""
    lat: dict[str, list[float]] = {}  # "posts"/"alert" + " " + desk URL -> publish -> receipt
    e2e: dict[str, list[float]] = {ev: [] for ev in EVENTS}  # ingest request -> receipt
    got = []
    for st in stats:
        mine = {k: t for k, t in st["got"].items() if k in pub}
        got.append(len(mine))
        for k, t in mine.items():
            lat.setdefault(f"{obs.event_of[k]} {st['target']}", []).append(t - pub[k])
            if obs.first_post[k] in sent:
                e2e[obs.event_of[k]].append(t - sent[obs.first_post[k]])
    return {"reported": len(stats), "emitted": len(pub), "emitted_posts": sum(obs.posts_of[k] for k in pub),
            "emitted_alerts": sum(1 for k in pub if obs.event_of[k] == "alert"),
            "got": got, "complete": sum(1 for g in got if g >= len(pub)),
            "dups": sum(st["dups"] for st in stats), "disconnects": sum(st["disconnects"] for st in stats),
            "retries": sum(st["connect_retries"] for st in stats),
            "per_target": {u: sum(1 for st in stats if st["target"] == u)
                           for u in sorted({st["target"] for st in stats})},
            "lat": lat, "e2e": e2e}


def show(label: str, xs: list[float]) -> None:
    print(f"{label}: n={len(xs)}  p50 {percentile(xs, 0.5) * 1000:.1f} ms  p95 {percentile(xs, 0.95) * 1000:.1f} ms"
          f"  max {max(xs, default=float('nan')) * 1000:.1f} ms")


def report(r: dict[str, Any]) -> None:
    got = sorted(r["got"]) or [0]
    print(f"\n== {r['name']}: {r['clients']} clients ({', '.join(f'{n} on {u}' for u, n in r['per_target'].items())}),"
          f" connected in {r['connect_s']:.1f} s; load average {r['load'][0]:.1f} -> {r['load'][1]:.1f}")
    print(f"posts accepted {r['accepted']} in {r['send_s']:.1f} s; ingest errors {len(r['errors'])}"
          f"{' ' + str(sorted(set(map(str, r['errors'])))[:5]) if r['errors'] else ''}")
    print(f"events emitted (Redis channel): {r['emitted']} ({r['emitted_posts']} posts in "
          f"{r['emitted'] - r['emitted_alerts']} posts events, {r['emitted_alerts']} alerts)")
    print(f"clients reporting {r['reported']}/{r['clients']}; with every event {r['complete']}/{r['clients']}; "
          f"events received per client min {got[0]} median {got[len(got) // 2]} max {got[-1]}; "
          f"received/expected {sum(got) / max(1, r['emitted'] * r['clients']):.4f}")
    print(f"duplicate events at clients {r['dups']}; disconnects {r['disconnects']}; connects tried again "
          f"{r['retries']}")
    for ev in EVENTS:
        show(f"ingest -> receipt, {ev}", r["e2e"][ev])
        for u in r["per_target"]:
            own = " (emits here first, then publishes)" if u == r["ingest"] else " (hears it through Redis)"
            show(f"  publish -> receipt, {ev}, clients on {u}{own}", r["lat"].get(f"{ev} {u}", []))
    print("CPU s during the phase: " + ", ".join(f"desk {i + 1} {c:.1f}" for i, c in enumerate(r["cpu"][:-1]))
          + f", client processes {r['cpu'][-1]:.1f}; desk RSS MB (master + worker): "
          + "; ".join(f"{a:.0f} -> {b:.0f}" for a, b in zip(r["rss0"], r["rss1"])))
    sys.stdout.flush()


def pooled(rs: list[dict[str, Any]], ev: str) -> list[float]:
    return [x for r in rs for x in r["e2e"][ev]]


def ratios(results: dict[str, list[dict[str, Any]]], obs: Observer, logs: dict[str, str]) -> None:
    """Fan-out / baseline over all rounds, and what the desks' logs and the Redis channel say."""
    print(f"\npublished twice on the channel: {obs.repeats}; MONITOR/subscription pairs that disagree: "
          f"{obs.mismatched}")
    bls, fans = results["baseline"], results["fanout"]
    print(f"\n== fan-out / baseline, {len(fans)} rounds pooled")
    share = [sum(r["complete"] for r in rs) / max(1, sum(r["clients"] for r in rs)) for rs in (fans, bls)]
    recv = [sum(sum(r["got"]) for r in rs) / max(1, sum(r["emitted"] * r["clients"] for r in rs)) for rs in (fans, bls)]
    print(f"clients {fans[0]['clients']} / {bls[0]['clients']} = {fans[0]['clients'] / max(1, bls[0]['clients']):.1f}x;"
          f" clients with every event {share[0]:.3f} / {share[1]:.3f}; events received/expected {recv[0]:.4f} / "
          f"{recv[1]:.4f}")
    for ev in EVENTS:
        for q in (0.5, 0.95):
            f, bl = percentile(pooled(fans, ev), q), percentile(pooled(bls, ev), q)
            print(f"{ev} p{int(q * 100)} ingest -> receipt: {f * 1000:.1f} / {bl * 1000:.1f} ms = "
                  f"{f / bl if bl > 0 else float('nan'):.2f}")
    cpu = [sum(sum(r["cpu"][:-1]) for r in rs) / max(1, sum(sum(r["got"]) for r in rs)) * 1e6 for rs in (fans, bls)]
    print(f"desk CPU per delivered event: {cpu[0]:.0f} / {cpu[1]:.0f} us = "
          f"{cpu[0] / cpu[1] if cpu[1] else float('nan'):.2f}")
    for n, text in logs.items():
        print(f"{n} log: tracebacks {text.count('Traceback')}  slow clients dropped {text.count('of unsent events')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=200, help="clients in the fan-out phase, half on each desk (200)")
    ap.add_argument("--baseline", type=int, default=20, help="clients on one desk in the baseline phase (20)")
    ap.add_argument("--posts", type=int, default=400, help="posts pushed in each phase (400)")
    ap.add_argument("--alerts", type=int, default=20, help="of them, posts that raise an alert each (20)")
    ap.add_argument("--rate", type=float, default=40, help="posts per second pushed (40)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="baseline and fan-out phases alternate this many times, so load that drifts on a shared "
                         "machine falls on both (2)")
    ap.add_argument("--procs", type=int, default=8, help="client processes (8)")
    ap.add_argument("--drain", type=float, default=90, help="seconds to wait for the last events (90)")
    args = ap.parse_args()

    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "fanout": []}
    with tempfile.TemporaryDirectory(prefix="sio-fanout-") as tmpname:
        tmp = Path(tmpname)
        (tmp / "rules").mkdir()
        (tmp / "rules" / "bench.yaml").write_text(RULE, encoding="utf-8")
        desks, obs = [], None
        role = ("--role", "web") if run_supports("--role") else ()
        with redis_server(tmp) as url:
            shared = {"desk": {"message_queue": url, "secret_key": "bench-fanout-" + tmp.name},
                      "state": {"url": f"sqlite:///{tmp / 'state.db'}"},
                      "alerting": {"group_wait": "0s"}}
            try:
                obs = Observer(url, tmp)  # before anything publishes
                a, base_a, _log_a = start_desk(tmp, str(tmp / "rules"), settings=shared, name="web1")
                desks.append(a)
                cookie = session_cookie(base_a)
                requests.post(base_a + "/api/v1/posts", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120,
                              json=[{"id": "warm", "text": "预热",
                                     "created_at": datetime.now(timezone.utc).isoformat()}])
                time.sleep(3)  # the first analysis loads the models
                base_b = ""
                print(f"Socket.IO fan-out over a Redis message queue (gunicorn gthread); the second desk runs "
                      f"`run {' '.join(role) or '(role all: --role not available yet)'}`, started after the first "
                      f"baseline (then idle, no clients, in later baselines)", flush=True)
                for args.round in range(1, args.rounds + 1):
                    results["baseline"].append(run_phase("baseline", [base_a] * args.baseline, base_a, cookie, obs,
                                                         args, desks))
                    report(results["baseline"][-1])
                    if not base_b:  # no rules, no sources: it serves only, with or without --role
                        b, base_b, _log_b = start_desk(tmp, str(tmp / "rules-web"), settings=shared, name="web2",
                                                       run_args=role, user=False)
                        desks.append(b)
                    targets = [base_a, base_b] * (args.clients // 2) + [base_a] * (args.clients % 2)
                    results["fanout"].append(run_phase("fanout", targets, base_a, cookie, obs, args, desks))
                    report(results["fanout"][-1])
            finally:
                for d in desks:
                    stop_process(d)
                if obs is not None:
                    obs.stop()
            logs = {n: (tmp / f"{n}.log").read_text(errors="replace") for n in ("web1", "web2")
                    if (tmp / f"{n}.log").exists()}
    ratios(results, obs, logs)


if __name__ == "__main__":
    main()
