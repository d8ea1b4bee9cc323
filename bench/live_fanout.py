"""Live-feed fan-out on the production server: 50 Socket.IO clients while posts arrive at 500 posts/s.

Starts the real desk (``opinion-desk run``: gunicorn gthread + simple-websocket, embedded store, no rules unless
``--rules DIR``) in a subprocess, logs 50 real python-socketio clients in with a session cookie (through the login
form, as the tests do), spread over a few client processes, and pushes posts through the ingest API at the given
rate for ``--seconds``. Each client reconnects on its own, sending the last ``{epoch, seq}`` it saw, and counts the
posts of every distinct live event it received (replays included). Printed: posts accepted vs received per client
(ratios), disconnects, replays and resyncs, the desk's RSS (master + worker) at start/middle/end and its ratio, and
log lines that a dev server would have shown (frames parsed as HTTP, tracebacks).

    .venv/bin/python bench/live_fanout.py [--seconds 300] [--clients 50] [--rate 500]
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing as mp
import queue
import re
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.common import TOKEN, in_order_client, session_cookie, start_desk, stop_process, tree_rss_mb  # noqa: E402

TEXTS = ["青山县人民路积水严重，网友请求尽快排水，附近小区出行困难",
         "网传城南小学停课，家长群里说法不一，求官方说明",
         "化工园区附近闻到刺鼻气味，有居民反映头晕，希望有关部门核实",
         "县医院挂号难的问题又上热搜了，评论区很多人吐槽排队时间长",
         "今天的菜市场改造进度如何？摊贩说临时市场离小区太远"]


def client_proc(base: str, cookie: str, n: int, first: int, ready, stop, out, progress) -> None:  # noqa: ANN001
    """``n`` clients in this process; puts one stats dict per client on ``out`` when ``stop`` is set."""
    def new_stats(i: int) -> dict:
        return {"client": i, "posts": 0, "events": 0, "dups": 0, "disconnects": 0, "replayed": 0, "resyncs": 0,
                "connects": 0, "seen": bytearray(), "pos": None, "reasons": {}, "lock": threading.Lock()}

    def open_client(st: dict):  # noqa: ANN202 - a python-socketio client
        """A new client for ``st`` (python-socketio's own reconnection races with its engine.io reset on a loaded
        machine, so a lost connection is replaced by a fresh client, as a browser's reconnect would be)."""
        lock = st["lock"]
        sio = in_order_client(reconnection=False)

        def mark(meta) -> bool:  # noqa: ANN001 - True when this seq is new
            seq = meta["seq"]
            with lock:
                seen = st["seen"]
                if seq >= len(seen):
                    seen.extend(bytes(seq + 4096 - len(seen)))
                if seen[seq]:
                    st["dups"] += 1
                    return False
                seen[seq] = 1
                if st["pos"] is None or seq > st["pos"]["seq"]:
                    st["pos"] = {"epoch": meta["epoch"], "seq": seq}
                return True

        def on_posts(batch, meta=None):  # noqa: ANN001, ANN202
            if meta and mark(meta):
                st["posts"] += len(batch)
                st["events"] += 1
                progress[st["client"]] = st["posts"]

        def on_live(status):  # noqa: ANN001, ANN202
            st["connects"] += 1
            st["replayed"] += status.get("replayed", 0)
            with lock:
                if st["pos"] is None or status["seq"] > st["pos"]["seq"]:
                    st["pos"] = {"epoch": status["epoch"], "seq": status["seq"]}

        def on_resync(status):  # noqa: ANN001, ANN202
            st["resyncs"] += 1
            on_live(status)

        def on_disconnect(reason=None):  # noqa: ANN001, ANN202
            st["disconnects"] += 1
            st["reasons"][str(reason)] = st["reasons"].get(str(reason), 0) + 1

        sio.on("posts", on_posts, namespace="/desk")
        sio.on("live", on_live, namespace="/desk")
        sio.on("resync", on_resync, namespace="/desk")
        sio.on("disconnect", on_disconnect, namespace="/desk")
        with lock:
            auth = dict(st["pos"]) if st["pos"] else {}
        sio.connect(base, namespaces=["/desk"], transports=["websocket"], headers={"Cookie": f"session={cookie}"},
                    auth=auth, wait_timeout=20)
        return sio

    stats = [new_stats(first + i) for i in range(n)]
    clients = [open_client(st) for st in stats]
    ready.release()

    def keep(k: int) -> None:  # replace a lost connection (each client on its own: connecting may take a while)
        while not stop.wait(0.5):
            if not clients[k].connected:
                try:
                    clients[k].disconnect()
                except Exception:  # noqa: BLE001
                    pass
                try:
                    clients[k] = open_client(stats[k])
                except Exception:  # noqa: BLE001 - the next round tries again
                    pass

    for k in range(n):
        threading.Thread(target=keep, args=(k,), daemon=True).start()
    stop.wait()
    for st in stats:  # copied before our own disconnects below (the queue pickles later)
        with st["lock"]:
            out.put(copy.deepcopy({k: v for k, v in st.items() if k not in ("seen", "pos", "lock")}))
    out.close()
    out.join_thread()  # delivered before the disconnects below, whatever they do
    for sio in clients:
        try:
            sio.disconnect()
        except Exception:  # noqa: BLE001
            pass


def sender(base: str, rate: float, seconds: float, accepted: list, errors: list, stop_at: float, idx: int,
           nsend: int) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    batch = max(1, int(rate / 10 / nsend))  # ten requests a second per sender
    interval = batch * nsend / rate
    t_next = time.monotonic()
    i = 0
    while time.monotonic() < stop_at:
        now = datetime.now(timezone.utc).isoformat()
        items = [{"id": f"fan-{idx}-{i + k}", "text": f"{TEXTS[(i + k) % len(TEXTS)]}（{idx}-{i + k}）",
                  "created_at": now} for k in range(batch)]
        i += batch
        try:
            r = http.post(base + "/api/v1/posts", json=items, timeout=30)
            if r.status_code == 202:
                accepted.append(len(r.json()["ids"]))
            else:
                errors.append(r.status_code)
        except requests.RequestException as e:
            errors.append(type(e).__name__)
        t_next += interval
        time.sleep(max(0.0, t_next - time.monotonic()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300, help="how long to push posts (default 300)")
    ap.add_argument("--clients", type=int, default=50, help="Socket.IO clients (default 50)")
    ap.add_argument("--rate", type=float, default=500, help="posts per second (default 500)")
    ap.add_argument("--procs", type=int, default=5, help="client processes (default 5)")
    ap.add_argument("--senders", type=int, default=2, help="ingest threads (default 2)")
    ap.add_argument("--rules", default=None, help="rules directory for the desk (default: none)")
    ap.add_argument("--drain", type=float, default=120, help="seconds to wait for the last events (default 120)")
    ap.add_argument("--log", default=None, help="keep the desk's log in this file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        proc, base, log = start_desk(tmp, args.rules)
        try:
            cookie = session_cookie(base)
            # warm up: the first analysis loads the models
            requests.post(base + "/api/v1/posts", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120,
                          json=[{"id": "warm", "text": "预热", "created_at": datetime.now(timezone.utc).isoformat()}])
            time.sleep(3)
            ctx = mp.get_context("spawn")
            ready, stop, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            progress = ctx.Array("q", max(1, args.clients), lock=False)  # posts received, per client
            per = [args.clients // args.procs + (1 if i < args.clients % args.procs else 0) for i in range(args.procs)]
            procs = []
            first = 0
            for n in per:
                if n:
                    p = ctx.Process(target=client_proc, args=(base, cookie, n, first, ready, stop, out, progress), daemon=True)
                    p.start()
                    procs.append(p)
                    first += n
            for _ in procs:
                ready.acquire(timeout=120)
            time.sleep(2)
            rss = {"start": tree_rss_mb(proc.pid)}
            accepted: list[int] = []
            errors: list = []
            t0 = time.monotonic()
            stop_at = t0 + args.seconds
            threads = [threading.Thread(target=sender, args=(base, args.rate, args.seconds, accepted, errors,
                                                              stop_at, i, args.senders), daemon=True)
                       for i in range(args.senders)]
            for t in threads:
                t.start()
            samples = []
            while any(t.is_alive() for t in threads):
                time.sleep(5)
                samples.append((time.monotonic() - t0, tree_rss_mb(proc.pid)))
                if len(samples) % 6 == 0:
                    try:
                        backlog = requests.get(base + "/api/v1/health", timeout=10).json().get("inbox")
                    except (requests.RequestException, ValueError):
                        backlog = "?"
                    print(f"  t={samples[-1][0]:5.0f}s  accepted {sum(accepted):7d}  desk RSS {samples[-1][1]:6.0f} MB"
                          f"  pipeline backlog (inbox) {backlog}", flush=True)
            sent_secs = time.monotonic() - t0
            rss["middle"] = samples[len(samples) // 2][1] if samples else rss["start"]
            rss["end_send"] = tree_rss_mb(proc.pid)
            total = sum(accepted)
            time.sleep(min(args.drain, 15))
            # wait until the pipeline has stored everything (the health page counts posts) or the drain time ends
            deadline = time.monotonic() + max(0.0, args.drain - 15)
            while time.monotonic() < deadline:
                try:
                    h = requests.get(base + "/api/v1/health", timeout=10).json()
                except (requests.RequestException, ValueError):
                    h = {}
                if not h.get("inbox") and not h.get("spooled"):  # the pipeline has stored everything
                    break
                time.sleep(2)
            vol = requests.get(base + "/api/v1/stats/volume?interval=1h&minutes=120", cookies={"session": cookie},
                               timeout=60).json()
            stored = sum(n for _t, n in vol.get("buckets", [])) - 1  # the desk's own count, less the warm-up post
            # and until every client has it all (reconnects replay what they missed), or the drain time ends
            deadline = time.monotonic() + args.drain
            while args.clients and min(progress[:args.clients]) < stored and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(2)
            rss["end"] = tree_rss_mb(proc.pid)
            health = requests.get(base + "/api/v1/health", timeout=10).json()
            stop.set()
            stats = []
            deadline = time.monotonic() + 180
            while len(stats) < args.clients and time.monotonic() < deadline:
                try:
                    stats.append(out.get(timeout=5))
                except queue.Empty:
                    if not any(p.is_alive() for p in procs):
                        break
            lost_procs = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            for p in procs:
                p.join(10)
                if p.is_alive():
                    p.kill()
        finally:
            stop_process(proc)
            text = log.read_text(errors="replace")
            if args.log:
                Path(args.log).write_text(text, encoding="utf-8")

    got = sorted(s["posts"] for s in stats) or [0]
    reasons: dict[str, int] = {}
    for s in stats:
        for k, v in s["reasons"].items():
            reasons[k] = reasons.get(k, 0) + v
    complete = sum(1 for s in stats if s["posts"] >= total)
    if len(stats) < args.clients:
        print(f"\n!! only {len(stats)} of {args.clients} clients reported (client process exit codes {lost_procs})")
    print(f"\nlive fan-out: {args.clients} clients, {args.rate:.0f} posts/s asked for {args.seconds:.0f} s "
          f"(production server: gunicorn gthread)")
    print(f"posts accepted {total} in {sent_secs:.0f} s = {total / sent_secs:.0f} posts/s; ingest errors: {len(errors)}"
          f"{' ' + str(sorted(set(map(str, errors)))[:5]) if errors else ''}")
    print(f"received per client (distinct events, replays included): min {got[0]}  median {got[len(got) // 2]}  "
          f"max {got[-1]}")
    print(f"posts stored by the desk (its volume API) {stored}; still in its inbox at the end: {health.get('inbox')}")
    print(f"ratio received/accepted: min {got[0] / max(1, total):.4f}  mean {sum(got) / len(got) / max(1, total):.4f}"
          f"   clients with every post: {complete}/{len(stats)}")
    print(f"ratio received/stored (the live feed alone): min {got[0] / max(1, stored):.4f}  "
          f"mean {sum(got) / len(got) / max(1, stored):.4f}   clients with every stored post: "
          f"{sum(1 for s in stats if s['posts'] >= stored)}/{len(stats)}")
    print(f"disconnects {sum(s['disconnects'] for s in stats)}  reconnects {sum(s['connects'] for s in stats) - len(stats)}"
          f"  events replayed {sum(s['replayed'] for s in stats)}  resyncs {sum(s['resyncs'] for s in stats)}"
          f"  duplicate events {sum(s['dups'] for s in stats)}  disconnect reasons {reasons}")
    print(f"desk RSS MB: start {rss['start']:.0f}  middle {rss['middle']:.0f}  end of sending {rss['end_send']:.0f}  "
          f"end {rss['end']:.0f}   ratio end/start {rss['end'] / rss['start']:.2f}")
    as_http = len(re.findall(r"HTTP/0\.9|Bad request", text))
    print(f"desk log: frames parsed as HTTP (HTTP/0.9, 'Bad request') {as_http}"
          f"  tracebacks {text.count('Traceback')}  slow clients dropped {text.count('of unsent events')}"
          f"  werkzeug lines {text.lower().count('werkzeug')}")
    if "Traceback" in text:
        i = text.index("Traceback")
        print("first traceback in the desk log:\n" + text[max(0, text.rfind("\n", 0, i - 200)):i + 1500])


if __name__ == "__main__":
    main()
