"""Post ingested -> alert on an open dashboard: p50/p95 over N posts sent one by one to the ingest API of a live
server, measured on a real Socket.IO client of /desk, against the ingest -> ``posts`` event latency of the same
posts in the same run (the baseline: what the live feed already costs).

Run: .venv/bin/python bench/alert_latency.py [-n 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RULE = "name: 关注词\ntype: keyword\nquery_key: none\nrealert: 1s\nfilter:\n  keywords: [爆炸]\n"


def main() -> None:
    import requests
    import socketio

    from bench.common import TOKEN, login_session, serve
    from opinion_desk.models import post_id

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=200)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alert-latency-"))
    (tmp / "rules").mkdir()
    (tmp / "rules" / "kw.yaml").write_text(RULE, encoding="utf-8")
    with serve(tmp, {"rules": {"dir": str(tmp / "rules")}}) as (base, token):
        run(a, base, token, login_session(base), requests, socketio, post_id)


def run(a, base, token, http, requests, socketio, post_id):  # noqa: ANN001, ANN201
    sent: dict[str, float] = {}
    post_lat: dict[str, float] = {}
    alert_lat: dict[str, float] = {}
    done = threading.Event()
    sio = socketio.Client()

    def on_posts(batch, _meta=None):  # noqa: ANN001 - live events end with {seq, epoch}
        now = time.perf_counter()
        for p in batch:
            if p["id"] in sent:
                post_lat.setdefault(p["id"], now - sent[p["id"]])

    def on_alert(al, _meta=None):  # noqa: ANN001
        now = time.perf_counter()
        for pid in al.get("post_ids", [])[:1]:
            if pid in sent:
                alert_lat.setdefault(pid, now - sent[pid])
        if len(alert_lat) >= a.n:
            done.set()

    sio.on("posts", on_posts, namespace="/desk")
    sio.on("alert", on_alert, namespace="/desk")
    sio.connect(base, namespaces=["/desk"], transports=["websocket"], headers=http.socket_headers())
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(f"{base}/api/v1/posts", json=[{"id": "warm", "text": "预热", "created_at": datetime.now(timezone.utc).isoformat()}],
                  headers=headers, timeout=30)
    time.sleep(3)  # analyzer loaded
    for i in range(a.n):
        item = {"id": f"lat-{i}", "text": f"第{i}号：化工园区发生爆炸，现场浓烟", "created_at": datetime.now(timezone.utc).isoformat()}
        sent[post_id("ingest", item["id"])] = time.perf_counter()  # before the call: the event may beat the reply
        r = requests.post(f"{base}/api/v1/posts", json=[item], headers=headers, timeout=30)
        r.raise_for_status()
        time.sleep(1.1)  # realert is 1 s: each post makes its own alert
    done.wait(30)
    sio.disconnect()

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000

    pl, al = list(post_lat.values()), list(alert_lat.values())
    print(f"posts sent {a.n}: feed events {len(pl)}, alerts {len(al)}")
    print(f"baseline ingest->posts event: p50 {pct(pl, .5):.0f} ms  p95 {pct(pl, .95):.0f} ms")
    print(f"ingest->alert on dashboard:   p50 {pct(al, .5):.0f} ms  p95 {pct(al, .95):.0f} ms  "
          f"(ratio p95 {pct(al, .95) / max(pct(pl, .95), 1e-9):.2f}x baseline; goal p95 <= 2000 ms)")


if __name__ == "__main__":
    main()
