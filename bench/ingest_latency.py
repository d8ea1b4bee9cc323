"""Time from the ingest API call to the post arriving on a Socket.IO client (p50/p95 over N posts).

The desk runs in this process on the embedded store (or ``--store elasticsearch --es-url URL``), served on a
loopback port; a real python-socketio client listens on ``/desk``. Baseline measured in the same run: the
round trip of a plain HTTP request to the same server (``GET /api/v1/health``), so the printed ratio shows what
analysis, indexing and the push add on top of one request on this (noisy, shared) machine.

    .venv/bin/python bench/ingest_latency.py [-n 200]
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import socketio  # noqa: E402

from bench.common import login_session, serve  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="posts to send (default 200)")
    ap.add_argument("--store", default="sqlite", choices=["sqlite", "elasticsearch"])
    ap.add_argument("--es-url", default="http://127.0.0.1:9250")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = {"store": {"backend": args.store}, "store.elasticsearch": {"urls": [args.es_url]}}
        with serve(Path(tmp), cfg) as (base, token):
            http = login_session(base)
            arrived: dict[str, float] = {}
            got: queue.Queue = queue.Queue()

            def on_posts(batch, _meta=None):  # noqa: ANN001, ANN202 - live events end with {seq, epoch}
                t = time.perf_counter()
                for p in batch:
                    arrived[p["id"]] = t
                got.put(len(batch))

            sio = socketio.Client()
            sio.on("posts", on_posts, namespace="/desk")
            sio.connect(base, namespaces=["/desk"], transports=["websocket"], headers=http.socket_headers())
            hdr = {"Authorization": f"Bearer {token}"}
            # warm up: first analysis loads the models
            requests.post(base + "/api/v1/posts", json=[{"id": "warm", "text": "预热", "created_at": time.time()}],
                          headers=hdr, timeout=60)
            got.get(timeout=60)

            base_rtt = []
            for _ in range(args.n):
                t0 = time.perf_counter()
                http.get(base + "/api/v1/health", timeout=10)
                base_rtt.append(time.perf_counter() - t0)

            sent: dict[str, float] = {}
            lock = threading.Lock()
            for i in range(args.n):
                item = {"id": f"lat-{i}", "text": f"青山县人民路积水严重，第{i}条，网友请求排水",
                        "created_at": datetime.now(timezone.utc).isoformat()}
                t0 = time.perf_counter()
                r = requests.post(base + "/api/v1/posts", json=[item], headers=hdr, timeout=30)
                r.raise_for_status()
                with lock:
                    sent[r.json()["ids"][0]] = t0
                time.sleep(0.01)
            deadline = time.time() + 60
            while len([k for k in sent if k in arrived]) < len(sent) and time.time() < deadline:
                time.sleep(0.05)
            sio.disconnect()

    lat = [arrived[k] - t0 for k, t0 in sent.items() if k in arrived]
    lost = len(sent) - len(lat)
    p50, p95 = pct(lat, 50) * 1000, pct(lat, 95) * 1000
    b50, b95 = pct(base_rtt, 50) * 1000, pct(base_rtt, 95) * 1000
    print(f"store: {args.store}   posts: {args.n}   arrived: {len(lat)}   lost: {lost}")
    print(f"ingest -> Socket.IO client   p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   mean {statistics.mean(lat)*1000:.1f} ms")
    print(f"baseline HTTP round trip     p50 {b50:8.1f} ms   p95 {b95:8.1f} ms")
    print(f"ratio (ingest->socket / HTTP round trip): p50 {p50 / b50:.1f}x   p95 {p95 / b95:.1f}x")


if __name__ == "__main__":
    main()
