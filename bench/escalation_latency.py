"""Deadline fraction crossed -> escalation arrives: at a workspace page (a real Socket.IO client of /desk, the
``escalation`` event) and at a stand-in WeCom robot with the @mention (``text.mentioned_mobile_list`` naming the
approver and the routed department's contact). p50/p95 over every escalation of N incidents with short deadlines,
against a baseline measured in the same run: a plain post ingested -> the dashboard's ``posts`` event.

The crossing time is computed from the incident's own opened_at/due (opened + fraction x (due - opened)); the
deadline checker wakes at the next crossing (incidents/service.py deadline_job), not only every tick_seconds.

Run: .venv/bin/python bench/escalation_latency.py [-n 30] [--deadline-seconds 8]
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

ROUTES = """
- department: 青山县应急管理局
  match: [人民路]
  contacts:
    - {name: 张科长, phone: "13800000001", email: zhang@qingshan.example}
"""
APPROVER_PHONE = "13900000009"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    import requests
    import socketio

    from bench.common import TOKEN, login_session, serve  # noqa: F401
    from tests.alerting.conftest import WECOM_KEY
    from tests.alerting.conftest import serve as serve_robot

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="incidents (each pushes 3 escalations: 50%%, 80%%, overdue)")
    ap.add_argument("--deadline-seconds", type=float, default=8.0, help="the response deadline of each incident")
    ap.add_argument("--baseline", type=int, default=60, help="posts for the ingest -> dashboard baseline")
    a = ap.parse_args()

    robot, robot_server = serve_robot("wecom")
    tmp = Path(tempfile.mkdtemp(prefix="escalation-latency-"))
    (tmp / "routes.yaml").write_text(ROUTES, encoding="utf-8")
    cfg = {"incidents": {"routing_file": str(tmp / "routes.yaml"), "response_hours": a.deadline_seconds / 3600,
                         "tick_seconds": 1, "escalate_at": [0.5, 0.8, 1.0]},
           "alerting": {"channels": {"值班群": {"type": "wecom", "url": f"{robot.base}/cgi-bin/webhook/send?key={WECOM_KEY}"}}}}
    try:
        with serve(tmp, cfg) as (base, token):
            run(a, base, token, login_session(base), requests, socketio, robot)
    finally:
        robot_server.shutdown()


def run(a, base, token, http, requests, socketio, robot):  # noqa: ANN001, ANN201, C901
    from bench.common import serve
    from opinion_desk import start_background
    from opinion_desk.models import post_id
    from opinion_desk.state.users import create_user

    app = serve.app  # type: ignore[attr-defined]
    start_background(app)  # the deadline checker and the outbox, as `opinion-desk run` starts them
    with app.desk.state.session_scope() as s:  # an approver with a phone to @mention
        u = create_user(s, "bench-approver", None, ["approver"], display_name="李主任", password_hash="x")
        u.phone = APPROVER_PHONE

    page_at: dict[tuple[int, str], float] = {}
    post_at: dict[str, float] = {}
    sent: dict[str, float] = {}
    sio = socketio.Client()

    def on_escalation(e, _meta=None):  # noqa: ANN001 - live events end with {seq, epoch}
        page_at.setdefault((e["incident_id"], e["kind"]), time.time())

    def on_posts(batch, _meta=None):  # noqa: ANN001
        now = time.perf_counter()
        for p in batch:
            if p["id"] in sent:
                post_at.setdefault(p["id"], now - sent[p["id"]])

    sio.on("escalation", on_escalation, namespace="/desk")
    sio.on("posts", on_posts, namespace="/desk")
    sio.connect(base, namespaces=["/desk"], transports=["websocket"], headers=http.socket_headers())
    headers = {"Authorization": f"Bearer {token}"}
    warm = {"id": "warm", "text": "预热", "created_at": datetime.now(timezone.utc).isoformat()}
    requests.post(f"{base}/api/v1/posts", json=[warm], headers=headers, timeout=30).raise_for_status()
    time.sleep(3)  # the analyzer is loaded

    # the baseline: plain posts ingested -> the dashboard's posts event, in this same run
    for i in range(a.baseline):
        item = {"id": f"base-{i}", "text": f"第{i}条：人民路今天车流正常", "created_at": datetime.now(timezone.utc).isoformat()}
        sent[post_id("ingest", item["id"])] = time.perf_counter()
        requests.post(f"{base}/api/v1/posts", json=[item], headers=headers, timeout=30).raise_for_status()
        time.sleep(0.05)

    # N incidents opened through the API, a little apart, each with three crossings
    http.headers["X-CSRF-Token"] = http.get(f"{base}/api/v1/me", timeout=10).json()["csrf_token"]
    incidents = []
    for i in range(a.n):
        r = http.post(f"{base}/api/v1/incidents", json={"title": f"人民路积水 {i}", "level": "一般"}, timeout=30)
        r.raise_for_status()
        incidents.append(r.json())
        time.sleep(a.deadline_seconds / a.n / 2)
    expected = {(d["id"], k) for d in incidents for k in ("info:0.5", "info:0.8", "info:1")}
    deadline = time.time() + a.deadline_seconds * 2 + 15
    while time.time() < deadline and not expected <= set(page_at):
        time.sleep(0.2)
    time.sleep(2)  # the robot's last deliveries
    sio.disconnect()

    crossing: dict[tuple[int, str], float] = {}
    for d in incidents:
        opened = datetime.fromisoformat(d["opened_at"].replace("Z", "+00:00")).timestamp()
        due = datetime.fromisoformat(d["info_due"].replace("Z", "+00:00")).timestamp()
        for f, k in ((0.5, "info:0.5"), (0.8, "info:0.8"), (1.0, "info:1")):
            crossing[(d["id"], k)] = opened + (due - opened) * f
    page_lat = [page_at[k] - crossing[k] for k in expected if k in page_at]

    robot_lat: list[float] = []
    mentioned_ok = 0
    for rec, mentions in zip(robot.received, robot.mentions):
        text = (rec["body"].get("text") or {}).get("content", "")
        for (iid, kind), t in crossing.items():
            pct_word = {"info:0.5": "50%", "info:0.8": "80%", "info:1": "已超时"}[kind]
            if f"事件#{iid}「" in text and pct_word in text:
                robot_lat.append(rec["at"] - t)
                mentioned_ok += sorted(mentions) == sorted(["13800000001", APPROVER_PHONE])
                break
    base_lat = list(post_at.values())

    print(f"escalations expected {len(expected)}; at the page {len(page_lat)}; at the robot {len(robot_lat)} "
          f"({mentioned_ok} with both people @mentioned by mobile); robot refusals {len(robot.rejected)}")
    print(f"baseline ingest -> dashboard posts event ({len(base_lat)} posts): p50 {pct(base_lat, .5):.0f} ms  "
          f"p95 {pct(base_lat, .95):.0f} ms")
    for name, xs in (("crossing -> workspace page (Socket.IO)", page_lat), ("crossing -> WeCom robot with @mention", robot_lat)):
        p50, p95 = pct(xs, .5), pct(xs, .95)
        print(f"{name}: p50 {p50:.0f} ms  p95 {p95:.0f} ms  = {p95 / max(pct(base_lat, .95), 1e-9):.1f}x baseline p95; "
              f"goal p95 <= 2000 ms: {'met' if p95 <= 2000 else 'MISSED'}")


if __name__ == "__main__":
    main()
